// The leaders' workspace (/explore): its address is its state. Controls that are not links (the area and
// measure pickers, filters, the custom dates, the region search) rewrite the address here, in the browser;
// Dash's page router then draws the view the new address describes, and back and forward step through views.
(function () {
  // The parameters a new measure keeps; the rest (its filters, the records' sorting and page) belong to the old one.
  var KEPT = ["region", "period", "from", "to", "grain", "csort", "corder"];

  function triggered() {
    var context = window.dash_clientside.callback_context;
    return context.triggered.length ? context.triggered[0].prop_id : "";
  }

  function kept(params) {
    var fresh = new URLSearchParams();
    KEPT.forEach(function (key) { if (params.get(key)) { fresh.set(key, params.get(key)); } });
    return fresh;
  }

  function answer(params, search) {
    params.delete("page");
    var target = "?" + params.toString();
    return target === search ? window.dash_clientside.no_update : target;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    explore: {
      navigate: function (area, measure, filters, start, end, query, search) {
        var which = triggered();
        var params = new URLSearchParams(search || "");
        if (which.indexOf("explore-area.") === 0) {
          if (!area || area === params.get("area")) { return window.dash_clientside.no_update; }
          params = kept(params);
          params.set("area", area);
        } else if (which.indexOf("explore-measure.") === 0) {
          if (!measure || measure === params.get("measure")) { return window.dash_clientside.no_update; }
          params = kept(params);
          params.set("measure", measure);
        } else if (which.indexOf("explore-dates.") === 0) {
          if (!start || !end) { return window.dash_clientside.no_update; }
          params.set("period", "custom");
          params.set("from", start.slice(0, 10));
          params.set("to", end.slice(0, 10));
        } else if (which.indexOf("explore-search.") === 0) {
          var text = (query || "").trim();
          if (text) { params.set("q", text.slice(0, 20)); } else { params.delete("q"); }
        } else if (which.indexOf("explore-filter") !== -1) {
          var id = JSON.parse(which.slice(0, which.lastIndexOf(".")));
          var context = window.dash_clientside.callback_context;
          var value = context.triggered[0].value;
          if (value) { params.set(id["explore-filter"], value); } else { params.delete(id["explore-filter"]); }
          params.delete("sort");
          params.delete("order");
        } else {
          return window.dash_clientside.no_update;
        }
        return answer(params, search);
      },
    },
  });

  window.ruralbrain = Object.assign(window.ruralbrain || {}, {
    // The children compared on a light map: the darker, the larger their value; the chosen one outlined.
    exploreStyle: function (feature, context) {
      var props = feature.properties;
      var hideout = (context && context.hideout) || {};
      var values = hideout.values || {};
      var ramp = hideout.ramp || ["#e3eef9", "#08519c"];
      var value = values[props.code];
      var share = hideout.max && value !== undefined && value !== null ? value / hideout.max : 0;
      return {
        color: "#33475b",
        weight: 1,
        dashArray: props.boundary === "schematic" ? "5 4" : null,
        fillColor: value === undefined || value === null ? "#f2f2f2"
          : ramp[Math.min(ramp.length - 1, Math.floor(share * (ramp.length - 1) + 0.5))],
        fillOpacity: 0.85,
      };
    },
    // A region is named on the map and a click opens it in the workspace, keeping the rest of the view.
    exploreRegion: function (feature, layer) {
      window.ruralbrain.labelRegion(feature, layer);
      layer.on("click", function () {
        var params = new URLSearchParams(window.location.search);
        params.set("region", feature.properties.code);
        params.delete("page");
        var target = "?" + params.toString();
        if (target === window.location.search) { return; }
        window.history.pushState({}, "", window.location.pathname + target);
        window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
      });
    },
  });

  // 打印: the browser's print dialog (the print stylesheet lays the view out on A4 landscape).
  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "explore-print") { window.print(); }
  });
})();
