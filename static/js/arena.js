// The voting page (/arena): keys, the enlarged image, the prompt's "more", htmx errors.
// Keys: ←/1 left, →/2 right, ↓/3 tie, B/4 both bad, S skip; best of four: 1-4 pick that
// image, S skip; after the reveal N or Enter = next. While an image is enlarged no key votes.
(function () {
  "use strict";
  var VOTE_KEYS = {
    ArrowLeft: "left", "1": "left", ArrowRight: "right", "2": "right", ArrowDown: "tie", "3": "tie",
    b: "both_bad", B: "both_bad", "4": "both_bad", s: "skip", S: "skip"
  };
  var FOUR_KEYS = { "1": "best-0", "2": "best-1", "3": "best-2", "4": "best-3", s: "skip", S: "skip" };

  function zoomDialog() {
    return document.getElementById("zoom");
  }

  function press(action) {
    var control = document.querySelector('#battle [data-key="' + action + '"]');
    if (!control || control.disabled) return false;
    // A key can beat htmx to freshly swapped-in content; make sure the control is wired up so
    // the request goes through htmx rather than as a full page load.
    if (window.htmx) window.htmx.process(control.form || control);
    control.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var zoom = zoomDialog();
    if (zoom && zoom.open) return; // the dialog handles Escape itself; nothing else may vote
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
      // Enter on a focused button or link already acts on it; only act when nothing else would.
      if (event.key === "Enter" && target && /^(BUTTON|A)$/.test(target.tagName)) return;
      handled = press("next");
    }
    if (handled) event.preventDefault();
  });

  // Enlarging: a tap or click on an image link (data-zoom) shows the image in the dialog.
  // Without the dialog (or JavaScript) the link opens the image in a new tab instead.
  var opener = null;

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-zoom]") : null;
    var zoom = zoomDialog();
    if (!link || !zoom || typeof zoom.showModal !== "function") return;
    event.preventDefault();
    var label = link.getAttribute("data-zoom-label") || "Image";
    var image = document.getElementById("zoom-image");
    image.src = link.getAttribute("href");
    image.alt = label + ", enlarged";
    document.getElementById("zoom-caption").textContent = label;
    opener = link;
    zoom.showModal();
  });

  function wireZoom() {
    var zoom = zoomDialog();
    if (!zoom) return;
    // A tap anywhere (the image, the margins, the backdrop) closes it, as in a photo viewer;
    // the bar at the top has its own close button.
    zoom.addEventListener("click", function (event) {
      if (!event.target.closest(".zoom-bar")) zoom.close();
    });
    zoom.addEventListener("close", function () {
      if (opener && document.contains(opener)) opener.focus({ preventScroll: true });
      opener = null;
    });
  }

  // The prompt is clamped to a few lines (vote.css); "more" appears only when it is cut.
  function fitPrompt() {
    var battle = document.getElementById("battle");
    var more = battle && battle.querySelector(".prompt-more");
    var prompt = battle && battle.querySelector(".prompt");
    if (!more || !prompt) return;
    var open = more.getAttribute("aria-expanded") === "true";
    more.hidden = !open && prompt.scrollHeight <= prompt.clientHeight + 1;
  }

  document.addEventListener("click", function (event) {
    var more = event.target.closest ? event.target.closest("#battle .prompt-more") : null;
    if (!more) return;
    var open = more.getAttribute("aria-expanded") !== "true";
    more.setAttribute("aria-expanded", open ? "true" : "false");
    more.textContent = open ? "less" : "more";
    more.closest(".prompt-box").classList.toggle("expanded", open);
  });

  window.addEventListener("resize", fitPrompt);

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
  document.addEventListener("htmx:afterSwap", function () {
    var battle = document.getElementById("battle");
    if (!battle) return;
    fitPrompt();
    var focus = battle.querySelector("[autofocus]") || battle.querySelector("h1");
    if (focus) {
      if (focus.tagName === "H1") focus.setAttribute("tabindex", "-1");
      focus.focus({ preventScroll: true });
    }
  });

  wireZoom();
  fitPrompt();
})();
