// Small behaviours of every page, declared in the templates with data- attributes (the CSP
// allows no inline scripts nor on* handlers):
//   <select data-autosubmit>                      submits its form when changed
//   <input type="checkbox" data-select-all="ids"> ticks or unticks every checkbox named "ids"
//   <input data-select-on-click>                  selects its whole text when clicked
//   <form data-confirm="Delete it?">              asks before submitting
// and, for phones, on every page: each table cell learns its column's name (shown on the cards a
// table becomes under 576 px, see app.css), and a list's filter form (a GET form in a card) folds
// behind a "Filters" button.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var el = event.target;
    if (el.matches("input[type=checkbox][data-select-all]")) {
      var name = el.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = el.checked;
      });
    } else if (el.matches("input[data-select-on-click]")) {
      el.select();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  function labelCells(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  var phone = window.matchMedia("(max-width: 575.98px)");
  var folded = 0;

  function foldFilters(root) {
    root.querySelectorAll("main form.card[method=get]:not([data-folded])").forEach(function (form) {
      form.setAttribute("data-folded", "");
      if (!form.id) { form.id = "list-filters-" + (++folded); }
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "btn btn-outline-secondary btn-sm mb-2 d-sm-none filters-toggle";
      toggle.setAttribute("aria-controls", form.id);
      toggle.innerHTML = '<i class="bi bi-funnel" aria-hidden="true"></i> Filters';
      var open = !phone.matches;
      toggle.setAttribute("aria-expanded", String(open));
      form.classList.toggle("filters-folded", !open);
      toggle.addEventListener("click", function () {
        var nowOpen = form.classList.toggle("filters-folded") === false;
        toggle.setAttribute("aria-expanded", String(nowOpen));
      });
      form.parentNode.insertBefore(toggle, form);
    });
  }

  function enhance(root) {
    labelCells(root);
    foldFilters(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
})();
