// Contacts: the person's display choices, kept in this browser (localStorage), and the phone menu.
//
// - Theme: light, dark or as the system says (the default). early.js applies a stored choice before
//   the first paint; this file wires the top bar's switch. "System" removes the attribute, so the
//   stylesheet's prefers-color-scheme query decides, and follows the system when it changes.
// - Row density of the contact list: compact (the default) or comfortable.
// - The top bar's menu button (phones): shows and hides the rest of the bar.
(function () {
  "use strict";

  var root = document.documentElement;
  var PREFS = {
    theme: { key: "contacts.theme", attribute: "data-theme", fallback: "system", values: ["light", "dark", "system"] },
    density: { key: "contacts.density", attribute: "data-density", fallback: "compact", values: ["compact", "comfortable"] }
  };

  function stored(pref) {
    try {
      var value = window.localStorage.getItem(pref.key);
      return pref.values.indexOf(value) === -1 ? pref.fallback : value;
    } catch (error) {
      return pref.fallback;
    }
  }

  function apply(pref, value) {
    if (value === pref.fallback) root.removeAttribute(pref.attribute);
    else root.setAttribute(pref.attribute, value);
  }

  function save(pref, value) {
    try {
      if (value === pref.fallback) window.localStorage.removeItem(pref.key);
      else window.localStorage.setItem(pref.key, value);
    } catch (error) {
      // Storage switched off: the choice lasts for this page only.
    }
  }

  // Each switch is a <fieldset data-pref="theme|density"> of radio buttons.
  function syncSwitches() {
    document.querySelectorAll("fieldset[data-pref]").forEach(function (group) {
      var pref = PREFS[group.dataset.pref];
      if (!pref) return;
      var value = stored(pref);
      group.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.checked = radio.value === value; });
    });
  }

  document.addEventListener("change", function (event) {
    var group = event.target.closest && event.target.closest("fieldset[data-pref]");
    var pref = group && PREFS[group.dataset.pref];
    if (!pref || pref.values.indexOf(event.target.value) === -1) return;
    apply(pref, event.target.value);
    save(pref, event.target.value);
  });

  // Another tab changed a choice: follow it.
  window.addEventListener("storage", function (event) {
    Object.keys(PREFS).forEach(function (name) {
      var pref = PREFS[name];
      if (event.key === pref.key) apply(pref, stored(pref));
    });
    syncSwitches();
  });

  // --- The phone menu --------------------------------------------------------------------------
  var button = document.querySelector("[data-menu-button]");
  var menu = document.querySelector("[data-menu]");
  function setMenu(open) {
    if (!button || !menu) return;
    button.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("is-open", open);
  }
  if (button && menu) {
    button.addEventListener("click", function () { setMenu(button.getAttribute("aria-expanded") !== "true"); });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target) && !button.contains(event.target)) setMenu(false);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
      setMenu(false);
      button.focus();
    });
  }

  syncSwitches();
  // Back/forward may restore a page whose radios show an older choice.
  window.addEventListener("pageshow", syncSwitches);
})();
