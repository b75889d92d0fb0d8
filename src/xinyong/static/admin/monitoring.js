// Trend charts of the monitoring page, drawn with Chart.js (served from /static/vendor, never a CDN).
// The figures come from the page itself (#trend-data), the same numbers as the table.
(function () {
  "use strict";
  const source = document.getElementById("trend-data");
  if (!source || !window.Chart) { return; }
  const trend = JSON.parse(source.textContent);
  const colors = ["#1f5fa8", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50",
                  "#e67e22", "#2980b9", "#9b59b6", "#f1c40f"];
  function datasets(keys) {
    return keys.map(function (key, i) {
      return { label: trend.names[key], data: trend.series[key], borderColor: colors[i % colors.length],
               backgroundColor: colors[i % colors.length], spanGaps: false, tension: 0.2 };
    });
  }
  function draw(id, keys, yTitle, percent) {
    const canvas = document.getElementById(id);
    if (!canvas) { return; }
    const chart = new window.Chart(canvas, {
      type: "line",
      data: { labels: trend.labels, datasets: datasets(keys) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: yTitle },
                       max: percent ? 100 : undefined } },
        plugins: { tooltip: { callbacks: { label: function (ctx) {
          const v = ctx.parsed.y;
          return ctx.dataset.label + "：" + (v === null ? "—" : (percent ? v.toFixed(1) + "%" : v));
        } } } }
      }
    });
    canvas.dataset.drawn = String(chart.data.datasets.length);
  }
  draw("trend-rates", trend.rates, "比率（%）", true);
  draw("trend-counts", trend.counts.concat(["score"]), "数量 / 总分", false);
}());
