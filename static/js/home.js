// Dashboard charts: activity per day (line) and top intent topics (bar).
(function () {
  const el = document.getElementById("home-chart-data");
  if (!el || typeof Chart === "undefined") return;
  const data = JSON.parse(el.textContent);
  const daily = document.getElementById("daily-chart");
  if (daily) {
    new Chart(daily, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [{ data: data.counts, borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.12)", fill: true, tension: 0.3, pointRadius: 0 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  const topics = document.getElementById("topic-chart");
  if (topics) {
    new Chart(topics, {
      type: "bar",
      data: { labels: data.topics, datasets: [{ data: data.topic_counts, backgroundColor: "rgba(255,193,7,.8)", borderRadius: 4 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
})();
