// Contacts live updates: colleagues' changes appear without a reload, and colleagues see each other.
//
// One WebSocket per page (/ws/workspaces/<id>/). The server sends small events carrying a contact id
// and the workspace's change version; the page then re-reads what it shows through its ordinary
// address (the list's rows fragment, the contact page), so every user sees only what their role
// may see. A version that skips ahead means events were missed: the page simply re-reads.
// While the socket is down the page polls the version every 2 s and reconnects with back-off.
(function () {
  "use strict";

  var body = document.body;
  var socketPath = body.dataset.liveSocket;
  if (!socketPath || !window.WebSocket || !window.fetch) return;

  var POLL_MS = 2000;
  var HEARTBEAT_MS = parseInt(body.dataset.liveHeartbeat, 10) || 5000;
  var MAX_BACKOFF_MS = 15000;
  var ROW_FLASH_MS = 2500;

  var known = parseInt(body.dataset.liveVersion, 10) || 0;
  var socket = null;
  var attempts = 0;
  var heartbeatTimer = null;
  var pollTimer = null;
  var reconnectTimer = null;

  var contactBox = document.querySelector("[data-live-contact]");
  var page = contactBox
    ? { kind: "contact", id: contactBox.dataset.liveContact, mode: contactBox.dataset.liveMode,
        version: parseInt(contactBox.dataset.liveContactVersion, 10) || 0 }
    : { kind: document.getElementById("results") ? "list" : "other" };

  // --- Status: a small dot in the top bar says whether changes arrive by themselves. -----------
  var statusBox = document.querySelector("[data-live-status]");
  var STATUS_TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline"
  };
  var STATUS_TITLE = {
    connecting: "Connecting to live updates.",
    live: "Live: colleagues' changes appear here as they happen.",
    reconnecting: "Live updates interrupted: checking for changes every 2 seconds while reconnecting.",
    offline: "Offline: the server cannot be reached. Changes will show once it answers again."
  };
  function setStatus(state) {
    if (!statusBox) return;
    statusBox.hidden = false;
    statusBox.dataset.liveStatus = state;
    statusBox.title = STATUS_TITLE[state];
    statusBox.querySelector(".live-status__text").textContent = STATUS_TEXT[state];
  }

  // --- The socket ------------------------------------------------------------------------------
  function connect() {
    reconnectTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + window.location.host + socketPath);
    } catch (error) {
      lost();
      return;
    }
    socket = ws;
    ws.onopen = function () {
      attempts = 0;
      stopPolling();
      reportPresence();
      heartbeatTimer = setInterval(reportPresence, HEARTBEAT_MS);
    };
    ws.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event && typeof event.type === "string") handle(event);
    };
    ws.onclose = function (closing) {
      clearInterval(heartbeatTimer);
      socket = null;
      presence.clear();
      if (closing.code === 4403) {
        accessLost();
        return;
      }
      lost();
    };
  }

  function lost() {
    setStatus(attempts === 0 ? "reconnecting" : body.dataset.liveOffline ? "offline" : "reconnecting");
    startPolling();
    // Back-off with jitter, so a restarted server is not hit by every tab in the same instant.
    var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
    attempts += 1;
    reconnectTimer = setTimeout(connect, delay);
  }

  function accessLost() {
    // Signed out, removed from the workspace or deactivated: the page itself now answers
    // differently (sign-in page or "not found"). Reload once; never loop.
    var key = "contacts.live.reloaded";
    var last = parseInt(window.sessionStorage.getItem(key), 10) || 0;
    if (Date.now() - last > 30000) {
      window.sessionStorage.setItem(key, String(Date.now()));
      window.location.reload();
      return;
    }
    setStatus("offline");
  }

  function reportPresence() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    var report = page.kind === "contact"
      ? { type: "presence.here", contact: page.id, mode: page.mode }
      : { type: "presence.here", contact: null, mode: "list" };
    socket.send(JSON.stringify(report));
  }

  function handle(event) {
    switch (event.type) {
      case "hello":
        // "Live" from here, not from the socket's opening: the server says hello once this socket
        // receives the workspace's events, so a change from now on arrives as an event.
        setStatus("live");
        presence.you(event.you);
        if (event.version !== known) advanceTo(event.version, null);
        break;
      case "contact.created":
      case "contact.updated":
      case "contact.deleted":
      case "workspace.changed":
        if (typeof event.version !== "number" || event.version <= known) return; // seen already
        // A skipped version means missed events: re-read everything instead of one contact.
        var missed = event.version > known + 1 || event.type === "workspace.changed";
        advanceTo(event.version, missed ? null : event);
        break;
      case "presence.snapshot":
        presence.replace(event.people);
        break;
      case "presence.here":
        presence.here(event.person);
        break;
      case "presence.left":
        presence.leave(event.id);
        break;
      case "access.changed":
        window.location.reload(); // another role: other controls on the page
        break;
      default:
        // Other pages listen for their own events (job progress).
        document.dispatchEvent(new CustomEvent("contacts:live", { detail: event }));
    }
  }

  // `change` is one contact's event, or null: "something changed, re-read".
  function advanceTo(version, change) {
    known = Math.max(known, version);
    body.dataset.liveVersion = String(known);
    if (page.kind === "list") refreshList(change);
    else if (page.kind === "contact" && (change === null || change.id === page.id)) refreshContact(change);
  }

  // --- Polling while the socket is down --------------------------------------------------------
  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
    delete body.dataset.liveOffline;
  }
  function poll() {
    fetch(body.dataset.livePoll, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 403 || response.status === 404 || response.redirected) {
          stopPolling();
          accessLost();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (!answer) return;
        delete body.dataset.liveOffline;
        if (!socket) setStatus("reconnecting");
        if (answer.version > known) advanceTo(answer.version, null);
      })
      .catch(function () {
        body.dataset.liveOffline = "true";
        if (!socket) setStatus("offline");
      });
  }

  // New markup from the server into `element`: HTMX wires up its links, app.js localises its times.
  function replaceContent(element, html) {
    element.innerHTML = html;
    window.htmx.process(element);
    element.dispatchEvent(new CustomEvent("contacts:replaced", { bubbles: true }));
  }

  // --- The list: rows appear, change and leave in place ----------------------------------------
  var listChanges = [];
  var listBusy = false;
  var heldChanges = 0; // changes elsewhere that would move this page's rows, waiting for "show"
  var notice = document.querySelector("[data-live-notice]");
  var noticeButton = notice && notice.querySelector("[data-live-show]");

  function rowIds(root) {
    return Array.prototype.map.call(root.querySelectorAll("tr[data-contact-id]"), function (row) {
      return row.dataset.contactId;
    });
  }

  var listForce = false;

  // One fetch at a time; changes arriving meanwhile are applied by the next one.
  function refreshList(change, force) {
    listChanges.push(change);
    listForce = listForce || Boolean(force);
    if (!listBusy) fetchList();
  }

  function fetchList() {
    listBusy = true;
    var changes = listChanges;
    var force = listForce;
    listChanges = [];
    listForce = false;
    var address = window.location.pathname + window.location.search;
    fetch(address, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "HX-Request": "true", "HX-Target": "results" }
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        if (address !== window.location.pathname + window.location.search) {
          // The user moved to another filter, sort or page meanwhile: this answer is for the list
          // they left. Read the one they are on instead (below), the changes still to apply.
          listChanges = changes.concat(listChanges);
          listForce = listForce || force;
          return;
        }
        applyList(html, changes, force);
      })
      .catch(function () { /* the next event or poll tries again */ })
      .then(function () {
        listBusy = false;
        if (listChanges.length) fetchList();
      });
  }

  function applyList(html, changes, force) {
    var results = document.getElementById("results");
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    var before = rowIds(results);
    var after = rowIds(fresh);
    var resync = changes.indexOf(null) !== -1;
    var onThisPage = changes.some(function (change) {
      return change && (before.indexOf(change.id) !== -1 || after.indexOf(change.id) !== -1);
    });
    var sameRows = before.join() === after.join();
    if (force || resync || onThisPage || sameRows) {
      swapResults(results, html, changes);
      heldChanges = 0;
      showNotice();
      return;
    }
    // The change is on another page but shifts this one's rows: do not move rows under the
    // user's eyes; offer them instead.
    heldChanges += changes.length;
    showNotice();
  }

  function swapResults(results, html, changes) {
    var scroll = window.scrollY;
    var focused = document.activeElement && results.contains(document.activeElement)
      ? document.activeElement.getAttribute("href") : null;
    replaceContent(results, html);
    window.scrollTo(window.scrollX, scroll);
    if (focused) {
      var again = results.querySelector('[href="' + CSS.escape(focused) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    changes.forEach(function (change) {
      if (!change || change.type === "contact.deleted") return;
      var row = results.querySelector('tr[data-contact-id="' + CSS.escape(change.id) + '"]');
      if (!row) return;
      row.classList.add("row--changed");
      setTimeout(function () { row.classList.remove("row--changed"); }, ROW_FLASH_MS);
    });
    var count = results.querySelector("[data-count]");
    var status = document.getElementById("results-status");
    if (count && status) status.textContent = count.textContent.replace(/\s+/g, " ").trim();
  }

  function showNotice() {
    if (!notice) return;
    notice.hidden = heldChanges === 0;
    noticeButton.textContent = heldChanges === 1 ? "1 change by a colleague — show" : heldChanges + " changes by colleagues — show";
  }
  if (noticeButton) {
    noticeButton.addEventListener("click", function () {
      heldChanges = 0;
      showNotice();
      refreshList(null, true);
    });
  }

  // --- A contact's page ------------------------------------------------------------------------
  var editing = page.kind === "contact" && page.mode === "editing";
  var submitting = false;
  if (editing) {
    var form = document.querySelector("form.contact-form");
    if (form) form.addEventListener("submit", function () { submitting = true; });
  }

  function refreshContact(change) {
    if (change && change.type === "contact.deleted") {
      contactGone();
      return;
    }
    if (editing) {
      // Never touch what the user is typing: say what happened; the save merges or asks.
      if (submitting) return;
      if (change) { contactChanged(); return; }
      fetch(contactBox.dataset.liveApi, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 404) { contactGone(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (contact) { if (contact && contact.version > page.version) contactChanged(); })
        .catch(function () {});
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) { contactGone(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var changed = false;
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var update = fresh.querySelector('[data-live-region="' + region.dataset.liveRegion + '"]');
          if (!update || update.innerHTML === serverHtml(region)) return;
          serverHtmlOf.set(region, update.innerHTML);
          replaceContent(region, update.innerHTML);
          region.classList.add("region--changed");
          setTimeout(function () { region.classList.remove("region--changed"); }, ROW_FLASH_MS);
          changed = true;
        });
        if (changed) contactChanged();
      })
      .catch(function () {});
  }

  // What the server last sent for each region: times in it are rewritten to local time once
  // shown, so comparing with the live DOM would always see a difference.
  var serverHtmlOf = new WeakMap();
  function serverHtml(region) {
    return serverHtmlOf.has(region) ? serverHtmlOf.get(region) : region.innerHTML;
  }
  // Deferred scripts run before DOMContentLoaded, so the regions still hold the server's markup.
  document.querySelectorAll("[data-live-region]").forEach(function (region) {
    serverHtmlOf.set(region, region.innerHTML);
  });

  function contactChanged() {
    var banner = contactBox.querySelector("[data-live-changed]");
    if (banner) banner.hidden = false;
  }

  function contactGone() {
    var banner = contactBox.querySelector("[data-live-deleted]");
    if (banner) banner.hidden = false;
    var changed = contactBox.querySelector("[data-live-changed]");
    if (changed) changed.hidden = true;
    document.querySelectorAll("form.contact-form button[type=submit], .contact-head__actions a").forEach(function (control) {
      control.setAttribute("aria-disabled", "true");
      control.classList.add("is-disabled");
      if (control.tagName === "BUTTON") control.disabled = true;
    });
  }

  // --- Start -----------------------------------------------------------------------------------
  // Who else is here (static/js/presence.js draws it).
  var presence = window.ContactsPresence.create(document.querySelector("[data-presence]"), page, editing);
  setStatus("connecting");
  connect();
  // Back/forward restores a frozen page: re-read whatever changed meanwhile.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) poll();
  });
})();
