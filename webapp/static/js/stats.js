/* QReady 质评通 — the regulator statistics' charts (Apache ECharts, vendored). The figures come from the
 * page's JSON block, the same as the tables under each chart; a hidden figure ("< 5", "suppressed")
 * is left out of the chart (a gap), never drawn as a number. */
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || !window.echarts) return;
  var payload = JSON.parse(holder.textContent);
  var D = payload.data;
  var L = payload.labels;
  var charts = [];
  var colors = { ready: "#1f7a3f", near: "#9a6200", not_ready: "#b3261e", one: "#1a5fb4", two: "#8a8f98" };

  function num(x) {
    return typeof x === "number" ? x : null;
  }

  function short(name, n) {
    n = n || 18;
    return name.length > n ? name.slice(0, n - 1) + "…" : name;
  }

  function make(id, option, rows) {
    var el = document.getElementById(id);
    if (!el) return;
    // nothing to draw (no rows, or every figure hidden as "< 5"): no empty frame; the table says it all
    var drawn = (option.series || []).some(function (s) {
      return s.data.some(function (v) { return typeof v === "number" && v !== 0; });
    });
    if (rows === 0 || !drawn) {
      el.hidden = true;
      return;
    }
    var chart = echarts.init(el, null, { renderer: "svg" });
    option.aria = { enabled: true };
    option.animation = false;
    option.tooltip = option.tooltip || { trigger: "axis" };
    // the page's fonts, so that ECharts measures the labels as they are drawn (a Chinese page draws “ ”
    // full width; measured in the default font they came out narrower and the axis labels were clipped)
    option.textStyle = { fontFamily: window.getComputedStyle(document.body).fontFamily };
    chart.setOption(option);
    charts.push(chart);
  }

  function fit(id, rows) {
    // a horizontal bar chart grows with its rows, so that every label stays readable
    var el = document.getElementById(id);
    if (el) el.style.height = Math.max(220, rows * 26 + 60) + "px";
  }

  function hbar(id, rows, label, value, color, name) {
    var names = rows.map(label);
    fit(id, rows.length);
    make(
      id,
      {
        grid: { left: 20, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: names, inverse: true, axisLabel: { formatter: function (s) { return short(s, 30); } } },
        series: [{ type: "bar", name: name || L.firms, data: rows.map(value), itemStyle: { color: color } }]
      },
      rows.length
    );
  }

  function modeSuffix(x) {
    // the mode's own title may say it is a screening already (performance-excellence 1.1: "快速自评（初筛）")
    var said = x.mode_title && x.mode_title.indexOf(L.screening) >= 0;
    return x.mode_title ? " · " + x.mode_title + (x.screening && !said ? " (" + L.screening + ")" : "") : "";
  }

  make(
    "chart-quarters",
    {
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: D.quarters.map(function (q) { return q.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { type: "bar", name: L.firms, data: D.quarters.map(function (q) { return num(q.firms); }), itemStyle: { color: colors.one } },
        { type: "bar", name: L.assessments, data: D.quarters.map(function (q) { return num(q.assessments); }), itemStyle: { color: colors.two } }
      ]
    },
    D.quarters.length
  );

  fit("chart-readiness", D.readiness.length);
  var targets = D.readiness.map(function (x) { return x.target_title + modeSuffix(x); });
  make(
    "chart-readiness",
    {
      legend: { top: 0 },
      grid: { left: 20, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: targets, inverse: true, axisLabel: { formatter: function (s) { return short(s, 26); } } },
      series: ["ready", "near", "not_ready"].map(function (k) {
        return { type: "bar", stack: "r", name: L[k], data: D.readiness.map(function (x) { return num(x[k]); }), itemStyle: { color: colors[k] } };
      })
    },
    D.readiness.length
  );

  var shares = D.plans.filter(function (x) { return x.kind === "share"; });
  make(
    "chart-plans",
    {
      legend: { top: 0 },
      grid: { left: 20, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100 },
      yAxis: { type: "category", inverse: true, data: shares.map(function (x) { return x.measure; }), axisLabel: { formatter: function (s) { return short(s, 22); } } },
      series: [
        { type: "bar", name: L.share, data: shares.map(function (x) { return num(x.share); }), itemStyle: { color: colors.one } },
        { type: "bar", name: L.target, data: shares.map(function (x) { return x.value; }), itemStyle: { color: colors.two } }
      ]
    },
    shares.length
  );

  hbar("chart-sections", D.sections, function (x) { return x.section_title + " · " + x.framework_title + modeSuffix(x); }, function (x) { return num(x.average); }, colors.one, L.average);
  hbar("chart-gaps", D.gaps, function (x) { return x.title; }, function (x) { return num(x.firms); }, colors.near);
  hbar("chart-gates", D.gates, function (x) { return x.title; }, function (x) { return num(x.firms); }, colors.not_ready);

  var quarters = [];
  var lines = {};
  D.trend.forEach(function (x) {
    if (quarters.indexOf(x.label) < 0) quarters.push(x.label);
    var key = x.framework_title + modeSuffix(x);
    lines[key] = lines[key] || {};
    lines[key][x.label] = num(x.average);
  });
  quarters.sort();
  make(
    "chart-trend",
    {
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: quarters },
      yAxis: { type: "value", max: 100 },
      series: Object.keys(lines).map(function (key) {
        return { type: "line", name: key, connectNulls: false, data: quarters.map(function (q) { return lines[key][q] === undefined ? null : lines[key][q]; }) };
      })
    },
    D.trend.length
  );

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
