// The staff incident map: click (or type the centre's coordinates) to move the centre, drag the slider to
// change the radius; the cameras inside (on the map and as a list), who would be asked and any city limit
// exceeded update as you go.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const element = document.querySelector("[data-incident-map]");
    if (!element) return;
    const incident = L.latLng(parseFloat(element.dataset.lat), parseFloat(element.dataset.lng));
    const map = L.map(element, { scrollWheelZoom: false }).setView(incident, 16);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    } else {
      element.classList.add("map-no-tiles");
    }
    L.circleMarker(incident, { radius: 7, color: "#b02a37", fillColor: "#dc3545", fillOpacity: 1 }).addTo(map);
    const slider = document.getElementById("radius-slider");
    const output = document.getElementById("radius-output");
    const form = document.getElementById("area-request-form");
    const circle = L.circle(incident, { radius: parseInt(slider.value, 10), color: "#12315c", weight: 2, fillOpacity: 0.08 }).addTo(map);
    const markers = L.layerGroup().addTo(map);
    let timer = null;
    let sequence = 0;

    function syncForm() {
      if (!form) return;
      const centre = circle.getLatLng();
      form.querySelector("[name=latitude]").value = centre.lat.toFixed(6);
      form.querySelector("[name=longitude]").value = centre.lng.toFixed(6);
      form.querySelector("[name=radius_m]").value = Math.round(circle.getRadius());
    }

    function render(data) {
      markers.clearLayers();
      data.cameras.forEach((camera) => {
        L.circleMarker([camera.latitude, camera.longitude], {
          radius: 6, weight: 1, color: "#12315c",
          fillColor: camera.available_for_requests ? (camera.access_level === "integrated" ? "#ffc107" : "#4d8fd6") : "#adb5bd",
          fillOpacity: 0.9, dashArray: camera.location_precision === "approximate" ? "2" : null,
        }).bindTooltip(camera.name + (camera.unavailable_reason ? " — " + camera.unavailable_reason : "")).addTo(markers);
      });
      document.getElementById("count-cameras").textContent = data.counts.cameras;
      document.getElementById("count-integrated").textContent = data.counts.integrated;
      document.getElementById("count-asked").textContent = data.counts.owners_asked;
      document.getElementById("count-not-asked").textContent = data.counts.owners_not_asked;
      const over = document.getElementById("over-limits");
      over.hidden = data.over_limits.length === 0;
      over.textContent = data.over_limits.join(" ");
      // The same cameras as a list, for whoever does not use the map.
      const cameras = document.getElementById("cameras-in-circle");
      cameras.replaceChildren(...data.cameras.map((camera) => {
        const li = document.createElement("li");
        const kind = camera.access_level === "integrated" ? cameras.dataset.textIntegrated : cameras.dataset.textRegistered;
        li.textContent = `${camera.name} · ${kind}${camera.unavailable_reason ? " — " + camera.unavailable_reason : ""}`;
        return li;
      }));
      const list = document.getElementById("not-asked-list");
      list.replaceChildren(...data.not_asked.map((item) => {
        const li = document.createElement("li");
        li.textContent = item.owner_name + ": " + item.reason;
        return li;
      }));
    }

    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++sequence;
        const centre = circle.getLatLng();
        const url = `${element.dataset.previewUrl}?lat=${centre.lat}&lng=${centre.lng}&radius_m=${Math.round(circle.getRadius())}`;
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok && mine === sequence) render(await response.json());
      }, 150);
    }

    slider.addEventListener("input", () => {
      circle.setRadius(parseInt(slider.value, 10));
      output.textContent = slider.value;
      syncForm();
      refresh();
    });
    // Typed coordinates move the centre too (the keyboard's way; the map needs a pointer).
    if (form) {
      const typed = () => {
        const lat = parseFloat(form.querySelector("[name=latitude]").value);
        const lng = parseFloat(form.querySelector("[name=longitude]").value);
        if (Number.isNaN(lat) || Number.isNaN(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return;
        circle.setLatLng([lat, lng]);
        map.panTo([lat, lng]);
        refresh();
      };
      form.querySelector("[name=latitude]").addEventListener("input", typed);
      form.querySelector("[name=longitude]").addEventListener("input", typed);
    }
    map.on("click", (event) => {
      circle.setLatLng(event.latlng);
      syncForm();
      refresh();
    });
    syncForm();
    refresh();
  });
})();
