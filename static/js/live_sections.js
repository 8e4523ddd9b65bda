// Live staff pages: listen on the page's WebSocket and, on each event, refresh the marked
// sections from the server (the server renders; no second template in JavaScript).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-live-socket]");
    if (!root) return;
    const status = document.getElementById("live-status");
    let delay = 1000;

    async function refresh() {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      document.querySelectorAll("[data-refresh-section]").forEach((section) => {
        const replacement = fresh.getElementById(section.id);
        if (replacement) section.replaceWith(replacement);
      });
    }

    function announce(event) {
      if (!status) return;
      const who = event.owner ? event.owner + ": " : "";
      status.textContent = who + (event.status_label || event.kind.replace("_", " "));
    }

    function connect() {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.liveSocket}`);
      socket.addEventListener("open", () => { delay = 1000; root.dataset.liveConnected = "true"; });
      socket.addEventListener("message", (message) => {
        announce(JSON.parse(message.data));
        refresh();
      });
      socket.addEventListener("close", () => {
        root.dataset.liveConnected = "false";
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    connect();
  });
})();
