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
  // A region's name at its label point (a point on its surface, from the geometry build), as a marker that
  // shows and hides with the region. A permanent Leaflet tooltip measures itself (offsetWidth) when placed:
  // one forced layout of the whole screen per region, most of the time a drill took to draw its map. A
  // marker only writes its position; CSS centres the name.
  labelRegion: function (feature, layer) {
    var props = feature.properties;
    var name = document.createElement("span");
    name.className = "region-label";
    name.textContent = props.name;  // text, never markup
    var at = props.label ? L.latLng(props.label[1], props.label[0]) : layer.getBounds().getCenter();
    var label = L.marker(at, {
      icon: L.divIcon({ className: "region-label-point", html: name, iconSize: [0, 0] }),
      interactive: false,  // clicks and hovers reach the region under its name
      keyboard: false,
    });
    layer.on("add", function () { label.addTo(this._map); });
    layer.on("remove", function () { label.remove(); });
  },
  // The county screen's regions: named like every map's, and a click drills the screen into the region.
  drillRegion: function (feature, layer) {
    window.ruralbrain.labelRegion(feature, layer);
    layer.on("click", function () { window.ruralbrain.drillInto(feature.properties); });
  },
  // Go to the clicked region's screen: the same parameters, another region (bookmarkable). It navigates the
  // way the breadcrumb's dcc.Link does (pushState, then the event Dash's Locations listen to), straight from
  // Leaflet's click: through clickData, a clientside callback and a Location's update it took a round of
  // Dash's callback machinery first, some 25 ms of every drill.
  drillInto: function (props) {
    var params = new URLSearchParams(window.location.search);
    params.delete("region");
    var rest = params.toString();
    var target = "?region=" + encodeURIComponent(props.code) + (rest ? "&" + rest : "");
    if (target === window.location.search) { return; }
    if (props.level !== "village") {
      // The new map's geometry loads while the server renders the new page (the route lets browsers
      // cache it), instead of after: the map then draws as soon as the page is there.
      fetch("/geo/children/" + encodeURIComponent(props.code) + ".geojson").catch(function () {});
    }
    window.history.pushState({}, "", window.location.pathname + target);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  },
});

// Choropleth of the current theme: the child's value against the largest one, on the theme's dark-to-cyan ramp
// (the colours the legend shows, dashboard/county_content.py).
window.ruralbrain.choroplethStyle = function (feature, context) {
  var props = feature.properties;
  var hideout = (context && context.hideout) || {};
  var values = hideout.values || {};
  var share = hideout.max ? (values[props.code] || 0) / hideout.max : 0;
  var selected = hideout.selected === props.code;
  var ramp = hideout.ramp || ["#0b2a45", "#6fd3ff"];
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
    var left = Math.max(0, (window.innerWidth / scale - width) / 2) + "px";
    var top = Math.max(0, (window.innerHeight / scale - height) / 2) + "px";
    // Called on every change of the page: writing the same values again would still cost a style pass.
    if (canvas.style.zoom === String(scale) && canvas.style.marginLeft === left && canvas.style.marginTop === top) {
      return;
    }
    canvas.style.zoom = scale;
    canvas.style.marginLeft = left;
    canvas.style.marginTop = top;
  }
  window.addEventListener("resize", fit);
  new MutationObserver(fit).observe(document.documentElement, { childList: true, subtree: true });
  // A person touching the screen pauses kiosk rotation (see the clientside callback).
  ["pointerdown", "keydown", "wheel"].forEach(function (type) {
    window.addEventListener(type, function () { window.ruralbrainLastTouch = Date.now(); }, true);
  });
})();

// A device on the village map: a dot coloured by status (green ok, red alarm, grey silent), in the devices'
// pane above the regions.
window.ruralbrain.devicePoint = function (feature, latlng) {
  return L.circleMarker(latlng, {
    pane: "devices", radius: 9, color: "#ffffff", weight: 1.5, fillColor: feature.properties.colour, fillOpacity: 0.95,
  });
};

// Its tooltip: kind, id and state as text. Leaflet writes a tooltip or popup given as a string as HTML, and a
// device id comes from a county's files: an element whose textContent is the label is bound instead.
window.ruralbrain.deviceTooltip = function (feature, layer) {
  var label = document.createElement("span");
  label.className = "device-label";
  label.textContent = feature.properties.label;
  layer.bindTooltip(label);
};

