// Draws the "activity by kind" bar chart from the #chart-data JSON, when both exist.
(function () {
  const canvas = document.getElementById("activity-chart");
  const data = document.getElementById("chart-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  const chart = JSON.parse(data.textContent);
  // The chart is as tall as its bars need: one kind is a short strip, not one bar filling a tall box.
  const box = document.createElement("div");
  box.style.position = "relative";
  box.style.height = `${Math.max(chart.labels.length, 2) * 26 + 40}px`;
  canvas.replaceWith(box);
  box.appendChild(canvas);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: [{ data: chart.counts, backgroundColor: "rgba(13,110,253,.75)", borderRadius: 4, maxBarThickness: 20 }],
    },
    options: {
      maintainAspectRatio: false,
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: {
        x: { beginAtZero: true, ticks: { precision: 0 } },
        y: { ticks: { autoSkip: false } },
      },
    },
  });
})();
