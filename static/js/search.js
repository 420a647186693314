// The top bar's search: htmx fetches the suggestions as the user types; this shows and hides
// them and lets the keyboard walk them (Arrow keys, Enter follows, Escape closes).
(function () {
  "use strict";
  var input = document.getElementById("global-search");
  var menu = document.getElementById("global-search-suggestions");
  if (!input || !menu) { return; }

  function links() { return Array.prototype.slice.call(menu.querySelectorAll("a.dropdown-item")); }
  function show() { menu.classList.toggle("show", menu.innerHTML.trim() !== "" && input.value.trim() !== ""); }
  function hide() { menu.classList.remove("show"); }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === menu) { show(); }
  });
  input.addEventListener("input", function () { if (input.value.trim() === "") { menu.innerHTML = ""; hide(); } });
  input.addEventListener("focus", show);
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && links().length) { event.preventDefault(); links()[0].focus(); }
    if (event.key === "Escape") { hide(); }
  });
  menu.addEventListener("keydown", function (event) {
    var all = links();
    var at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < all.length - 1) { event.preventDefault(); all[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); if (at > 0) { all[at - 1].focus(); } else { input.focus(); } }
    if (event.key === "Escape") { hide(); input.focus(); }
  });
  document.addEventListener("click", function (event) {
    if (!menu.contains(event.target) && event.target !== input) { hide(); }
  });
}());
