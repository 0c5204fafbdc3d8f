// Contacts: the progress of activation runs on the list page (optional: the page works without it).
// Each run's panel (contacts/_activations.html) follows the run through the workspace's live events
// (`activation.progress`, re-dispatched by live.js as `contacts:live`), and polls
// /w/<slug>/activations/<id>/progress/ every 2 s while no event came for 2 s (socket down, run still
// queued). Rate and time left come from successive updates. Selecting the leads to activate is
// static/js/selection.js.
(function () {
  "use strict";

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

  var plural = window.ContactsText.plural;  // static/js/app.js
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

  initProgress();
})();
