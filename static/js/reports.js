// Draws a report's chart from the #report-chart-data JSON (json_script): bars and lines,
// counts on the left axis and percentages on the right; a click on a bar or point opens
// the leads behind it (the drill URL the server put beside each label).
(function () {
  const canvas = document.getElementById("report-chart");
  const source = document.getElementById("report-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const chart = JSON.parse(source.textContent);
  if (!chart.labels || !chart.labels.length) return;
  const colours = ["rgba(13,110,253,.75)", "rgba(220,53,69,.9)", "rgba(25,135,84,.9)", "rgba(255,193,7,.9)"];
  const horizontal = Boolean(chart.horizontal);
  const box = canvas.parentElement;
  box.style.position = "relative";
  box.style.height = horizontal ? `${Math.max(chart.labels.length, 2) * 30 + 50}px` : "300px";
  const datasets = chart.datasets.map((d, i) => ({
    type: d.type,
    label: d.label,
    data: d.data,
    yAxisID: horizontal ? undefined : d.yAxisID,
    xAxisID: horizontal ? "x" : undefined,
    backgroundColor: colours[i % colours.length],
    borderColor: colours[i % colours.length],
    borderRadius: d.type === "bar" ? 4 : 0,
    maxBarThickness: 36,
    tension: 0.2,
    spanGaps: true,
    order: d.type === "line" ? 0 : 1,
    clip: d.type === "line" ? false : undefined, // a point at 100 % is drawn whole
  }));
  const percent = { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } };
  const scales = horizontal
    ? { x: { beginAtZero: true }, y: { ticks: { autoSkip: false } } }
    : chart.percentOnly
      ? { x: {}, y2: { ...percent, position: "left" } }
      : {
          x: { ticks: { maxRotation: 60, autoSkip: true } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
          ...(chart.percentAxis ? { y2: { ...percent, position: "right", grid: { drawOnChartArea: false } } } : {}),
        };
  new Chart(canvas, {
    data: { labels: chart.labels, datasets },
    options: {
      // Who asked for less motion (and the browser journeys' screenshots) gets the chart drawn at once.
      ...(matchMedia("(prefers-reduced-motion: reduce)").matches ? { animation: false } : {}),
      maintainAspectRatio: false,
      layout: { padding: { top: 6 } }, // room for a point at the top of the axis
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      scales,
      onClick: (_event, elements) => {
        if (!elements.length || !chart.drill) return;
        const url = chart.drill[elements[0].index];
        if (url) window.location.assign(url);
      },
      onHover: (event, elements) => {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
    },
  });
})();
