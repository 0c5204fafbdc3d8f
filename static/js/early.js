// Runs before the first paint (loaded without defer, from <head>): CSS can tell scripted pages from
// plain ones, and the theme and row density the person picked (prefs.js stores them) apply at once,
// with no flash of the other theme or jump of the rows.
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = window.localStorage.getItem("contacts.theme");
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
    if (window.localStorage.getItem("contacts.density") === "comfortable") root.setAttribute("data-density", "comfortable");
  } catch (error) {
    // Storage switched off: the system's theme and compact rows.
  }
})();
