// Live tiles: each [data-live-tile] starts a live session for its camera, shows the picture
// (MJPEG <img>, refreshed snapshot <img>, or <video> with hls.js, or native HLS, for HLS and RTSP), polls the
// session's status and stops as soon as the owner's rules no longer allow viewing.
// Markup: templates/cameras/includes/live_tile.html. Everything is served by the portal itself.
(function () {
  "use strict";
  const STATUS_POLL_MS = 3000;
  const SNAPSHOT_REFRESH_MS = 1000;
  let hlsLoading = null;

  function csrfToken() {
    const cookie = document.cookie.split(";").map((part) => part.trim())
      .find((part) => part.startsWith("csrftoken="));
    if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
    const input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function loadHls(src) {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!hlsLoading) {
      hlsLoading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = () => resolve(window.Hls);
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return hlsLoading;
  }

  class LiveTile {
    constructor(element) {
      this.element = element;
      this.media = element.querySelector("[data-live-tile-media]");
      this.status = element.querySelector("[data-live-tile-status]");
      this.session = null;
      this.timers = [];
      this.hls = null;
    }

    text(name, fallback) {
      return this.element.dataset[name] || fallback;
    }

    setState(state, message) {
      this.element.dataset.liveState = state;
      if (message !== undefined && this.status) this.status.textContent = message;
    }

    async start() {
      this.setState("starting", this.text("textStarting", "Starting…"));
      const body = { camera: Number(this.element.dataset.camera), incident: null };
      if (this.element.dataset.incident) body.incident = Number(this.element.dataset.incident);
      let response;
      try {
        response = await fetch(this.element.dataset.startUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(body),
        });
      } catch (error) {
        this.refuse(this.text("textUnavailable", "The live picture is not available."));
        return;
      }
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 201) {
        this.refuse(answer.reason || this.text("textUnavailable", "The live picture is not available."));
        return;
      }
      this.session = answer;
      this.showAllowance(answer);
      this.play(answer);
      this.timers.push(setInterval(() => this.poll(), STATUS_POLL_MS));
    }

    showAllowance(answer) {
      let message = answer.reason || "";
      if (answer.ends_at) message += ` (${this.text("textUntil", "until")} ${window.portalClock(answer.ends_at)})`;
      this.setState("playing", message);
    }

    refuse(reason) {
      this.element.classList.add("live-tile-refused");
      this.setState("refused", reason);
    }

    play(answer) {
      const label = this.element.dataset.cameraName || "";
      if (answer.kind === "mjpeg" || answer.kind === "snapshot") {
        const image = document.createElement("img");
        image.className = "live-tile-picture";
        image.alt = label;
        image.src = answer.kind === "mjpeg" ? answer.src : `${answer.src}?t=${Date.now()}`;
        if (answer.kind === "snapshot") {
          // The next picture is asked for once this one has arrived: slow links never pile up requests.
          const next = () => this.timers.push(setTimeout(() => {
            if (this.session) image.src = `${answer.src}?t=${Date.now()}`;
          }, SNAPSHOT_REFRESH_MS));
          image.addEventListener("load", next);
          image.addEventListener("error", next);
        }
        this.media.replaceChildren(image);
        return;
      }
      const video = document.createElement("video");
      video.className = "live-tile-picture";
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      video.setAttribute("aria-label", label);
      // Embedded RTSP cameras offer a still of their latest key frame while the video starts.
      if (answer.poster) video.poster = answer.poster;
      this.media.replaceChildren(video);
      const native = video.canPlayType("application/vnd.apple.mpegurl");
      // hls.js wherever Media Source Extensions exist (Chromium's own HLS player is newer and fails
      // on some live streams); the browser's native player only where hls.js cannot run (iPhone).
      loadHls(this.element.dataset.hlsSrc).catch(() => null).then((Hls) => {
        if (!this.session) return;
        if (Hls && Hls.isSupported()) {
          // No worker: the site's Content-Security-Policy allows scripts from the portal only.
          this.hls = new Hls({ enableWorker: false, liveDurationInfinity: true });
          this.hls.loadSource(answer.src);
          this.hls.attachMedia(video);
        } else if (native) {
          video.src = answer.src;
        } else {
          this.stop(this.text("textUnavailable", "The live picture is not available."));
        }
      });
    }

    async poll() {
      if (!this.session) return;
      let status = null;
      try {
        const response = await fetch(this.session.status_url, { credentials: "same-origin", cache: "no-store" });
        status = await response.json().catch(() => null);
        if (!response.ok && !status) status = { active: false, reason: "" };
      } catch (error) {
        return; // a network hiccup: ask again at the next tick
      }
      if (!status) return;
      if (status.active) {
        this.showCamera(status.camera);
        return;
      }
      this.stop(status.reason || "");
    }

    // The relay lost the camera and is reconnecting (with back-off): say so until pictures come again.
    showCamera(state) {
      const reconnecting = state === "reconnecting";
      if (reconnecting === (this.element.dataset.liveState === "reconnecting")) return;
      this.element.classList.toggle("live-tile-reconnecting", reconnecting);
      if (reconnecting) this.setState("reconnecting", this.text("textReconnecting", "Camera connection lost; reconnecting…"));
      else this.showAllowance(this.session);
    }

    stop(reason) {
      this.timers.forEach((timer) => { clearInterval(timer); clearTimeout(timer); });
      this.timers = [];
      if (this.hls) { this.hls.destroy(); this.hls = null; }
      this.media.querySelectorAll("img").forEach((image) => image.removeAttribute("src"));
      this.media.replaceChildren();
      this.session = null;
      this.element.classList.add("live-tile-stopped");
      this.setState("stopped", `${this.text("textStopped", "Stopped:")} ${reason}`.trim());
    }

    offerStart() {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-light btn-sm";
      button.dataset.liveTileWatch = "";
      button.textContent = this.text("textWatch", "Watch live");
      button.addEventListener("click", () => { button.remove(); this.start(); }, { once: true });
      this.media.replaceChildren(button);
      this.setState("ready");
    }

    end() {
      if (!this.session) return;
      fetch(this.session.end_url || this.session.status_url.replace(/status$/, "end"), {
        method: "POST", credentials: "same-origin", keepalive: true, headers: { "X-CSRFToken": csrfToken() },
      }).catch(() => {});
    }
  }

  function startTiles() {
    const tiles = Array.from(document.querySelectorAll("[data-live-tile]"), (element) => new LiveTile(element));
    // data-autostart="false" (the officers' phone view): nothing is fetched until the viewer asks,
    // which saves a slow or metered connection.
    tiles.forEach((tile) => (tile.element.dataset.autostart === "false" ? tile.offerStart() : tile.start()));
    window.addEventListener("pagehide", () => tiles.forEach((tile) => tile.end()));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startTiles);
  else startTiles();
})();
