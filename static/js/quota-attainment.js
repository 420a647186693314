// Quota dashboard: attainment to date against the pace to quota (#attainment-series).
(function () {
  const s = JSON.parse(document.getElementById("attainment-series").textContent);
  const datasets = [{label: "Attained", data: s.actual, borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.12)",
                     fill: true, pointRadius: 0, tension: 0.1}];
  if (s.pace.length) {
    datasets.push({label: "Pace to quota", data: s.pace, borderColor: "#adb5bd", borderDash: [6, 4], pointRadius: 0, fill: false});
  }
  new Chart(document.getElementById("attainment-chart"), {
    type: "line",
    data: {labels: s.labels, datasets: datasets},
    options: {animation: false, interaction: {mode: "index", intersect: false},
              scales: {x: {ticks: {maxTicksLimit: 8}}, y: {beginAtZero: true}}}
  });
})();
