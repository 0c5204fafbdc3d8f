// Contacts: the little JavaScript the pages use. Every page works without it.
(function () {
  "use strict";

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

  // --- Keyboard shortcuts: "/" search, "n" new contact (never while typing). --------------------
  function isTyping(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var body = document.body;
    if (event.key === "/") {
      var search = document.getElementById("search");
      event.preventDefault();
      if (search) {
        search.focus();
        search.select();
      } else if (body.dataset.listUrl) {
        window.location.href = body.dataset.listUrl + "#search";
      }
    } else if (event.key === "n" && body.dataset.newUrl) {
      event.preventDefault();
      window.location.href = body.dataset.newUrl;
    }
  });

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

  document.addEventListener("htmx:load", function (event) { localiseTimes(event.detail.elt); });
  // live.js replaced part of the page with a colleague's change.
  document.addEventListener("contacts:replaced", function (event) { localiseTimes(event.target); });
  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    // After a failed save, put the cursor where the first correction is needed.
    var invalid = document.querySelector('form [aria-invalid="true"]') || document.querySelector("[data-autofocus]");
    if (invalid) invalid.focus();
    if (window.location.hash === "#search") {
      var search = document.getElementById("search");
      if (search) search.focus();
    }
  });
})();
