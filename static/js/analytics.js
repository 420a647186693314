// Analytics page: one bar chart per report, drawn from the JSON the page embeds (#analytics-data).
(function () {
  const charts = JSON.parse(document.getElementById("analytics-data").textContent);
  for (const c of charts) {
    const el = document.getElementById(c.id);
    if (!el) continue;
    new Chart(el, {
      type: c.type,
      data: {labels: c.labels, datasets: [{label: c.title, data: c.values, backgroundColor: "rgba(13,110,253,0.6)"}]},
      options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true}}},
    });
  }
})();
