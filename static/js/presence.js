// Contacts presence: who else has this workspace, or this contact, open. live.js feeds it what the
// socket says (a snapshot, someone here, someone gone); this file only keeps the list and draws it
// into the page's [data-presence] box ("workspace": avatars in the top bar; "contact": names on
// the contact's page, with a warning when a colleague edits the contact you are editing too).
(function () {
  "use strict";

  // Someone moving from one page to the next leaves and comes back within a moment: keep them
  // shown for a little while so their avatar does not flicker on every click.
  var LEAVE_GRACE_MS = 2500;

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map(function (part) { return part.charAt(0).toUpperCase(); }).join("");
  }

  // `page`: {kind, id, mode} of this page; `editing`: whether it is the contact's edit form.
  function create(box, page, editing) {
    var people = {}; // presence entry id -> {id, user, name, contact, mode}
    var me = { id: null, user: null };

    function render() {
      if (!box) return;
      var scope = box.dataset.presence;
      var byUser = {};
      Object.keys(people).forEach(function (key) {
        var person = people[key];
        if (person.id === me.id || person.user === me.user) return; // this tab, or my other tabs
        if (scope === "contact" && person.contact !== page.id) return;
        var seen = byUser[person.user];
        if (!seen || (seen.leaving && !person.leaving) || (person.mode === "editing" && !person.leaving)) byUser[person.user] = person;
      });
      var names = Object.keys(byUser).sort();
      box.replaceChildren();
      box.classList.toggle("presence--editing", names.some(function (user) { return byUser[user].mode === "editing"; }));
      if (!names.length) return;
      if (scope === "workspace") {
        var label = document.createElement("span");
        label.className = "presence__label";
        label.textContent = "Also here:";
        box.appendChild(label);
      }
      names.forEach(function (user) {
        box.appendChild(personItem(byUser[user], scope));
      });
      if (scope === "contact" && editing && box.classList.contains("presence--editing")) {
        var warning = document.createElement("span");
        warning.className = "presence__warning";
        warning.textContent = "If you both change the same field, the second save asks which value to keep.";
        box.appendChild(warning);
      }
    }

    return {
      you: function (you) { me = you || me; render(); },
      replace: function (list) {
        people = {};
        (list || []).forEach(function (person) { people[person.id] = person; });
        render();
      },
      here: function (person) {
        if (person) people[person.id] = person;
        render();
      },
      leave: function (id) {
        var person = people[id];
        if (!person) return;
        person.leaving = true;
        setTimeout(function () {
          delete people[id];
          render();
        }, LEAVE_GRACE_MS);
      },
      clear: function () { people = {}; render(); },
    };
  }

  function personItem(person, scope) {
    var item = document.createElement("span");
    item.className = "presence__person presence__person--" + person.mode;
    item.dataset.presenceUser = person.user;
    var what = person.mode === "editing" ? "is editing" : person.mode === "viewing" ? "is viewing" : "has this workspace open";
    item.title = person.name + " " + (scope === "workspace" && person.contact ? (person.mode === "editing" ? "is editing a contact" : "is looking at a contact") : what);
    var avatar = document.createElement("span");
    avatar.className = "avatar avatar--sm";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = initials(person.name) || "?";
    var text = document.createElement("span");
    text.className = scope === "workspace" ? "visually-hidden" : "presence__text";
    text.textContent = scope === "workspace" ? item.title : person.name + " " + what;
    item.appendChild(avatar);
    item.appendChild(text);
    return item;
  }

  window.ContactsPresence = { create: create };
})();
