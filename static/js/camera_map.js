// Maps for camera owners: pick a camera's spot (click, drag, or "use my location") and show
// one's cameras. Configuration comes from data- attributes; the map works without tiles.
(function () {
  "use strict";

  function baseMap(element) {
    const lat = parseFloat(element.dataset.lat);
    const lng = parseFloat(element.dataset.lng);
    const map = L.map(element, { scrollWheelZoom: false }).setView([lat, lng], parseInt(element.dataset.zoom || "15", 10));
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    } else {
      element.classList.add("map-no-tiles");
    }
    return map;
  }

  const pinIcon = L.divIcon({
    className: "camera-pin",
    html: '<i class="bi bi-camera-video-fill" aria-hidden="true"></i>',
    iconSize: [34, 34],
    iconAnchor: [17, 34],
  });

  function setupPicker(element) {
    const latInput = document.getElementById(element.dataset.latInput);
    const lngInput = document.getElementById(element.dataset.lngInput);
    const map = baseMap(element);
    let marker = null;

    function place(lat, lng, pan) {
      const point = L.latLng(lat, lng);
      if (marker === null) {
        marker = L.marker(point, { draggable: true, icon: pinIcon, keyboard: true, title: "Camera" }).addTo(map);
        marker.on("dragend", () => {
          const moved = marker.getLatLng();
          write(moved.lat, moved.lng);
        });
      } else {
        marker.setLatLng(point);
      }
      if (pan) map.panTo(point);
    }

    function write(lat, lng) {
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
      latInput.dispatchEvent(new Event("change"));
    }

    map.on("click", (event) => {
      place(event.latlng.lat, event.latlng.lng, false);
      write(event.latlng.lat, event.latlng.lng);
    });

    function fromInputs() {
      const lat = parseFloat(latInput.value);
      const lng = parseFloat(lngInput.value);
      if (!Number.isNaN(lat) && !Number.isNaN(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
        place(lat, lng, true);
      }
    }
    latInput.addEventListener("input", fromInputs);
    lngInput.addEventListener("input", fromInputs);
    if (latInput.value && lngInput.value) fromInputs();

    const locate = document.getElementById("use-my-location");
    const status = document.getElementById("location-status");
    if (locate) {
      if (!("geolocation" in navigator)) {
        locate.hidden = true;
      }
      locate.addEventListener("click", () => {
        status.textContent = locate.dataset.waiting;
        navigator.geolocation.getCurrentPosition(
          (position) => {
            place(position.coords.latitude, position.coords.longitude, true);
            write(position.coords.latitude, position.coords.longitude);
            map.setZoom(18);
            status.textContent = locate.dataset.found;
          },
          () => { status.textContent = locate.dataset.failed; },
          { enableHighAccuracy: true, timeout: 10000 }
        );
      });
    }
  }

  function setupOverview(element) {
    const points = JSON.parse(document.getElementById(element.dataset.points).textContent);
    const map = baseMap(element);
    const bounds = [];
    points.forEach((point) => {
      const marker = L.circleMarker([point.lat, point.lng], {
        radius: 9, weight: 2, color: "#12315c", fillColor: point.integrated ? "#ffc107" : "#4d8fd6", fillOpacity: 0.9,
      }).addTo(map);
      const link = document.createElement("a");
      link.href = point.url;
      link.textContent = point.name;
      marker.bindPopup(link);
      bounds.push([point.lat, point.lng]);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
    else if (bounds.length === 1) map.setView(bounds[0], 17);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-map=pick]").forEach(setupPicker);
    document.querySelectorAll("[data-map=overview]").forEach(setupOverview);
  });
})();
