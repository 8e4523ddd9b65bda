// Opt-in location sharing from an officer's phone: a button [data-share-location] toggles
// navigator.geolocation.watchPosition and sends each position over the WebSocket named by its
// data-socket-url; [data-share-location-status] says what is happening. Texts come from the
// button's data-text-* attributes (translated by the template). No inline script: strict CSP.
(function () {
  "use strict";

  const REFUSED = 4403; // the server's close code for "not allowed"

  function bind(button) {
    const status = document.querySelector("[data-share-location-status]");
    const text = (name) => button.dataset["text" + name[0].toUpperCase() + name.slice(1)] || "";
    let socket = null;
    let watchId = null;
    let sharing = false;
    let delay = 1000;
    let lastPosition = null;

    function say(message) {
      if (status) status.textContent = message;
    }

    function setSharing(on) {
      sharing = on;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? button.dataset.labelStop : button.dataset.labelStart;
    }

    function send(position) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      const coords = position.coords;
      socket.send(JSON.stringify({
        type: "location",
        latitude: coords.latitude,
        longitude: coords.longitude,
        accuracy: Number.isFinite(coords.accuracy) ? coords.accuracy : null,
        heading: Number.isFinite(coords.heading) ? coords.heading : null,
      }));
    }

    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const current = new WebSocket(`${scheme}://${window.location.host}${button.dataset.socketUrl}`);
      socket = current;
      current.addEventListener("open", () => {
        delay = 1000;
        if (lastPosition) send(lastPosition);
      });
      current.addEventListener("message", (message) => {
        let data = {};
        try { data = JSON.parse(message.data); } catch (error) { return; }
        if (data.type === "location_saved") say(text("sharing"));
        else if (data.type === "error") say(data.message);
      });
      current.addEventListener("close", (event) => {
        if (socket !== current) return; // an old socket, replaced or closed on purpose
        socket = null;
        if (!sharing) return;
        if (event.code === REFUSED) {
          stop(text("refused"));
          return;
        }
        say(text("reconnecting"));
        setTimeout(() => { if (sharing && !socket) connect(); }, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }

    function start() {
      if (!("geolocation" in navigator)) {
        say(text("unsupported"));
        return;
      }
      setSharing(true);
      say(text("starting"));
      connect();
      watchId = navigator.geolocation.watchPosition(
        (position) => { lastPosition = position; send(position); },
        (error) => {
          if (error.code === error.PERMISSION_DENIED) stop(text("denied"));
          else say(text("unavailable"));
        },
        { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
      );
    }

    function stop(message) {
      setSharing(false);
      if (watchId !== null) navigator.geolocation.clearWatch(watchId);
      watchId = null;
      lastPosition = null;
      // Closing the socket tells the server to take the unit off the map.
      if (socket) socket.close(1000);
      socket = null;
      say(message || text("stopped"));
    }

    button.addEventListener("click", () => (sharing ? stop() : start()));
  }

  function bindAll() {
    document.querySelectorAll("[data-share-location]:not([data-share-location-bound])").forEach((button) => {
      button.dataset.shareLocationBound = "true";
      bind(button);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bindAll);
  else bindAll();
})();
