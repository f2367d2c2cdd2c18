// The threshold review's curve: acceptance of the MQLs at or above each hot threshold,
// under the current and the proposed points, with the agreed target as a line.
(function () {
  const canvas = document.getElementById("review-curve");
  const data = document.getElementById("review-curve-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  const chart = JSON.parse(data.textContent);
  const points = (rows) => rows.filter((r) => r[1] !== null).map((r) => ({ x: r[0], y: r[1] * 100, n: r[2] }));
  const current = points(chart.current);
  const proposed = points(chart.proposed);
  const xs = current.concat(proposed).map((p) => p.x);
  const datasets = [
    { label: chart.labels.current, data: current, borderColor: "rgba(108,117,125,1)", backgroundColor: "rgba(108,117,125,.2)", pointRadius: 2, tension: 0.2 },
  ];
  if (proposed.length) {
    datasets.push({ label: chart.labels.proposed, data: proposed, borderColor: "rgba(13,110,253,1)", backgroundColor: "rgba(13,110,253,.2)", pointRadius: 2, tension: 0.2 });
  }
  if (chart.target !== null && xs.length) {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    datasets.push({ label: chart.labels.target, data: [{ x: lo, y: chart.target * 100 }, { x: hi, y: chart.target * 100 }], borderColor: "rgba(220,53,69,.8)", borderDash: [6, 4], pointRadius: 0 });
  }
  new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      // Who asked for less motion (and the browser journeys' screenshots) gets the chart drawn at once.
      ...(matchMedia("(prefers-reduced-motion: reduce)").matches ? { animation: false } : {}),
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: chart.labels.x } },
        y: { min: 0, max: 100, title: { display: true, text: chart.labels.y }, ticks: { callback: (v) => `${v}%` } },
      },
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${ctx.parsed.y.toFixed(0)}%${ctx.raw.n !== undefined ? ` (n=${ctx.raw.n})` : ""}` } },
      },
    },
  });
})();
