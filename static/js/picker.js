// Search-as-you-type pickers (schools, teachers) instead of selects with thousands of options.
// Markup (accounts.forms.PickerWidget): a hidden input carrying the id, a search box with
// data-picker-url, and an empty listbox. Without script the search box is submitted as <name>_q
// and the server filters by name, so the form still works.
(function () {
  function setup(box) {
    var hidden = document.getElementById(box.dataset.pickerFor);
    var list = document.getElementById(box.getAttribute("aria-controls"));
    var timer = null;
    var seq = 0;
    function close() { list.hidden = true; list.textContent = ""; box.setAttribute("aria-expanded", "false"); }
    function choose(item) {
      hidden.value = item.id;
      box.value = item.label;
      close();
    }
    function show(items) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.tabIndex = -1;
        li.textContent = item.label;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); choose(item); } });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      box.setAttribute("aria-expanded", items.length ? "true" : "false");
    }
    box.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      var q = box.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(box.dataset.pickerUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) { if (mine === seq) show(data.results); });
      }, 200);
    });
    box.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && list.firstChild) { e.preventDefault(); list.firstChild.focus(); }
      if (e.key === "Escape") close();
    });
    box.addEventListener("blur", function () { setTimeout(close, 150); });
    // The search text is only a fallback for pages without script: a chosen id wins.
    box.form && box.form.addEventListener("submit", function () { if (hidden.value) box.disabled = true; });
  }
  document.querySelectorAll("input[data-picker-url]").forEach(setup);
})();
