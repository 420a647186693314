// Forecast page: the trend of the forecast categories over the snapshots (#trend-data).
(function () {
  var data = JSON.parse(JSON.parse(document.getElementById("trend-data").textContent));
  var names = {closed_won: "Closed won", commit: "Commit", best_case: "Best case", weighted: "Weighted", adjusted_commit: "Adjusted commit"};
  new Chart(document.getElementById("trend"), {
    type: "line",
    data: {labels: data.labels, datasets: Object.keys(names).map(function (k) { return {label: names[k], data: data.series[k], tension: 0.2}; })},
    options: {responsive: true, plugins: {legend: {position: "bottom"}}}
  });
})();
