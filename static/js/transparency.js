// The transparency page: each chart is drawn from the table beside it (the table stays the figure
// screen readers read), and the coarse map draws the cells the server sent (never camera positions).
(function () {
  "use strict";

  // Okabe–Ito colours: told apart with the common forms of colour blindness.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7a6a00", "#000000",
                   "#999999", "#882255", "#44AA99", "#332288"];
  const ANSWERS = ["#009E73", "#D55E00", "#999999"];

  function tableData(table) {
    const headers = Array.from(table.querySelectorAll("thead th")).slice(1);
    const charted = headers.map((th, index) => ({ index, label: th.textContent.trim(), on: th.dataset.charted === "1" }))
      .filter((column) => column.on);
    const rows = Array.from(table.querySelectorAll("tbody tr"));
    const labels = rows.map((row) => row.querySelector("th").textContent.trim());
    const datasets = charted.map((column) => ({
      label: column.label,
      data: rows.map((row) => {
        const text = row.querySelectorAll("td")[column.index].dataset.value;
        return text === "" ? null : Number(text);
      }),
    }));
    return { labels, datasets };
  }

  function drawChart(section) {
    const table = section.querySelector("table");
    const box = section.querySelector(".chart-box");
    const { labels, datasets } = tableData(table);
    const line = section.dataset.kind === "line";
    const stacked = section.dataset.stacked === "1";
    const colours = section.id === "owners-answers" ? ANSWERS : PALETTE;
    datasets.forEach((dataset, index) => {
      const colour = colours[index % colours.length];
      Object.assign(dataset, { backgroundColor: colour, borderColor: colour, borderWidth: line ? 2 : 0,
                               pointRadius: line ? 3 : 0, spanGaps: false });
    });
    box.hidden = false;
    new Chart(box.querySelector("canvas"), {
      type: line ? "line" : "bar",
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: document.documentElement.lang || "en",
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
        scales: {
          x: { stacked, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked, beginAtZero: true, ticks: { precision: section.id === "answer-time" ? 1 : 0 } },
        },
      },
    });
    // The chart now shows the figures; the table stays readable by screen readers and one click away.
    const wrapper = table.closest(".table-responsive");
    const toggle = section.querySelector(".table-toggle");
    wrapper.classList.add("visually-hidden");
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const showing = toggle.getAttribute("aria-expanded") === "true";
      wrapper.classList.toggle("visually-hidden", showing);
      toggle.setAttribute("aria-expanded", String(!showing));
      toggle.textContent = showing ? toggle.dataset.show : toggle.dataset.hide;
    });
  }

  function drawMap(element) {
    const cells = JSON.parse(document.getElementById(element.dataset.cells).textContent);
    const map = L.map(element, { scrollWheelZoom: false }).setView([parseFloat(element.dataset.lat),
                                                                      parseFloat(element.dataset.lng)], 13);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 17, attribution: element.dataset.attribution || "" }).addTo(map);
    } else {
      element.classList.add("map-no-tiles");
    }
    const most = Math.max(...cells.map((cell) => cell.cameras));
    const bounds = [];
    cells.forEach((cell) => {
      const corners = [[cell.south, cell.west], [cell.north, cell.east]];
      L.rectangle(corners, { color: "#12315c", weight: 1, fillColor: "#0072B2",
                             fillOpacity: 0.25 + 0.5 * (cell.cameras / most) })
        .bindTooltip(`${cell.cameras} ${element.dataset.label}`, { permanent: cells.length <= 40, direction: "center",
                                                                    className: "cell-count" })
        .addTo(map);
      bounds.push(...corners);
    });
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (window.Chart) document.querySelectorAll(".transparency-chart").forEach(drawChart);
    const map = document.getElementById("transparency-map");
    if (map && window.L) drawMap(map);
  });
})();
