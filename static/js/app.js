// Contacts: the little JavaScript the pages use. Every page works without it.
(function () {
  "use strict";

  // --- Shared with the list's scripts (selection.js, activation.js) -----------------------------
  // "1 lead", "2,500 leads".
  function plural(count, word) { return count.toLocaleString() + " " + word + (count === 1 ? "" : "s"); }
  window.ContactsText = { plural: plural };

  // --- Times: the server writes UTC; show the viewer's local time. -----------------------------
  function localiseTimes(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      var options = el.hasAttribute("data-date-only")
        ? { dateStyle: "medium" }
        : { dateStyle: "medium", timeStyle: "short" };
      el.textContent = new Intl.DateTimeFormat(undefined, options).format(when);
      el.removeAttribute("data-local-time");
    });
  }

  // --- Tag suggestions: a click completes the last comma-separated word. ----------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tag-suggestion]");
    if (!button) return;
    var field = button.closest("[data-tag-field]");
    var input = field && field.querySelector("[data-tag-input]");
    if (!input) return;
    var parts = input.value.split(",").map(function (part) { return part.trim(); });
    parts[parts.length - 1] = button.dataset.tagSuggestion;
    var chosen = parts.filter(function (part, index) { return part && parts.indexOf(part) === index; });
    if (field.hasAttribute("data-tag-submit")) {
      input.value = chosen.join(", ");
      input.form.requestSubmit();
      return;
    }
    input.value = chosen.join(", ") + ", ";
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // --- Forms that create or save: a double-click sends them once. -------------------------------
  // The second click would otherwise post the same new contact again. The guard lifts after a few
  // seconds so a request that failed in the network can be sent again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-submit-once")) return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    setTimeout(function () {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
    }, 5000);
  });
  // Back/forward restores a page from the cache with the guard still set: clear it.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
    });
  });

  // --- Workspace switcher: close the menu on Escape or a click elsewhere. ----------------------
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-dismissable][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-dismissable][open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // --- HTMX: say what happened when a partial update fails; announce new counts. ---------------
  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var text = status === 403 ? "You are not allowed to do that (403). Nothing was changed."
      : status === 404 ? "That no longer exists (404). Reload the page."
      : "Something went wrong (" + status + "). Nothing was changed; please try again.";
    toast(text);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "results") return;
    var count = event.detail.target.querySelector("[data-count]");
    var status = document.getElementById("results-status");
    if (count && status) status.textContent = count.textContent.replace(/\s+/g, " ").trim();
  });

  // --- Back to the list as you left it: the list remembers its address (filters, sort, page) --------
  // per tab, and the contact pages' links to the list (data-list-link) lead back there. The
  // browser's Back button needs none of this: it returns to the address and the scroll position.
  function listKey(path) { return "contacts.list:" + path; }
  function rememberList() {
    try { window.sessionStorage.setItem(listKey(window.location.pathname), window.location.search); } catch (error) { /* off */ }
  }
  function linkBackToList() {
    document.querySelectorAll("a[data-list-link]").forEach(function (link) {
      var search = null;
      try { search = window.sessionStorage.getItem(listKey(link.pathname)); } catch (error) { /* off */ }
      // Only the list's own query string (it starts with "?"); anything else leaves the link alone.
      if (search && /^\?[^#]*$/.test(search)) link.href = link.pathname + search;
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", function () {
    if (document.getElementById("results")) rememberList();
  });

  // --- Copy an e-mail address (the list's row actions) ------------------------------------------
  var COPIED_MS = 1800;
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var status = document.getElementById("copy-status");
    var done = function (text) {
      if (status) status.textContent = text;
      button.setAttribute("data-copied", "");
      clearTimeout(button.copiedTimer);
      button.copiedTimer = setTimeout(function () { button.removeAttribute("data-copied"); }, COPIED_MS);
    };
    if (!navigator.clipboard) {
      toast("This browser does not allow copying here. The address is " + button.dataset.copy + ".");
      return;
    }
    navigator.clipboard.writeText(button.dataset.copy).then(
      function () { done("Copied " + button.dataset.copy); },
      function () { toast("Could not copy. The address is " + button.dataset.copy + "."); }
    );
  });

  document.addEventListener("htmx:load", function (event) { localiseTimes(event.detail.elt); });
  // live.js replaced part of the page with a colleague's change.
  document.addEventListener("contacts:replaced", function (event) { localiseTimes(event.target); });
  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    if (document.getElementById("results")) rememberList();
    linkBackToList();
    // After a failed save, put the cursor where the first correction is needed.
    var invalid = document.querySelector('form [aria-invalid="true"]') || document.querySelector("[data-autofocus]");
    if (invalid) invalid.focus();
    if (window.location.hash === "#search") {
      var search = document.getElementById("search");
      if (search) search.focus();
    }
  });
})();
