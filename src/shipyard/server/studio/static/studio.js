// Studio's only script: draws the Plotly figures a page carries as JSON, on load and after
// htmx swaps a fragment in. No inline scripts, so the page's CSP can forbid them.
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var spec = document.getElementById(el.dataset.plotly);
      if (!spec) return;
      var fig = JSON.parse(spec.textContent);
      el.dataset.drawn = "1";
      Plotly.newPlot(el, fig.data, fig.layout || {}, {responsive: true, displaylogo: false});
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
  // Checkbox lists that pick 2-10 items (runs to compare) keep their button honest.
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (!form || !form.dataset.pick) return;
    var n = form.querySelectorAll("input[type=checkbox]:checked").length;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = n < 2 || n > 10;
    var note = form.querySelector("[data-picked]");
    if (note) note.textContent = n + " selected";
  });
})();
