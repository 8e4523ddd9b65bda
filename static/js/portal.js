// Site-wide behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.

// A time as the server writes it ("H:i"): 24-hour "08:05" in the city's time zone (the page's
// <body data-time-zone>, settings.TIME_ZONE), whatever the zone and locale of the device. Pages
// that add times from the WebSocket use this, so they read the same as the rows the server rendered.
window.portalClock = (function () {
  "use strict";
  let format = null;

  function formatter() {
    if (!format) {
      const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      const timeZone = document.body.dataset.timeZone || undefined;
      try {
        format = new Intl.DateTimeFormat("en-GB", { ...options, timeZone });
      } catch (error) {
        // A zone name this browser does not know: its own zone rather than no time at all.
        format = new Intl.DateTimeFormat("en-GB", options);
      }
    }
    return format;
  }

  return function clock(iso) {
    const parts = {};
    formatter().formatToParts(new Date(iso)).forEach((part) => { parts[part.type] = part.value; });
    return `${parts.hour}:${parts.minute}`;
  };
})();

document.addEventListener("DOMContentLoaded", () => {
  // The language menu changes at once; its button stays for keyboard and no-JS users.
  document.querySelectorAll(".language-switch select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Copy buttons: <button data-copy="#id">.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      if (source) {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = button.dataset.copied || "Copied";
      }
    });
  });
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => button.addEventListener("click", () => window.print()));
});
