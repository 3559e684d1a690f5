// Keyboard voting on /arena: ←/1 left, →/2 right, ↓/3 tie; best of four: 1-4 pick that image;
// after the reveal N or Enter = next.
(function () {
  "use strict";
  var VOTE_KEYS = { ArrowLeft: "left", "1": "left", ArrowRight: "right", "2": "right", ArrowDown: "tie", "3": "tie" };
  var FOUR_KEYS = { "1": "best-0", "2": "best-1", "3": "best-2", "4": "best-3" };

  function press(action) {
    var button = document.querySelector('#battle button[data-key="' + action + '"]');
    if (!button || button.disabled) return false;
    // A key can beat htmx to freshly swapped-in content; make sure the form is wired up so
    // the vote goes through htmx rather than as a full page submit.
    if (window.htmx && button.form) window.htmx.process(button.form);
    button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var battle = document.getElementById("battle");
    if (!battle) return;
    var state = battle.getAttribute("data-state");
    var handled = false;
    var keys = battle.getAttribute("data-size") === "4" ? FOUR_KEYS : VOTE_KEYS;
    if (state === "voting" && keys[event.key]) {
      handled = press(keys[event.key]);
    } else if (state === "revealed" && (event.key === "n" || event.key === "N" || event.key === "Enter")) {
      // Enter on a focused button already submits it; only act when nothing else would.
      if (event.key === "Enter" && target && target.tagName === "BUTTON") return;
      handled = press("next");
    }
    if (handled) event.preventDefault();
  });

  // htmx leaves the page as it was when a request fails (a 4xx/5xx, or no answer): say why
  // inside the battle, with the server's own message (it sends a full error page).
  function showProblem(text) {
    var battle = document.getElementById("battle");
    if (!battle) return;
    var note = document.getElementById("battle-problem");
    if (!note) {
      note = document.createElement("p");
      note.id = "battle-problem";
      note.className = "notice";
      note.setAttribute("role", "alert");
      battle.appendChild(note);
    }
    note.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var message = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var lead = doc.querySelector(".error-page .lead");
      message = lead ? lead.textContent.trim() : "";
    } catch (ignored) { message = ""; }
    if (!message) message = "That did not work (error " + xhr.status + ").";
    var wait = xhr.getResponseHeader("Retry-After");
    if (xhr.status === 429 && wait) message += " Try again in " + wait + " s.";
    showProblem(message);
  });

  document.addEventListener("htmx:sendError", function () {
    showProblem("The arena could not be reached. Check your connection and try again.");
  });

  // After an htmx swap, move focus into the new battle so keys and screen readers follow.
  document.addEventListener("htmx:afterSwap", function (event) {
    var battle = document.getElementById("battle");
    if (!battle) return;
    var focus = battle.querySelector("[autofocus]") || battle.querySelector("h1");
    if (focus) {
      if (focus.tagName === "H1") focus.setAttribute("tabindex", "-1");
      focus.focus({ preventScroll: true });
    }
  });
})();
