// Draws the dashboard's charts with the vendored ECharts from the JSON the page embeds
// (json_script "dashboard-data" and "dashboard-labels"); the same numbers are in the tables.
(function () {
  "use strict";
  var dataNode = document.getElementById("dashboard-data");
  var labelNode = document.getElementById("dashboard-labels");
  if (!dataNode || !labelNode || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var words = JSON.parse(labelNode.textContent);
  var lang = (document.documentElement.lang || "en").toLowerCase();
  var locale = lang.indexOf("zh") === 0 ? "ZH" : "EN";
  var charts = [];

  function base(extra) {
    var option = {
      aria: { enabled: true },
      tooltip: { trigger: "item" },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true }
    };
    for (var key in extra) {
      if (Object.prototype.hasOwnProperty.call(extra, key)) {
        option[key] = extra[key];
      }
    }
    return option;
  }

  function pie(rows, name) {
    return base({
      legend: { type: "scroll", bottom: 0 },
      series: [{
        type: "pie",
        name: name,
        radius: ["35%", "65%"],
        data: rows.map(function (row) { return { name: row.label, value: row.count }; })
      }]
    });
  }

  function bars(categories, series, horizontal) {
    var category = { type: "category", data: categories };
    var value = { type: "value", minInterval: 1 };
    return base({
      tooltip: { trigger: "axis" },
      legend: series.length > 1 ? { top: 0 } : undefined,
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({ inverse: true }, category) : value,
      series: series
    });
  }

  var builders = {
    new_customers_per_week: function () {
      var weeks = data.new_customers_per_week;
      return bars(
        weeks.map(function (w) { return w.week_start.slice(5); }),
        [{ type: "bar", name: words.new_customers, data: weeks.map(function (w) { return w.count; }) }]
      );
    },
    customers_by_status: function () { return pie(data.customers_by_status, words.customers); },
    customers_by_level: function () { return pie(data.customers_by_level, words.customers); },
    customers_by_source: function () { return pie(data.customers_by_source, words.customers); },
    pipeline_by_stage: function () {
      var stages = data.pipeline_by_stage;
      var names = stages.map(function (s) { return s.name; });
      if (data.pipeline_amounts_hidden || !data.pipeline_currencies.length) {
        return bars(names, [{
          type: "bar", name: words.opportunities, data: stages.map(function (s) { return s.count; })
        }]);
      }
      // One series per currency, side by side: amounts in different currencies are never added.
      return bars(names, data.pipeline_currencies.map(function (currency) {
        return {
          type: "bar",
          name: currency,
          data: stages.map(function (s) { return Number(s.amounts[currency]); })
        };
      }));
    },
    win_rate: function () {
      return pie([
        { label: words.won, count: data.win_rate.won },
        { label: words.lost, count: data.win_rate.lost }
      ], words.opportunities);
    },
    follow_ups_per_employee: function () {
      var rows = data.follow_ups_per_employee || [];
      return bars(
        rows.map(function (r) { return r.employee_id + " " + r.name; }),
        [{ type: "bar", name: words.follow_ups, data: rows.map(function (r) { return r.count; }) }],
        true
      );
    }
  };

  var nodes = document.querySelectorAll("[data-chart]");
  Array.prototype.forEach.call(nodes, function (node) {
    var build = builders[node.getAttribute("data-chart")];
    if (!build) {
      return;
    }
    var chart = window.echarts.init(node, null, { locale: locale });
    chart.setOption(build());
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
