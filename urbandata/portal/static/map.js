/* The dataset page's interactive map (templates/_map.html) with Leaflet and leaflet.markercluster, both served
   by the platform under /static/vendor. Without them (or without JavaScript) the server-drawn image and the
   list of places stay; nothing here loads anything from another origin unless the operator set a base map. */
(function () {
  "use strict";
  var box = document.getElementById("karte-live");
  var source = document.getElementById("karte-daten");
  if (!box || !source || typeof window.L === "undefined" || typeof L.markerClusterGroup !== "function") return;
  var data = JSON.parse(source.textContent);
  var ds = box.dataset;

  box.hidden = false;
  var figure = document.getElementById("karte-bild");
  if (figure) figure.hidden = true;

  var map = L.map(box, { zoomControl: false, keyboard: true, attributionControl: true, minZoom: 2, maxZoom: 19 });
  L.control.zoom({ zoomInTitle: ds.zoomIn, zoomOutTitle: ds.zoomOut }).addTo(map);
  map.attributionControl.setPrefix(false);
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", ds.label);
  if (ds.tiles) {
    L.tileLayer(ds.tiles, { attribution: ds.attribution || "", maxZoom: 19 }).addTo(map);
  } else if (ds.wms) {
    L.tileLayer.wms(ds.wms, { layers: ds.wmsLayers, format: "image/png", transparent: false,
                              attribution: ds.attribution || "" }).addTo(map);
  }

  function popup(feature) {
    var wrap = document.createElement("div");
    var h = document.createElement("h3");
    h.textContent = feature.properties._label;
    wrap.appendChild(h);
    var dl = document.createElement("dl");
    Object.keys(feature.properties).forEach(function (key) {
      var value = feature.properties[key];
      if (key === "_label" || value === null || value === "") return;
      var dt = document.createElement("dt");
      dt.textContent = key;
      var dd = document.createElement("dd");
      dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    wrap.appendChild(dl);
    return wrap;
  }

  var clusters = L.markerClusterGroup({
    showCoverageOnHover: false,
    iconCreateFunction: function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
      var html = document.createElement("div");
      var count = document.createElement("span");
      count.textContent = String(n);
      var hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = " " + ds.cluster;
      html.appendChild(count);
      html.appendChild(hint);
      return L.divIcon({ html: html.outerHTML, className: "marker-cluster marker-cluster-" + size,
                         iconSize: L.point(40, 40) });
    }
  });
  var shapes = L.featureGroup();
  var layers = [];
  data.features.forEach(function (feature, i) {
    var layer;
    if (feature.geometry && feature.geometry.type === "Point") {
      var c = feature.geometry.coordinates;
      layer = L.marker([c[1], c[0]], { alt: feature.properties._label, title: feature.properties._label });
      clusters.addLayer(layer);
    } else {
      layer = L.geoJSON(feature, {
        style: { color: "#073763", weight: 2, fillColor: "#0b5394", fillOpacity: 0.25 },
        pointToLayer: function (f, latlng) {
          return L.marker(latlng, { alt: feature.properties._label, title: feature.properties._label });
        }
      });
      shapes.addLayer(layer);
    }
    layer.bindPopup(function () { return popup(feature); });
    layers[i] = layer;
  });
  shapes.addTo(map);
  clusters.addTo(map);
  var bounds = L.latLngBounds([]);
  if (clusters.getLayers().length) bounds.extend(clusters.getBounds());
  if (shapes.getLayers().length) bounds.extend(shapes.getBounds());
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  else map.setView([0, 0], 2);

  // the list alternative: each place can be shown on the map with the keyboard
  Array.prototype.forEach.call(document.querySelectorAll("button.map-show"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var layer = layers[Number(button.dataset.feature)];
      if (!layer) return;
      box.scrollIntoView({ block: "center" });
      if (clusters.hasLayer(layer)) {
        clusters.zoomToShowLayer(layer, function () { layer.openPopup(); });
      } else {
        map.fitBounds(layer.getBounds(), { maxZoom: 17 });
        layer.openPopup();
      }
      box.focus();
    });
  });
})();