// The county screen's content (dcc.Store "screen-content", see dashboard/county_content.py) is drawn here:
// one Store per refresh costs the renderer one update, where one output per panel cost dozens. Panel bodies,
// 数据截至, ticker, counters and the legend are elements React never fills, built with createElement and
// textContent (no markup is parsed); each is rebuilt only when its part of the content changed, so the
// ticker keeps scrolling across refreshes.
(function () {
  var current = { content: null, theme: 0, parts: [] };
  var parsed = { digest: null, content: null };

  function unpack(sent) {
    // The Store holds the content as JSON text (serialized once on the server) with its digest, or only the
    // digest of the content on screen (nothing changed since), and the time it was sent.
    if (sent.same !== undefined) {
      if (sent.same !== parsed.digest) { return null; }
    } else if (sent.digest !== parsed.digest) {
      parsed = { digest: sent.digest, content: JSON.parse(sent.content) };
      // The next refresh names what is on screen (a Store, so that its request stays small).
      window.dash_clientside.set_props("screen-shown", { data: sent.digest });
    }
    return Object.assign({}, parsed.content, { updated: sent.updated });
  }

  function build(spec) {
    // A compact node (dashboard/plain.py): ["tag.class.class", {style, title}?, ...children], or text.
    if (!Array.isArray(spec)) { return document.createTextNode(spec); }
    var head = spec[0].split(".");
    var element = document.createElement(head[0]);
    if (head.length > 1) { element.className = head.slice(1).join(" "); }
    var first = 1;
    if (spec[1] !== null && typeof spec[1] === "object" && !Array.isArray(spec[1])) {
      first = 2;
      if (spec[1].title) { element.title = spec[1].title; }
      var style = spec[1].style || {};
      Object.keys(style).forEach(function (key) { element.style[key] = style[key]; });
    }
    for (var i = first; i < spec.length; i++) { element.appendChild(build(spec[i])); }
    return element;
  }

  function parts(content, theme) {
    // [selector, nodes, class to toggle "stale" on (or null)] for every element the content fills.
    var found = [];
    Object.keys(content.panels).forEach(function (name) {
      var panel = content.panels[name];
      found.push(["#panel-" + name + " .panel-body", panel.body]);
      found.push(["#panel-" + name + " .panel-asof", [panel.asof], panel.stale]);
    });
    found.push(["#ticker", content.ticker]);
    found.push(["#screen-kpis", content.kpis]);
    found.push(["#screen-state", [["span", content.state], ["span.updated", "更新于 " + content.updated]]]);
    var themes = content.themes || [];
    if (themes.length) { found.push(["#map-theme", themes[theme % themes.length].legend]); }
    return found.map(function (part) {
      return { selector: part[0], nodes: part[1], stale: part[2], text: JSON.stringify(part[1]) + part[2] };
    });
  }

  function draw() {
    // Only into the page of the content's own scope: after a drill the old page may still be on screen.
    var screen = document.querySelector(".screen[data-key]");
    if (!current.content || !screen || screen.dataset.key !== current.content.key) { return; }
    current.parts.forEach(function (part) {
      var element = screen.querySelector(part.selector);
      if (!element || element.ruralbrainShown === part.text) { return; }
      element.ruralbrainShown = part.text;
      element.replaceChildren.apply(element, part.nodes.map(build));
      if (part.stale !== undefined) { element.classList.toggle("stale", Boolean(part.stale)); }
    });
  }

  function sameHideout(a, b) {
    if (!a || !b || a.selected !== b.selected || a.max !== b.max) { return false; }
    var keys = Object.keys(a.values || {});
    if (keys.length !== Object.keys(b.values || {}).length) { return false; }
    return keys.every(function (key) { return (b.values || {})[key] === a.values[key]; });
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.ruralbrain = {
    // Draws a content and returns the map's colours for the current theme (unchanged ones are no update).
    showContent: function (sent, theme, hideout) {
      var noUpdate = window.dash_clientside.no_update;
      var content = sent && unpack(sent);
      if (!content) {
        // Told "unchanged" about a content this page does not have: ask for it whole next time.
        if (sent) { window.dash_clientside.set_props("screen-shown", { data: null }); }
        return noUpdate;
      }
      current = { content: content, theme: theme || 0, parts: parts(content, theme || 0) };
      draw();
      var themes = content.themes || [];
      if (!themes.length) { return noUpdate; }
      var chosen = themes[(theme || 0) % themes.length];
      var next = {
        selected: (hideout || {}).selected || null, values: chosen.values, max: chosen.max, ramp: chosen.ramp,
      };
      return sameHideout(next, hideout) ? noUpdate : next;
    },
  };
  // React mounts a new page after its content may have arrived: draw whenever the page changes.
  new MutationObserver(draw).observe(document.documentElement, { childList: true, subtree: true });
})();
