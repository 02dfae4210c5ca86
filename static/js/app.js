// Page behaviour without inline scripts (the Content-Security-Policy allows scripts from 'self' only).
//   data-autosubmit           on a <select>: submit its form when the choice changes
//   data-confirm="question"   on a button: ask before submitting
//   data-select-all="css"     on a checkbox: tick or untick every enabled box matching the selector
//   data-set-field="name" data-set-value="v"   on a button: set the form's field before submitting
(function () {
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
    if (el.matches && el.matches("input[type=checkbox][data-select-all]")) {
      document.querySelectorAll(el.getAttribute("data-select-all")).forEach(function (box) {
        if (!box.disabled) box.checked = el.checked;
      });
    }
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm], [data-set-field]") : null;
    if (!el) return;
    if (el.hasAttribute("data-confirm") && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (el.hasAttribute("data-set-field") && el.form) {
      var field = el.form.elements[el.getAttribute("data-set-field")];
      if (field) field.value = el.getAttribute("data-set-value");
    }
  });
})();
