// List pages: the bulk bar says how many rows are ticked ("3 selected"), so a bulk action's reach is clear.
(function () {
  "use strict";
  function update() {
    document.querySelectorAll("[data-bulk-count]").forEach(function (label) {
      var name = label.getAttribute("data-bulk-count");
      var n = document.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked').length;
      label.textContent = n + " selected";
    });
  }
  document.addEventListener("change", update);
  document.addEventListener("click", function (event) {
    if (event.target.matches("input[type=checkbox][data-select-all]")) { update(); }
  });
  update();
}());
