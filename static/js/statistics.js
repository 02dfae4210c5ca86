// Charts of the statistics page; data comes from the page (json_script), the library from static/vendor.
(function () {
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") return;
  var d = JSON.parse(el.textContent);
  new Chart(document.getElementById("chart-units"), {
    type: "bar",
    data: { labels: d.units, datasets: [{ label: "%", data: d.pass_rate, backgroundColor: "#1d4ed8" }] },
    options: { scales: { y: { beginAtZero: true, max: 100 } }, plugins: { legend: { display: false } } },
  });
  new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: { labels: d.trend_years, datasets: [{ label: "%", data: d.trend_rate, borderColor: "#047857" }] },
    options: { scales: { y: { beginAtZero: true, max: 100 } }, plugins: { legend: { display: false } } },
  });
})();
