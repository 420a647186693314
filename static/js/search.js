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

// The command palette: "/" (outside text fields) or Ctrl-K / Cmd-K opens it; typing filters the actions and searches;
// arrows walk the results, Enter follows the first. "Log a call" opens the call form of the record on screen, or of
// the record opened last.
(function () {
  "use strict";
  var dialog = document.getElementById("command-palette");
  var input = document.getElementById("palette-input");
  var results = document.getElementById("palette-results");
  if (!dialog || !input || !results || !window.bootstrap) { return; }
  var modal = window.bootstrap.Modal.getOrCreateInstance(dialog);

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function items() { return Array.prototype.slice.call(results.querySelectorAll("a.palette-item")); }

  function openCallForm() {
    var tab = document.querySelector("[data-testid=log-tab-call]");
    if (!tab) { return false; }
    tab.click();
    tab.scrollIntoView({block: "center"});
    var field = document.querySelector("[data-testid=log-form-call] input:not([type=hidden]), [data-testid=log-form-call] textarea");
    if (field) { field.focus(); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var ctrlK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
    if (ctrlK || (event.key === "/" && !typing(event.target) && !dialog.classList.contains("show"))) {
      event.preventDefault();
      modal.show();
    }
  });
  dialog.addEventListener("shown.bs.modal", function () {
    input.value = "";
    input.focus();
    document.body.dispatchEvent(new Event("palette-open"));
  });
  input.addEventListener("keydown", function (event) {
    var all = items();
    if (event.key === "ArrowDown" && all.length) { event.preventDefault(); all[0].focus(); }
    if (event.key === "Enter" && all.length) { event.preventDefault(); all[0].click(); }
  });
  results.addEventListener("keydown", function (event) {
    var all = items();
    var at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < all.length - 1) { event.preventDefault(); all[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); if (at > 0) { all[at - 1].focus(); } else { input.focus(); } }
  });
  results.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-palette-action=log-call]");
    if (!link) { return; }
    event.preventDefault();
    modal.hide();
    if (openCallForm()) { return; }
    var recent = results.querySelector("a[data-recent]");
    if (recent) { window.location.href = recent.getAttribute("href") + "#log-call"; }
  });
  if (window.location.hash === "#log-call") {
    document.body.addEventListener("htmx:afterSwap", function once() {
      if (openCallForm()) { document.body.removeEventListener("htmx:afterSwap", once); }
    });
  }
}());
