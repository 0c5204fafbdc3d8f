// Runs before the first paint (loaded without defer): CSS can tell scripted pages from plain ones.
document.documentElement.classList.add("js");
