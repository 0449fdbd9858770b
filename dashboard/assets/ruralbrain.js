// Functions the maps refer to by name ({"variable": "ruralbrain.…"}): styles and labels run in the browser.
window.ruralbrain = Object.assign(window.ruralbrain || {}, {
  regionStyle: function (feature, context) {
    var props = feature.properties;
    var selected = context && context.hideout && context.hideout.selected === props.code;
    return {
      color: selected ? "#ffd166" : "#5ad1ff",
      weight: selected ? 3 : 1.2,
      dashArray: props.boundary === "schematic" ? "6 4" : null,
      fillColor: selected ? "#24507a" : "#0d3558",
      fillOpacity: 0.75,
    };
  },
  hoverStyle: function () {
    return { weight: 3, color: "#ffffff", fillColor: "#1a5d8f" };
  },
  labelRegion: function (feature, layer) {
    layer.bindTooltip(feature.properties.name, {
      permanent: true,
      direction: "center",
      className: "region-label",
    });
  },
});

// Choropleth of the current theme: the child's value against the largest one, on a dark-to-cyan ramp.
window.ruralbrain.choroplethStyle = function (feature, context) {
  var props = feature.properties;
  var hideout = (context && context.hideout) || {};
  var values = hideout.values || {};
  var share = hideout.max ? (values[props.code] || 0) / hideout.max : 0;
  var selected = hideout.selected === props.code;
  var ramp = ["#0b2a45", "#0f4470", "#13629b", "#1b83c4", "#33a8e6", "#6fd3ff"];
  return {
    color: selected ? "#ffd166" : "#5ad1ff",
    weight: selected ? 3 : 1.2,
    dashArray: props.boundary === "schematic" ? "6 4" : null,
    fillColor: ramp[Math.min(ramp.length - 1, Math.floor(share * (ramp.length - 1) + 0.5))],
    fillOpacity: 0.85,
  };
};

// The design canvas keeps its size in CSS pixels and is zoomed to fit the window (letterbox), so a wall
// shows the same picture whatever its resolution or the operating system's display scaling.
(function () {
  function fit() {
    var canvas = document.getElementById("screen-canvas");
    if (!canvas) { return; }
    var width = Number(canvas.dataset.width), height = Number(canvas.dataset.height);
    var scale = Math.min(window.innerWidth / width, window.innerHeight / height);
    canvas.style.zoom = scale;
    canvas.style.marginLeft = Math.max(0, (window.innerWidth / scale - width) / 2) + "px";
    canvas.style.marginTop = Math.max(0, (window.innerHeight / scale - height) / 2) + "px";
  }
  window.addEventListener("resize", fit);
  new MutationObserver(fit).observe(document.documentElement, { childList: true, subtree: true });
  // A person touching the screen pauses kiosk rotation (see the clientside callback).
  ["pointerdown", "keydown", "wheel"].forEach(function (type) {
    window.addEventListener(type, function () { window.ruralbrainLastTouch = Date.now(); }, true);
  });
})();

// A device on the village map: a dot coloured by status (green ok, red alarm, grey silent).
window.ruralbrain.devicePoint = function (feature, latlng) {
  return L.circleMarker(latlng, {
    radius: 9, color: "#ffffff", weight: 1.5, fillColor: feature.properties.colour, fillOpacity: 0.95,
  });
};
