// Resumable uploads for owners (tus-js-client): several files, progress, pause/resume, automatic
// retry, plain errors. After each file the "Files received" list is refreshed from the server.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-uploader]");
    if (!root || !window.tus) return;
    const input = root.querySelector("input[type=file]");
    const list = root.querySelector("[data-upload-list]");
    const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
    const text = root.dataset;
    // Stay under the server's per-piece cap (it counts the body only; leave room anyway).
    const chunkSize = Math.max(64 * 1024, parseInt(text.chunk, 10) - 64 * 1024);
    // Out of space (507), or the footage store not answering (503, e.g. an S3 server whose disk is full):
    // the server's message is shown at once and the upload tried again every SPACE_RETRY_MS, for as long
    // as the page stays open.
    const STORE_WAIT = [503, 507];
    const SPACE_RETRY_MS = 10000;

    // A finished upload is checked by a worker after it arrives: refresh "Files received" until no file
    // there is still being checked, then drop the finished progress rows (the list shows their outcome).
    let refreshing = null;
    async function refreshReceived() {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return false;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const section = fresh.getElementById("submissions");
      if (!section) return false;
      document.getElementById("submissions").replaceWith(section);
      return !section.querySelector('[data-submission-status="processing"]');
    }

    function refreshUntilChecked() {
      if (refreshing) return;
      let tries = 0;
      const tick = async () => {
        tries += 1;
        let settled = false;
        try {
          settled = await refreshReceived();
        } catch (error) {
          settled = false;
        }
        if (settled) {
          list.querySelectorAll("[data-upload-done]").forEach((item) => item.remove());
          refreshing = null;
        } else if (tries < 200) {
          refreshing = setTimeout(tick, 3000);
        } else {
          refreshing = null;
        }
      };
      refreshing = setTimeout(tick, 0);
    }

    function row(file) {
      const item = document.createElement("li");
      item.className = "border rounded-3 p-2 mb-2";
      const name = document.createElement("div");
      name.className = "small fw-semibold text-break";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.className = "w-100";
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      const status = document.createElement("div");
      status.className = "small text-body-secondary";
      status.setAttribute("role", "status");
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "btn btn-sm btn-outline-secondary mt-1";
      toggle.textContent = text.textPause;
      item.append(name, bar, status, toggle);
      list.append(item);
      return { item, bar, status, toggle };
    }

    function start(file) {
      const view = row(file);
      let paused = false;
      let waitingForSpace = null;
      let accepted = 0; // bytes the server has confirmed keeping
      const upload = new tus.Upload(file, {
        endpoint: root.dataset.endpoint,
        chunkSize,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
        headers: { "X-CSRFToken": csrf },
        onProgress(sent, total) {
          const percent = total ? Math.floor((sent / total) * 100) : 100;
          view.bar.value = percent;
          view.status.textContent = percent + "%";
        },
        onChunkComplete(_chunkSize, bytesAccepted) {
          accepted = bytesAccepted;
        },
        onShouldRetry(error, attempt) {
          const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
          if (STORE_WAIT.includes(status)) return false; // said at once (onError), then tried again for as long as it takes
          const retry = !status || status === 423 || status >= 500;
          if (retry) view.status.textContent = text.textRetrying;
          return retry;
        },
        onError(error) {
          const body = error.originalResponse ? error.originalResponse.getBody() : "";
          if (error.originalResponse && STORE_WAIT.includes(error.originalResponse.getStatus())) {
            // The server kept every whole piece received; the upload goes on from there once there is room.
            view.bar.value = file.size ? Math.floor((accepted / file.size) * 100) : 0;
            view.status.textContent = `${body} ${text.textWaitingForSpace}`;
            view.status.className = "small text-warning-emphasis";
            waitingForSpace = setTimeout(() => {
              waitingForSpace = null;
              view.status.className = "small text-body-secondary";
              if (!paused) upload.start();
            }, SPACE_RETRY_MS);
            return;
          }
          view.status.textContent = body || error.message;
          view.status.className = "small text-danger";
          view.toggle.hidden = true;
        },
        onSuccess() {
          view.bar.value = 100;
          view.status.textContent = text.textDone;
          view.toggle.hidden = true;
          view.item.dataset.uploadDone = "true";
          refreshUntilChecked();
        },
      });
      view.toggle.addEventListener("click", () => {
        paused = !paused;
        if (paused) {
          clearTimeout(waitingForSpace);
          upload.abort();
          view.toggle.textContent = text.textResume;
          view.status.textContent = text.textPaused;
        } else {
          upload.start();
          view.toggle.textContent = text.textPause;
        }
      });
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    }

    input.addEventListener("change", () => {
      Array.from(input.files).forEach(start);
      input.value = "";
    });
  });
})();
