// Small page behaviours, wired by data attributes (no inline handlers, so a strict CSP holds):
//   <select data-autosubmit>                 submits its form when changed
//   <input type=checkbox data-check-all="ids"> ticks every enabled checkbox named "ids"
//   <button data-confirm="…"> / <form data-confirm="…">   asks before submitting
//   <button data-needs-ticked="ids" data-none-message="…"> refuses to submit with nothing ticked
//   <button data-set-field="action" data-set-value="withdraw">  sets a form field before submitting
//   [data-show-when="name=value"]           shown only while the named control has that value
//   <button class="menu-toggle" aria-controls="id">  opens and closes the phone menu
// Loaded in <head> without defer: the "js" class is set before the first paint, so the phone menu
// starts folded (without JavaScript it stays open); every other handler is delegated from document.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function ticked(form, name) {
    return Array.prototype.some.call(document.querySelectorAll('input[name="' + name + '"]'), function (c) {
      return c.checked && !c.disabled && (c.form === form || !form);
    });
  }
  function say(el, message) {
    var box = el.closest("form") || document.body;
    var note = box.querySelector(".js-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "error js-note";
      note.setAttribute("role", "alert");
      el.insertAdjacentElement("afterend", note);
    }
    note.textContent = message;
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-autosubmit]") && t.form) t.form.requestSubmit ? t.form.requestSubmit() : t.form.submit();
    if (t.matches("[data-check-all]")) {
      document.querySelectorAll('input[name="' + t.dataset.checkAll + '"]').forEach(function (c) {
        if (!c.disabled) c.checked = t.checked;
      });
    }
    refreshConditional();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button, input[type=submit]");
    if (!b) return;
    if (b.classList.contains("menu-toggle")) {
      var menu = document.getElementById(b.getAttribute("aria-controls"));
      var open = b.getAttribute("aria-expanded") !== "true";
      b.setAttribute("aria-expanded", open ? "true" : "false");
      if (menu) menu.classList.toggle("open", open);
      return;
    }
    if (b.dataset.needsTicked && !ticked(b.form, b.dataset.needsTicked)) {
      e.preventDefault();
      say(b, b.dataset.noneMessage || "");
      return;
    }
    if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) {
      e.preventDefault();
      return;
    }
    if (b.dataset.setField && b.form && b.form.elements[b.dataset.setField]) {
      b.form.elements[b.dataset.setField].value = b.dataset.setValue;
    }
  });
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.dataset.confirm && !e.submitter?.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });
  function refreshConditional() {
    document.querySelectorAll("[data-show-when]").forEach(function (el) {
      var parts = el.dataset.showWhen.split("=");
      var controls = document.querySelectorAll('[name="' + parts[0] + '"]');
      var value = null;
      controls.forEach(function (c) {
        if ((c.type === "radio" || c.type === "checkbox") ? c.checked : true) value = c.type === "checkbox" ? "on" : c.value;
      });
      if (value === null && controls.length && controls[0].type === "checkbox") value = "off";
      el.hidden = value !== parts[1];
    });
  }
  // A table that scrolls sideways (phones) must be reachable by keyboard to be scrolled without a mouse.
  function focusableScrollers() {
    document.querySelectorAll("table, .table-scroll, .scroll-x").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) {
        if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
      } else if (el.getAttribute("tabindex") === "0" && !el.matches("a, button, input, select, textarea")) {
        el.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    refreshConditional();
    focusableScrollers();
  });
  window.addEventListener("resize", focusableScrollers);
  document.addEventListener("htmx:afterSwap", focusableScrollers);
})();
