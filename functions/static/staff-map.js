// /staff/map over the office's tile layer (loaded only when MINQING_MAP_TILES is set, after the vendored
// Leaflet; the case page's small map needs no script). Each [data-tiles] box takes the points of the SVG
// map it names (their data-lat/lon already in the tiles' system, converted on the server) and shows them
// over the tiles; the SVG is hidden only once that worked, and the list of links under it stays, so
// nothing depends on this file.
(function () {
  "use strict";
  if (!window.L) { return; }

  function text(value) {  // the attribution is plain text; Leaflet would read it as HTML
    var span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  function popup(link) {
    var box = document.createElement("div"), anchor = document.createElement("a");
    var title = link.querySelector("title"), parts = (title ? title.textContent : "").split(" · ");
    anchor.href = link.getAttribute("href");
    anchor.textContent = parts[0];
    box.appendChild(anchor);
    box.appendChild(document.createTextNode(" " + parts.slice(1).join(" · ")));
    return box;
  }

  function draw(box) {
    var svg = document.getElementById(box.getAttribute("data-for"));
    if (!svg) { return; }
    box.hidden = false;
    var map = L.map(box, {scrollWheelZoom: false, attributionControl: false, zoomControl: false});
    L.control.zoom({zoomInTitle: box.getAttribute("data-zoom-in"), zoomOutTitle: box.getAttribute("data-zoom-out")})
      .addTo(map);
    L.control.attribution({prefix: false}).addTo(map);
    L.tileLayer(box.getAttribute("data-tiles"), {
      subdomains: box.getAttribute("data-subdomains") || "abc", maxZoom: 18,
      attribution: text(box.getAttribute("data-attribution") || "")
    }).addTo(map);
    var bounds = [], focus = null;
    svg.querySelectorAll("a[data-lat]").forEach(function (link) {
      var at = [parseFloat(link.getAttribute("data-lat")), parseFloat(link.getAttribute("data-lon"))];
      var colour = link.getAttribute("data-colour") || "#555";
      if (link.getAttribute("data-overdue")) {
        L.circleMarker(at, {radius: 11, color: "#b00020", weight: 3, fill: false, interactive: false}).addTo(map);
      }
      var marker = L.circleMarker(at, {radius: 7, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 1})
        .bindPopup(popup(link)).addTo(map);
      if (location.hash === "#" + link.id) { focus = [at, marker]; }  // the case page's "show on the map"
      bounds.push(at);
    });
    if (focus) { map.setView(focus[0], 17); focus[1].openPopup(); }
    else if (bounds.length) { map.fitBounds(bounds, {padding: [24, 24], maxZoom: 17}); }
    svg.style.display = "none";
    box.setAttribute("data-zoom", map.getZoom());
  }

  document.querySelectorAll("[data-tiles]").forEach(draw);
})();
