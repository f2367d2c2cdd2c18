// Dashboard charts: activity per day (line) and top intent topics (bar).
(function () {
  const el = document.getElementById("home-chart-data");
  if (!el || typeof Chart === "undefined") return;
  const data = JSON.parse(el.textContent);
  const lang = document.documentElement.lang || undefined;
  // "11/6" rather than "2026-11-06": 30 labels fit without being turned on their side.
  const dayFormat = new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric", timeZone: "UTC" });
  const longDayFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
  const asDate = (iso) => new Date(iso + "T00:00:00Z");
  const daily = document.getElementById("daily-chart");
  if (daily) {
    new Chart(daily, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [{
          data: data.counts, borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.12)", fill: true, tension: 0.3,
          pointHitRadius: 8,
          // Today is not over: its point stands out and the line to it is dashed, so a
          // morning's few events do not read as a collapse.
          pointRadius: (ctx) => (ctx.dataIndex === data.today_index ? 4 : 0),
          pointStyle: "circle",
          pointBackgroundColor: "#fff",
          segment: { borderDash: (ctx) => (ctx.p1DataIndex >= data.today_index ? [5, 4] : undefined) },
        }],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: (items) => {
            const i = items[0].dataIndex;
            const day = longDayFormat.format(asDate(data.days[i]));
            return i === data.today_index ? `${day} (${data.so_far})` : day;
          } } },
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 8, callback: (value, index) => dayFormat.format(asDate(data.days[index])) } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }
  const topics = document.getElementById("topic-chart");
  if (topics) {
    // Long topic names ("MA（マーケティングオートメーション）") are cut on the axis; the tooltip has them whole.
    const short = (label) => (label.length > 12 ? label.slice(0, 11) + "…" : label);
    new Chart(topics, {
      type: "bar",
      data: { labels: data.topics, datasets: [{ data: data.topic_counts, backgroundColor: "rgba(255,193,7,.8)", borderRadius: 4, maxBarThickness: 28 }] },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { ticks: { autoSkip: false, callback: (value, index) => short(data.topics[index]) } },
        },
      },
    });
  }
})();
