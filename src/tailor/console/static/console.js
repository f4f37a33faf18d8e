// Draws every chart on the page from the JSON figure beside it (see tailor/console/charts.py).
"use strict";
document.querySelectorAll("[data-figure]").forEach(function (el) {
  var figure = JSON.parse(document.getElementById(el.dataset.figure).textContent);
  Plotly.newPlot(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
});
