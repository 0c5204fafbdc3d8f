// Contacts: keyboard shortcuts. "?" lists them all (the #shortcuts dialog, contacts/_shortcuts.html).
//
//   /        search the contacts (from any page: the list opens with the search box focused)
//   n        new contact (members who may edit)
//   j / k    in the list: the next / previous row gets the focus (its name link), scrolled into view
//   Enter    open the focused row's contact (on the name link, the link itself does it)
//   e        edit the focused row's contact (members who may edit)
//   x        tick or untick the focused row's checkbox (admins and owners; activation.js does the rest)
//   ?        show every shortcut
//
// None fires while typing (text fields, text areas, selects, editable text) or with Ctrl, Alt or
// Meta held, so the browser's and the system's own shortcuts keep working.
(function () {
  "use strict";

  var body = document.body;
  var dialog = document.getElementById("shortcuts");

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName)) return true;
    // Checkboxes and buttons take no text: j, k and x still work from a row's checkbox.
    return target.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(target.type);
  }

  // --- The list's rows ---------------------------------------------------------------------------
  var lastRowId = null; // the row that had the focus, found again after the rows are refreshed

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results tr[data-contact-id]"));
  }

  function focusedRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#results tr[data-contact-id]") : null;
  }

  function currentRow() {
    var row = focusedRow();
    if (row) return row;
    if (lastRowId === null) return null;
    return document.querySelector('#results tr[data-contact-id="' + CSS.escape(lastRowId) + '"]');
  }

  function focusRow(row) {
    var link = row.querySelector("a.person");
    if (!link) return;
    // Scrolled by the row (its scroll margins keep it clear of the sticky bar and table header).
    link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    lastRowId = row.dataset.contactId;
  }

  function move(step) {
    var all = rows();
    if (!all.length) return false;
    var row = currentRow();
    var index = row ? all.indexOf(row) + step : step > 0 ? 0 : all.length - 1;
    focusRow(all[Math.max(0, Math.min(all.length - 1, index))]);
    return true;
  }

  function openContact(row, edit) {
    var url = edit ? row.dataset.editUrl : row.querySelector("a.person") && row.querySelector("a.person").href;
    if (!url) return false;
    window.location.href = url;
    return true;
  }

  function toggleSelection(row) {
    var box = row.querySelector("input[data-select-row]");
    if (!box) return false;
    box.click(); // a real click: activation.js counts the selection from its click and change events
    return true;
  }

  document.addEventListener("focusin", function () {
    var row = focusedRow();
    if (row) lastRowId = row.dataset.contactId;
  });

  // --- The shortcuts dialog ----------------------------------------------------------------------
  function showShortcuts() {
    if (!dialog || dialog.open) return false;
    dialog.showModal();
    return true;
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) showShortcuts();
  });
  if (dialog) {
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
  }

  // --- The keys ----------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || (dialog && dialog.open)) return;
    var handled = false;
    var row;
    switch (event.key) {
      case "/":
        var search = document.getElementById("search");
        if (search) {
          search.focus();
          search.select();
        } else if (body.dataset.listUrl) {
          window.location.href = body.dataset.listUrl + "#search";
        }
        handled = true;
        break;
      case "n":
        if (body.dataset.newUrl) {
          window.location.href = body.dataset.newUrl;
          handled = true;
        }
        break;
      case "?":
        handled = showShortcuts();
        break;
      case "j":
        handled = move(1);
        break;
      case "k":
        handled = move(-1);
        break;
      case "Enter":
        // On a link or button, Enter is theirs (the name link opens the contact by itself).
        row = focusedRow();
        if (row && !event.target.closest("a, button")) handled = openContact(row, false);
        break;
      case "e":
        row = focusedRow();
        handled = Boolean(row) && openContact(row, true);
        break;
      case "x":
        row = focusedRow();
        handled = Boolean(row) && toggleSelection(row);
        break;
    }
    if (handled) event.preventDefault();
  });
})();
