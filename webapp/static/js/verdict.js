/* QReady 质评通 — the verdict's charts (Apache ECharts, vendored): the section scores as a radar and as
 * bars, and the score across rounds as a line with the targets' thresholds. The same numbers are in
 * tables on the page, so nothing depends on the charts. */
(function () {
  "use strict";
  var holder = document.getElementById("verdict-data");
  if (!holder || !window.echarts) return;
  var data = JSON.parse(holder.textContent);
  var L = data.labels;
  var charts = [];
  var colors = ["#b3261e", "#1a5fb4", "#1f7a3f", "#9a6200", "#6b3fa0"];
  var font = window.getComputedStyle(document.body).fontFamily;

  function make(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    option.aria = { enabled: true };
    option.animation = false;
    option.textStyle = { fontFamily: font }; // measured as drawn (see stats.js)
    chart.setOption(option);
    charts.push(chart);
  }

  function short(name, n) {
    n = n || 16;
    return name.length > n ? name.slice(0, n - 1) + "…" : name;
  }

  var sections = data.sections.filter(function (s) {
    return s.value !== null;
  });

  // The radar's labels sit outside its circle: each is wrapped (at most 3 lines) to the room left beside
  // the circle, and the circle keeps that room, so no label runs past the chart's edges at any width.
  var measure = document.createElement("canvas").getContext("2d");
  measure.font = "12px " + font;

  function wrap(name, room) {
    var words = name.match(/[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*/g) || [name];
    var lines = [""];
    words.forEach(function (w) {
      var last = lines[lines.length - 1];
      var closing = /^[\uff09\u3001\uff0c\u3002\uff1a\uff1b\u300d\u300f)\]]/.test(w); // never starts a line
      if (last && !closing && measure.measureText(last + w).width > room) lines.push(w.replace(/^\s+/, ""));
      else lines[lines.length - 1] = last + w;
    });
    lines = lines.map(function (l) { return l.replace(/\s+$/, ""); });
    if (lines.length > 3) lines = lines.slice(0, 2).concat([short(lines.slice(2).join(" "), 12)]);
    return lines.join("\n");
  }

  function radarOption(el) {
    var w = el.clientWidth || 320, h = el.clientHeight || 300;
    var r = Math.max(56, Math.min(h / 2 - 50, w / 2 - 112));
    var wrapped = {};
    sections.forEach(function (s, i) {
      // the label starts beside its corner and runs outwards (centred above or below a vertical one)
      var x = Math.abs(Math.sin((2 * Math.PI * i) / sections.length)) * r;
      var room = x < 1 ? w - 16 : w / 2 - x - 14;
      wrapped[s.name] = wrap(s.name, Math.max(60, room));
    });
    return {
      color: colors,
      tooltip: {},
      radar: {
        radius: r,
        center: ["50%", "52%"],
        nameGap: 8,
        indicator: sections.map(function (s) {
          return { name: s.name, max: 100 };
        }),
        axisName: {
          color: "#1c2430",
          lineHeight: 14,
          formatter: function (name) { return wrapped[name] || name; },
        },
      },
      series: [
        {
          type: "radar",
          name: L.percent,
          areaStyle: { opacity: 0.2 },
          data: [{ value: sections.map(function (s) { return s.value; }), name: L.percent }],
        },
      ],
    };
  }

  var radarEl = document.getElementById("chart-radar");
  if (sections.length >= 3 && radarEl) {
    make("chart-radar", radarOption(radarEl));
  } else if (radarEl) {
    radarEl.hidden = true;
  }

  make("chart-bars", {
    color: colors,
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    grid: { left: 8, right: 48, top: 10, bottom: 10, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%", hideOverlap: true } },
    yAxis: {
      type: "category",
      inverse: true,
      data: data.sections.map(function (s) { return s.name; }),
      axisLabel: { width: 150, overflow: "truncate" },
    },
    series: [
      {
        type: "bar",
        name: L.percent,
        data: data.sections.map(function (s) { return s.value; }),
        label: { show: true, position: "right", formatter: function (p) { return p.value === null ? "" : p.value + "%"; } },
      },
    ],
  });

  if (data.trend.length > 1) {
    make("chart-trend", {
      color: colors,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 24, bottom: 10, containLabel: true },
      xAxis: {
        type: "category",
        data: data.trend.map(function (p) { return p.draft ? p.label + " (" + L.provisional + ")" : p.label; }),
      },
      yAxis: { type: "value", min: 0, max: data.scale },
      series: [
        {
          type: "line",
          name: L.score,
          data: data.trend.map(function (p) { return p.score === null ? null : Math.round(p.score * 10) / 10; }),
          label: { show: true },
          markLine: {
            symbol: "none",
            lineStyle: { type: "dashed", color: "#5b6675" },
            label: { formatter: "{b} {c}", position: "insideEndTop", color: "#3a4452" },
            data: data.thresholds
              .filter(function (t) { return t.value > 0; })
              .map(function (t) { return { name: short(t.name, 24), yAxis: t.value }; }),
          },
        },
      ],
    });
  }

  var pendingResize = null;
  window.addEventListener("resize", function () {
    if (pendingResize) clearTimeout(pendingResize);
    pendingResize = setTimeout(function () {
      charts.forEach(function (c) {
        if (c.getDom() === radarEl) c.setOption(radarOption(radarEl));
        c.resize();
      });
    }, 150);
  });
})();
