// Small behaviours of every page, declared in the templates with data- attributes (the CSP
// allows no inline scripts nor on* handlers):
//   <select data-autosubmit>                      submits its form when changed
//   <input type="checkbox" data-select-all="ids"> ticks or unticks every checkbox named "ids"
//   <input data-select-on-click>                  selects its whole text when clicked
//   <form data-confirm="Delete it?">              asks before submitting
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
})();
