// The owner's "Files I gave": while a file is still being checked, fetch the section again every few
// seconds (the server renders it), so a row never stays on "Being checked" after the check ends.
(function () {
  "use strict";
  const INTERVAL_MS = 3000;
  const GIVE_UP_MS = 10 * 60 * 1000;
  document.addEventListener("DOMContentLoaded", () => {
    const started = Date.now();

    async function refresh() {
      const section = document.getElementById("files-given");
      if (!section || !section.hasAttribute("data-refresh-while-checking")) return;
      if (Date.now() - started > GIVE_UP_MS) return;
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        if (response.ok) {
          const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
          const replacement = fresh.getElementById("files-given");
          if (replacement) section.replaceWith(replacement);
        }
      } catch (error) {
        // offline for a moment: try again at the next tick
      }
      setTimeout(refresh, INTERVAL_MS);
    }
    setTimeout(refresh, INTERVAL_MS);
  });
})();
