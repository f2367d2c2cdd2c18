// Draws the "activity by kind" bar chart from the #chart-data JSON, when both exist.
(function () {
  const canvas = document.getElementById("activity-chart");
  const data = document.getElementById("chart-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  const chart = JSON.parse(data.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: [{ data: chart.counts, backgroundColor: "rgba(13,110,253,.75)", borderRadius: 4 }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
