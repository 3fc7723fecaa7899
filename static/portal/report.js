/* Charts of the service review report. The tables beside them hold the same figures, so
   the page reads the same without JavaScript and in print. */
document.addEventListener("DOMContentLoaded", function () {
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  var source = document.getElementById("report-charts");
  if (!window.Chart || !source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var text = data.text;
  var common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: "bottom" } },
    scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
  };
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    canvas.closest("figure").classList.add("report-chart-ready");
    new window.Chart(canvas, config);
  }
  draw("chart-trend", {
    type: "bar",
    data: {
      labels: data.trend.labels,
      datasets: [
        { label: text.opened, data: data.trend.opened, backgroundColor: "#1976d2" },
        { label: text.closed, data: data.trend.closed, backgroundColor: "#2e7d32" }
      ]
    },
    options: common
  });
  draw("chart-severity", {
    type: "bar",
    data: {
      labels: data.severity.labels,
      datasets: [
        { label: text.opened, data: data.severity.opened, backgroundColor: "#1976d2" },
        { label: text.closed, data: data.severity.closed, backgroundColor: "#2e7d32" }
      ]
    },
    options: common
  });
  draw("chart-hours", {
    type: "line",
    data: {
      labels: data.hours.labels,
      datasets: [
        { label: text.hours, data: data.hours.hours, borderColor: "#1976d2", backgroundColor: "#1976d2", tension: 0 }
      ].concat(data.hours.cap.length ? [  // the provider's budget line; none on a customer's report
        { label: text.cap, data: data.hours.cap, borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0 }
      ] : [])
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      scales: { y: { beginAtZero: true } }
    }
  });
});
