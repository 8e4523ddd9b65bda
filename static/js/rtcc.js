// The real-time crime centre: a map of open incidents, cameras (clustered) and units, and an
// alert list that updates from the RTCC WebSocket without reloading. New emergencies sound a
// tone and raise a browser notification once the operator has turned them on.
(function () {
  "use strict";

  const PRIORITY_CLASS = { 1: "text-bg-danger", 2: "text-bg-warning", 3: "text-bg-secondary" };

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-rtcc]");
    if (!root || typeof L === "undefined") return;
    const text = root.dataset;
    const connection = document.getElementById("rtcc-connection");
    const alerts = document.getElementById("rtcc-alerts");
    const template = document.getElementById("rtcc-alert-template");
    const counts = document.getElementById("rtcc-counts");

    // --- Map -------------------------------------------------------------------------------
    const element = document.getElementById("rtcc-map");
    const map = L.map(element, { preferCanvas: true, maxZoom: 19 }).setView([parseFloat(text.lat), parseFloat(text.lng)], 14);
    if (text.tiles) {
      L.tileLayer(text.tiles, { maxZoom: 19, attribution: text.attribution || "" }).addTo(map);
    } else {
      element.classList.add("map-no-tiles");
    }
    const cameraLayer = L.markerClusterGroup
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 })
      : L.layerGroup();
    cameraLayer.addTo(map);
    const incidentLayer = L.layerGroup().addTo(map);
    const unitLayer = L.layerGroup().addTo(map);
    const incidentMarkers = new Map();
    const unitMarkers = new Map();
    let cameraCount = 0;

    function showCounts() {
      counts.textContent = text.textCounts.replace("{incidents}", incidentMarkers.size)
        .replace("{cameras}", cameraCount).replace("{units}", unitMarkers.size);
    }

    function incidentIcon(incident) {
      return L.divIcon({
        className: "rtcc-incident-icon" + (incident.emergency ? " rtcc-incident-emergency" : ""),
        html: "<span></span>", iconSize: [24, 24], iconAnchor: [12, 12],  // WCAG 2.2: a 24-pixel target
      });
    }

    function placeIncident(incident) {
      const existing = incidentMarkers.get(incident.id);
      if (incident.status !== "open") {
        if (existing) { incidentLayer.removeLayer(existing); incidentMarkers.delete(incident.id); }
        showCounts();
        return;
      }
      const position = [incident.latitude, incident.longitude];
      const label = `${incident.reference} · ${incident.title}`;
      if (existing) {
        existing.setLatLng(position).setIcon(incidentIcon(incident)).setTooltipContent(label);
      } else {
        const marker = L.marker(position, { icon: incidentIcon(incident), zIndexOffset: 1000, title: label, alt: label })
          .bindTooltip(label)
          .on("click", () => { window.location.href = incident.live_url; })
          .addTo(incidentLayer);
        incidentMarkers.set(incident.id, marker);
      }
      showCounts();
    }

    function placeUnit(unit) {
      const position = [unit.latitude, unit.longitude];
      const label = `${text.textUnit} ${unit.unit}${unit.officer ? " · " + unit.officer : ""}`;
      const existing = unitMarkers.get(unit.unit);
      if (unit.active === false) {
        if (existing) { unitLayer.removeLayer(existing); unitMarkers.delete(unit.unit); }
      } else if (existing) {
        existing.setLatLng(position).setTooltipContent(label);
      } else {
        const icon = L.divIcon({ className: "rtcc-unit-icon", html: "<span></span>", iconSize: [16, 16], iconAnchor: [8, 8] });
        unitMarkers.set(unit.unit, L.marker(position, { icon, title: label, alt: label }).bindTooltip(label).addTo(unitLayer));
      }
      showCounts();
    }

    async function loadMap() {
      const response = await fetch(root.dataset.mapUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const markers = data.cameras.map(([id, lat, lng, integrated]) => L.circleMarker([lat, lng], {
        radius: integrated ? 6 : 4, weight: 1, color: "#12315c",
        fillColor: integrated ? "#ffc107" : "#4d8fd6", fillOpacity: 0.9,
      }));
      cameraCount = markers.length;
      if (cameraLayer.addLayers) cameraLayer.addLayers(markers); else markers.forEach((m) => m.addTo(cameraLayer));
      data.incidents.forEach(placeIncident);
      data.units.forEach(placeUnit);
      root.dataset.mapLoaded = "true";
      showCounts();
    }

    // --- Alerts ----------------------------------------------------------------------------
    function alertItem(incident) {
      const item = template.content.firstElementChild.cloneNode(true);
      const field = (name) => item.querySelector(`[data-field="${name}"]`);
      item.dataset.incident = incident.id;
      item.classList.toggle("rtcc-alert-emergency", Boolean(incident.emergency));
      field("link").href = incident.live_url;
      field("title").textContent = incident.title;
      field("priority").textContent = incident.priority_label;
      field("priority").classList.add(PRIORITY_CLASS[incident.priority] || "text-bg-secondary");
      field("address").textContent = incident.address || text.textNoAddress;
      field("reference").textContent = incident.reference;
      field("source").textContent = incident.source_label;
      const time = field("time");
      time.dateTime = incident.occurred_at;
      time.textContent = window.portalClock(incident.occurred_at);
      return item;
    }

    function showAlert(incident, flag) {
      const empty = alerts.querySelector("[data-rtcc-empty]");
      if (empty) empty.remove();
      const old = alerts.querySelector(`[data-incident="${incident.id}"]`);
      if (incident.status !== "open") {
        if (old) old.remove();
        return;
      }
      const item = alertItem(incident);
      item.querySelector('[data-field="flag"]').textContent = flag;
      item.classList.add("rtcc-alert-new");
      if (old) old.replaceWith(item); else alerts.prepend(item);
    }

    // --- Sound and notifications -----------------------------------------------------------
    let audio = null;
    const alertsButton = root.querySelector("[data-rtcc-alerts]");

    function alertsOn() {
      return localStorage.getItem("rtcc-alerts") === "on";
    }

    function markAlertsButton() {
      if (alertsOn()) {
        alertsButton.classList.replace("btn-outline-primary", "btn-success");
        alertsButton.textContent = text.textAlertsOn;
      }
    }

    alertsButton.addEventListener("click", async () => {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      await audio.resume();
      if ("Notification" in window && Notification.permission === "default") {
        await Notification.requestPermission();
      }
      localStorage.setItem("rtcc-alerts", "on");
      markAlertsButton();
    });
    markAlertsButton();

    function tone() {
      if (!alertsOn()) return;
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        [0, 0.35].forEach((start) => {
          const oscillator = audio.createOscillator();
          const gain = audio.createGain();
          oscillator.frequency.value = 880;
          gain.gain.setValueAtTime(0.25, audio.currentTime + start);
          gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.3);
          oscillator.connect(gain).connect(audio.destination);
          oscillator.start(audio.currentTime + start);
          oscillator.stop(audio.currentTime + start + 0.3);
        });
      } catch (error) {
        // No audio device: the visual alert is still there.
      }
    }

    function notify(incident) {
      if (!alertsOn() || !("Notification" in window) || Notification.permission !== "granted") return;
      const notification = new Notification(`${incident.priority_label}: ${incident.title}`, {
        body: `${incident.reference} · ${incident.address || ""}`, tag: `incident-${incident.id}`,
      });
      notification.addEventListener("click", () => { window.focus(); window.location.href = incident.live_url; });
    }

    // --- WebSocket -------------------------------------------------------------------------
    let delay = 1000;

    function setConnection(connected) {
      root.dataset.liveConnected = connected ? "true" : "false";
      connection.textContent = connected ? text.textConnected : text.textReconnecting;
      connection.classList.toggle("text-bg-success", connected);
      connection.classList.toggle("text-bg-secondary", !connected);
    }

    function handle(event) {
      if (event.kind === "incident_opened") {
        placeIncident(event);
        showAlert(event, text.textNew);
        if (event.emergency) { tone(); notify(event); }
      } else if (event.kind === "incident_updated") {
        placeIncident(event);
        showAlert(event, event.status === "open" ? text.textUpdated : text.textClosed);
      } else if (event.kind === "unit_moved") {
        placeUnit(event);
      } else if (event.kind === "unit_stopped") {
        placeUnit({ ...event, active: false });
      }
    }

    // Events sent while the feed was down (the server, or Redis behind it, away) never reach this page:
    // once it is back, the open incidents and units are read again so that none is missed.
    async function catchUp() {
      const response = await fetch(root.dataset.mapUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const data = await response.json();
      data.incidents.forEach((incident) => {
        if (!incidentMarkers.has(incident.id)) showAlert(incident, text.textNew);
        placeIncident(incident);
      });
      data.units.forEach(placeUnit);
      root.dataset.caughtUp = String(Number(root.dataset.caughtUp || 0) + 1);
    }

    let dropped = false;

    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.socket}`);
      socket.addEventListener("open", () => {
        delay = 1000;
        setConnection(true);
        if (dropped) catchUp().catch(() => {});
        dropped = false;
      });
      socket.addEventListener("message", (message) => handle(JSON.parse(message.data)));
      socket.addEventListener("close", () => {
        dropped = true;
        setConnection(false);
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      });
    }

    loadMap().finally(connect);
  });
})();
