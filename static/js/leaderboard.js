// Leaderboard competition list: picking a competition with the mouse or a finger opens its
// board at once. From the keyboard, arrows only move the choice and Enter opens it, so moving
// through the list does not leave the page (the form's "Show" button works without JS).
(function () {
  "use strict";
  var SELECT = "select[data-navigate]";

  function open(select) {
    var option = select.options[select.selectedIndex];
    var url = option && option.getAttribute("data-url");
    if (url) window.location.assign(url);
  }

  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (!select || !select.matches || !select.matches(SELECT)) return;
    if (event.key === "Enter") {
      event.preventDefault();
      open(select);
    } else {
      select.setAttribute("data-keyed", "1");
    }
  });
  document.addEventListener("pointerdown", function (event) {
    var select = event.target && event.target.closest && event.target.closest(SELECT);
    if (select) select.removeAttribute("data-keyed");
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select || !select.matches || !select.matches(SELECT)) return;
    if (select.getAttribute("data-keyed") !== "1") open(select);
  });
})();
