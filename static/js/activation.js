// Contacts: activating leads from the list. Two parts, both optional (the page works without them):
//
// 1. Selection: a checkbox per row (shift-click ticks a range), "select all on this page" in the
//    header, and a bar saying what is selected, with "Select all N matching this filter" (the
//    server resolves the filter: no ids are sent then), Activate and Clear. The checkboxes belong
//    to the form #activate-form (list.html) through their `form` attribute.
// 2. Progress: each run's panel (contacts/_activations.html) follows the run through the workspace's
//    live events (`activation.progress`, re-dispatched by live.js as `contacts:live`), and polls
//    /w/<slug>/activations/<id>/progress/ every 2 s while no event came for 2 s (socket down, run
//    still queued). Rate and time left come from successive updates.
(function () {
  "use strict";

  // --- Selection -------------------------------------------------------------------------------
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

  function plural(count, word) { return count.toLocaleString() + " " + word + (count === 1 ? "" : "s"); }

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

  // --- Progress panels -------------------------------------------------------------------------
  var section = document.querySelector("[data-activations]");
  var POLL_MS = 2000;
  var TICK_MS = 500;
  var RATE_WINDOW_MS = 8000;   // the rate is measured over the updates of the last 8 s
  var RATE_MIN_SPAN_MS = 700;  // and needs updates at least this far apart
  var STALL_MS = 3000;         // no progress for this long: say so instead of a rate
  var DISMISSED_KEY = "contacts.activations.dismissed";
  var LABELS = { queued: "Queued", running: "Running", completed: "Completed", cancelled: "Cancelled", failed: "Failed" };
  var RANK = { queued: 0, running: 1, completed: 2, cancelled: 2, failed: 2 };

  var runs = {};  // run id -> {panel, run, samples, lastLive, lastPoll, polling}
  var ticker = null;

  function finished(status) { return RANK[status] === 2; }
  function now() { return window.performance.now(); }

  function dismissedIds() {
    try { return JSON.parse(window.localStorage.getItem(DISMISSED_KEY)) || []; } catch (error) { return []; }
  }
  function dismiss(id) {
    var ids = dismissedIds().filter(function (other) { return other !== id; });
    ids.push(id);
    try { window.localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids.slice(-50))); } catch (error) { /* private mode */ }
  }

  function runOf(panel) {
    return {
      id: panel.dataset.activationRun,
      status: panel.dataset.activationStatus,
      total: parseInt(panel.dataset.activationTotal, 10) || 0,
      sent: parseInt(panel.dataset.activationSent, 10) || 0,
      failed: parseInt(panel.dataset.activationFailed, 10) || 0
    };
  }

  function register(panel) {
    var state = { panel: panel, run: runOf(panel), samples: [], lastLive: 0, lastPoll: now(), polling: false, error: null };
    runs[state.run.id] = state;
    sample(state);
    paint(state);
    return state;
  }

  function addPanel(run) {
    var template = section.querySelector("template[data-activation-template]");
    var panel = template.content.querySelector("[data-activation-run]").cloneNode(true);
    var titleId = "activation-title-" + run.id;
    panel.dataset.activationRun = run.id;
    panel.setAttribute("aria-labelledby", titleId);
    panel.querySelector("[data-activation-title]").id = titleId;
    panel.querySelector("[data-activation-bar]").setAttribute("aria-labelledby", titleId);
    var cancel = panel.querySelector("form[data-activation-cancel]");
    if (cancel) cancel.action = section.dataset.activationsUrl + run.id + "/cancel/";
    section.insertBefore(panel, section.firstChild);
    section.hidden = false;
    var state = register(panel);
    announce(titleText(run) + ": started.");
    return state;
  }

  function removePanel(state) {
    delete runs[state.run.id];
    state.panel.remove();
    if (!section.querySelector("[data-activation-run]")) section.hidden = true;
  }

  // A newer state of the run; an older one arriving late (a slow poll after an event) is ignored.
  function update(state, run) {
    var old = state.run;
    if (RANK[run.status] === undefined) return;
    if (RANK[run.status] < RANK[old.status]) return;
    if (RANK[run.status] === RANK[old.status] && run.sent + run.failed < old.sent + old.failed) return;
    if (typeof run.error === "string") state.error = run.error;
    state.run = { id: old.id, status: run.status, total: run.total, sent: run.sent, failed: run.failed };
    if (run.status !== old.status) state.samples = [];  // the time it waited in the queue is no rate
    sample(state);
    paint(state);
    if (!finished(old.status) && finished(run.status)) {
      announce(titleText(state.run) + ": " + countsText(state.run) + ".");
      if (run.status === "failed" && state.error === null) poll(state);  // the reason is not in the event
    }
  }

  function sample(state) {
    var run = state.run;
    var samples = state.samples;
    var at = now();
    samples.push({ at: at, done: run.sent + run.failed });
    while (samples.length > 2 && at - samples[0].at > RATE_WINDOW_MS) samples.shift();
  }

  // Leads per second over the recent updates: null until measurable.
  function rate(state) {
    var samples = state.samples;
    if (samples.length < 2) return null;
    var first = samples[0], last = samples[samples.length - 1];
    var span = last.at - first.at;
    if (span < RATE_MIN_SPAN_MS) return null;
    return { perSecond: (last.done - first.done) / (span / 1000), span: span };
  }

  function titleText(run) {
    var leads = plural(run.total, "lead");
    return finished(run.status) ? "Activation of " + leads : "Activating " + leads;
  }

  function countsText(run) {
    var sent = run.sent.toLocaleString(), failed = run.failed.toLocaleString(), total = run.total.toLocaleString();
    if (run.status === "completed") return "Completed: " + sent + " sent, " + failed + " failed";
    if (finished(run.status)) return LABELS[run.status] + ": " + sent + " of " + total + " sent, " + failed + " failed";
    return sent + " of " + total + " sent · " + failed + " failed";
  }

  function duration(seconds) {
    seconds = Math.max(1, Math.ceil(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.ceil(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function paceText(state) {
    var run = state.run;
    if (finished(run.status)) return "";
    if (run.status === "queued") return "Waiting for a worker…";
    var remaining = run.total - run.sent - run.failed;
    if (remaining <= 0) return "Finishing…";
    var measured = rate(state);
    if (!measured) return "Measuring speed…";
    if (measured.perSecond <= 0) return measured.span >= STALL_MS ? "No progress for a few seconds…" : "Measuring speed…";
    var perSecond = measured.perSecond;
    var shown = perSecond >= 10 ? Math.round(perSecond).toLocaleString() : perSecond.toFixed(1);
    return shown + " leads/s · about " + duration(remaining / perSecond) + " left";
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function paint(state) {
    var panel = state.panel, run = state.run;
    panel.dataset.activationStatus = run.status;
    panel.dataset.activationSent = String(run.sent);
    panel.dataset.activationFailed = String(run.failed);
    panel.dataset.activationTotal = String(run.total);
    setText(panel.querySelector("[data-activation-title]"), titleText(run));
    setText(panel.querySelector("[data-activation-badge]"), LABELS[run.status]);
    setText(panel.querySelector("[data-activation-counts]"), countsText(run));
    setText(panel.querySelector("[data-activation-pace]"), paceText(state));
    var bar = panel.querySelector("[data-activation-bar]");
    bar.max = Math.max(run.total, 1);
    bar.value = run.sent + run.failed;
    var error = panel.querySelector("[data-activation-error]");
    if (state.error !== null) setText(error, state.error);
    error.hidden = !error.textContent.trim();
    var cancel = panel.querySelector("form[data-activation-cancel] button");
    if (cancel && finished(run.status)) cancel.disabled = true;
    if (!finished(run.status)) startTicking();
  }

  function announce(text) {
    var box = section.querySelector("[data-activation-announce]");
    if (box) box.textContent = text;
  }

  function progressUrl(id) { return section.dataset.activationsUrl + id + "/progress/"; }

  function poll(state) {
    if (state.polling) return;
    state.polling = true;
    state.lastPoll = now();
    fetch(progressUrl(state.run.id), { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) { removePanel(state); return null; }  // deleted meanwhile
        return response.ok && !response.redirected ? response.json() : null;
      })
      .then(function (run) { if (run && runs[run.id] === state) update(state, run); })
      .catch(function () { /* the server is down: the next tick tries again */ })
      .then(function () { state.polling = false; });
  }

  // Every half second: poll the unfinished runs nothing was heard of for 2 s; stop when all ended.
  function tick() {
    var at = now();
    var unfinished = 0;
    Object.keys(runs).forEach(function (id) {
      var state = runs[id];
      if (finished(state.run.status)) return;
      unfinished += 1;
      if (at - state.lastLive >= POLL_MS && at - state.lastPoll >= POLL_MS) poll(state);
      else setText(state.panel.querySelector("[data-activation-pace]"), paceText(state));
    });
    if (!unfinished) {
      clearInterval(ticker);
      ticker = null;
    }
  }
  function startTicking() {
    if (!ticker) ticker = setInterval(tick, TICK_MS);
  }

  function initProgress() {
    if (!section) return;
    var dismissed = dismissedIds();
    section.querySelectorAll("[data-activation-run]").forEach(function (panel) {
      if (panel.closest("template")) return;
      var id = panel.dataset.activationRun;
      if (dismissed.indexOf(id) !== -1 && finished(panel.dataset.activationStatus)) {
        panel.remove();
        return;
      }
      register(panel);
    });
    if (!section.querySelector("[data-activation-run]")) section.hidden = true;

    document.addEventListener("contacts:live", function (event) {
      var message = event.detail;
      if (!message || message.type !== "activation.progress" || !message.run || !message.run.id) return;
      var state = runs[message.run.id];
      if (!state) {
        // A run started in another tab, or by a colleague.
        if (dismissedIds().indexOf(message.run.id) !== -1) return;
        state = addPanel(message.run);
      }
      state.lastLive = now();
      update(state, message.run);
    });

    section.addEventListener("click", function (event) {
      var button = event.target.closest("[data-activation-dismiss]");
      if (!button) return;
      var panel = button.closest("[data-activation-run]");
      var state = runs[panel.dataset.activationRun];
      dismiss(panel.dataset.activationRun);
      if (state) removePanel(state);
      else panel.remove();
      var next = section.querySelector("[data-activation-run] [data-activation-dismiss]");
      var search = document.getElementById("search");
      if (next && !section.hidden) next.focus();
      else if (search) search.focus();
    });

    // Cancel without leaving the page; without JavaScript (or if this fails) the form posts itself.
    section.addEventListener("submit", function (event) {
      var cancel = event.target.closest("form[data-activation-cancel]");
      if (!cancel) return;
      event.preventDefault();
      var button = cancel.querySelector("button");
      button.disabled = true;
      fetch(cancel.action, {
        method: "POST",
        body: new FormData(cancel),
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (run) {
          var state = runs[run.id];
          if (state) update(state, run);
          // The Cancel button is gone now: keep the keyboard focus in the panel.
          if (document.activeElement === button || document.activeElement === document.body) {
            var dismissButton = cancel.closest("[data-activation-run]").querySelector("[data-activation-dismiss]");
            if (dismissButton) dismissButton.focus();
          }
        })
        .catch(function () { cancel.submit(); });
    });

    // Back/forward restores a frozen page: ask at once how the runs stand.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      Object.keys(runs).forEach(function (id) {
        if (!finished(runs[id].run.status)) poll(runs[id]);
      });
    });
  }

  initSelection();
  initProgress();
})();
