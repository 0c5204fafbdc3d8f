// Contacts: selecting leads in the list to activate them (admins and owners get the checkboxes; the
// page works without this script). A checkbox per row (shift-click ticks a range), "select all on
// this page" in the header, and a bar saying what is selected, with "Select all N matching this
// filter" (the server resolves the filter: no ids are sent then), Activate and Clear. The
// checkboxes belong to the form #activate-form (list.html) through their `form` attribute. The
// runs' progress panels are static/js/activation.js.
(function () {
  "use strict";

  var form = document.getElementById("activate-form");
  var results = document.getElementById("results");

  var selected = new Set();     // ids of the ticked rows, kept across live refreshes of the rows
  var allMatching = false;      // "all N matching this filter" instead of the ticked ids
  var shownQuery = null;        // the query the rows are for: another one clears the selection
  var lastClicked = null;       // the row id a shift-click ranges from
  var focusedBox = null;        // the checkbox with focus ("page" or a row id), to restore after a swap

  function selectBoxOf(target) {
    var hit = target.closest && target.closest(".select-hit, input[data-select-row], input[data-select-page]");
    if (!hit) return null;
    return hit.matches("input") ? hit : hit.querySelector("input[data-select-row], input[data-select-page]");
  }
  function boxKey(box) { return box.matches("input[data-select-page]") ? "page" : box.value; }

  function table() { return results && results.querySelector("table[data-selectable]"); }
  function rowBoxes() { return results ? Array.prototype.slice.call(results.querySelectorAll("input[data-select-row]")) : []; }
  function pageBox() { return results && results.querySelector("input[data-select-page]"); }
  function matchingCount() {
    var rows = table();
    return rows ? parseInt(rows.dataset.matching, 10) || 0 : 0;
  }

  var plural = window.ContactsText.plural;  // static/js/app.js

  function setAllMatching(on) {
    allMatching = on;
    var input = form.querySelector("[data-bulk-all-input]");
    input.disabled = !on;
    // In "all matching" mode the ids are not sent: the server resolves the filter itself.
    rowBoxes().forEach(function (box) {
      if (on) box.removeAttribute("name");
      else box.setAttribute("name", "contact_ids");
    });
  }

  function readSelection() {
    rowBoxes().forEach(function (box) {
      if (box.checked) selected.add(box.value);
      else selected.delete(box.value);
    });
  }

  function render() {
    var boxes = rowBoxes();
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    var header = pageBox();
    if (header) {
      header.checked = boxes.length > 0 && ticked === boxes.length;
      header.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var matching = matchingCount();
    var count = allMatching ? matching : selected.size;
    form.classList.toggle("is-active", count > 0);
    form.classList.toggle("is-all-matching", allMatching);
    var summary = form.querySelector("[data-bulk-summary]");
    var text = allMatching ? "All " + matching.toLocaleString() + " matching this filter selected" : count.toLocaleString() + " selected";
    if (summary.textContent !== text) summary.textContent = text;
    var all = form.querySelector("[data-bulk-all]");
    var offerAll = !allMatching && boxes.length > 0 && ticked === boxes.length && matching > boxes.length;
    all.hidden = !offerAll;
    if (offerAll) all.textContent = "Select all " + matching.toLocaleString() + " matching this filter";
    var submit = form.querySelector("[data-bulk-submit]");
    submit.textContent = allMatching ? "Activate all " + matching.toLocaleString() : "Activate";
  }

  // After the rows were replaced (a colleague's change, a run turning leads active, a new page):
  // tick again what was ticked and is still shown, and give the focus back to its checkbox.
  function rowsReplaced() {
    var rows = table();
    var query = rows ? rows.dataset.query : null;
    if (query !== shownQuery) {
      // Another search, filter, sort or page: start afresh.
      shownQuery = query;
      selected.clear();
      lastClicked = null;
      if (allMatching) setAllMatching(false);
    }
    var present = new Set();
    rowBoxes().forEach(function (box) {
      present.add(box.value);
      box.checked = selected.has(box.value);
      if (allMatching) box.removeAttribute("name");
    });
    selected.forEach(function (id) { if (!present.has(id)) selected.delete(id); });
    if (focusedBox && (!document.activeElement || document.activeElement === document.body)) {
      var again = focusedBox === "page" ? pageBox()
        : results.querySelector('input[data-select-row][value="' + CSS.escape(focusedBox) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    render();
  }

  function initSelection() {
    if (!form || !results) return;
    shownQuery = table() ? table().dataset.query : null;
    readSelection();
    render();

    results.addEventListener("click", function (event) {
      var box = event.target.closest("input[data-select-row]");
      if (!box) return;
      // The click has already toggled it. Shift extends from the last clicked row to this one.
      var boxes = rowBoxes();
      var from = lastClicked === null ? -1 : boxes.findIndex(function (other) { return other.value === lastClicked; });
      if (event.shiftKey && from !== -1) {
        if (window.getSelection) window.getSelection().removeAllRanges();  // shift-click also selects text
        var to = boxes.indexOf(box);
        var low = Math.min(from, to), high = Math.max(from, to);
        for (var index = low; index <= high; index += 1) boxes[index].checked = box.checked;
      }
      lastClicked = box.value;
      if (!box.checked && allMatching) setAllMatching(false);
      readSelection();
      render();
    });
    results.addEventListener("change", function (event) {
      if (event.target.matches("input[data-select-page]")) {
        var on = event.target.checked;
        rowBoxes().forEach(function (box) { box.checked = on; });
        if (!on && allMatching) setAllMatching(false);
      }
      if (event.target.matches("input[data-select-page], input[data-select-row]")) {
        readSelection();
        render();
      }
    });
    // A refresh of the rows between the press and the release of a pointer or the space bar
    // (while a run goes on they refresh a few times a second) swallows the click: the browser
    // only clicks when both land on the same element. Click the checkbox that replaced it.
    var pressed = null;
    function pressStart(event) {
      var box = selectBoxOf(event.target);
      pressed = box ? { key: boxKey(box), element: box } : null;
    }
    function pressEnd(event) {
      var was = pressed;
      pressed = null;
      if (!was || results.contains(was.element)) return;  // not replaced: the browser clicks as usual
      var box = selectBoxOf(event.target);
      if (box && boxKey(box) === was.key) box.click();
    }
    results.addEventListener("pointerdown", pressStart);
    results.addEventListener("pointerup", pressEnd);
    results.addEventListener("keydown", function (event) { if (event.key === " ") pressStart(event); });
    results.addEventListener("keyup", function (event) { if (event.key === " ") pressEnd(event); });

    results.addEventListener("focusin", function (event) {
      var box = event.target;
      focusedBox = box.matches("input[data-select-page]") ? "page" : box.matches("input[data-select-row]") ? box.value : null;
    });
    document.addEventListener("focusin", function (event) {
      if (!results.contains(event.target)) focusedBox = null;
    });

    form.querySelector("[data-bulk-all]").addEventListener("click", function () {
      setAllMatching(true);
      render();
      form.querySelector("[data-bulk-submit]").focus();
    });
    // Clear is a reset button (it works without JavaScript too); the ticks are gone after the event.
    form.addEventListener("reset", function () {
      var fromBar = form.contains(document.activeElement);
      setTimeout(function () {
        setAllMatching(false);
        selected.clear();
        lastClicked = null;
        rowBoxes().forEach(function (box) { box.checked = false; });
        render();
        // The bar (and the focused Clear button) is hidden now: keep the keyboard focus in the list.
        var header = pageBox();
        if (fromBar && header) header.focus({ preventScroll: true });
      }, 0);
    });
    // Escape in the list or the bar clears the selection.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !form.classList.contains("is-active")) return;
      if (!results.contains(event.target) && !form.contains(event.target)) return;
      form.reset();
    });

    document.addEventListener("contacts:replaced", function (event) {
      if (event.target === results) rowsReplaced();
    });
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target === results) rowsReplaced();
    });
    // Back/forward restores the page as it was; the browser may have restored ticks too.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      selected.clear();
      readSelection();
      render();
    });
  }

  initSelection();
})();
