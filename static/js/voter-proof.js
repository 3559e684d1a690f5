// A new voter's proof of work (ALTCHA v1, SHA-256), solved in the background on /arena.
// The page carries #voter-proof only while this voter is unverified: fetch a challenge, find
// the number n with sha256(salt + n) == challenge, POST it to verify. A vote sent before that
// finishes waits for it (htmx:confirm), so nobody sees a step; it takes well under a second.
(function () {
  "use strict";
  var marker = document.getElementById("voter-proof");
  if (!marker) return;
  var BATCH = 256;

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // Plain SHA-256 for pages served over http:// to another host (no crypto.subtle there).
  var K = [];
  (function () {
    var n = 2, found = 0;
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) >>> 0; }
    while (found < 64) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
      if (prime) K[found++] = frac(Math.cbrt(n));
      n++;
    }
  })();
  function sha256Plain(text) {
    var bytes = new TextEncoder().encode(text), len = bytes.length, words = [];
    var total = ((len + 9 + 63) >> 6) << 4;
    for (var i = 0; i < total; i++) words[i] = 0;
    for (i = 0; i < len; i++) words[i >> 2] |= bytes[i] << (24 - 8 * (i & 3));
    words[len >> 2] |= 0x80 << (24 - 8 * (len & 3));
    words[total - 1] = len * 8;
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    function rotr(x, r) { return (x >>> r) | (x << (32 - r)); }
    for (var block = 0; block < total; block += 16) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) w[t] = words[block + t];
        else w[t] = (w[t - 16] + (rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3)) + w[t - 7] +
          (rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10))) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (t = 0; t < 64; t++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h = [h[0] + a, h[1] + b, h[2] + c, h[3] + d, h[4] + e, h[5] + f, h[6] + g, h[7] + k].map(function (x) { return x | 0; });
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }

  function digest(text) {
    if (window.crypto && window.crypto.subtle) {
      return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
    }
    return Promise.resolve(sha256Plain(text));
  }

  // Try numbers from 0 to maxnumber, BATCH digests at a time; resolves with the number.
  function solve(c) {
    function batch(start) {
      if (start > c.maxnumber) return Promise.reject(new Error("no solution"));
      var tries = [];
      for (var n = start; n < start + BATCH && n <= c.maxnumber; n++) tries.push(digest(c.salt + n));
      return Promise.all(tries).then(function (hashes) {
        var at = hashes.indexOf(c.challenge);
        return at >= 0 ? start + at : batch(start + BATCH);
      });
    }
    return batch(0);
  }

  function json(response) {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  var started = performance.now();
  var ready = fetch(marker.getAttribute("data-challenge"), { credentials: "same-origin" })
    .then(json)
    .then(function (c) {
      return solve(c).then(function (number) {
        var payload = { algorithm: c.algorithm, challenge: c.challenge, number: number, salt: c.salt, signature: c.signature };
        return fetch(marker.getAttribute("data-verify"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ altcha: btoa(JSON.stringify(payload)) }),
        });
      });
    })
    .then(json)
    .then(function () { marker.setAttribute("data-solved-ms", String(Math.round(performance.now() - started))); })
    .catch(function () { marker.setAttribute("data-failed", "true"); }) // the vote then says why
    .then(function () { done = true; });
  var done = false;

  // A vote sent before the proof is in waits for it; further clicks meanwhile are dropped.
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (done || !form || !form.classList || !form.classList.contains("vote-buttons")) return;
    event.preventDefault();
    if (form.getAttribute("data-waiting")) return;
    form.setAttribute("data-waiting", "true");
    var submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    if (submitter && submitter.name) {
      var keep = document.createElement("input");
      keep.type = "hidden";
      keep.name = submitter.name;
      keep.value = submitter.value;
      form.appendChild(keep);
    }
    ready.then(function () { event.detail.issueRequest(true); });
  });
})();
