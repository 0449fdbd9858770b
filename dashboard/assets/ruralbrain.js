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
