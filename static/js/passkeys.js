// allauth's webauthn.js only logs a failed passkey request to the console; this shows the person why, in the
// words of the page's #passkey-error region (translated by the template), and moves focus to it.
(function () {
  "use strict";
  const MESSAGE_FOR = {
    NotAllowedError: "notAllowed", // cancelled, timed out, or no passkey of this account on the device
    AbortError: "notAllowed",
    InvalidStateError: "alreadyRegistered", // the device already holds one of this account's passkeys
    SecurityError: "wrongSite", // the page's address does not match the passkeys' site
    NotSupportedError: "unsupported",
  };

  document.addEventListener("allauth.error", (event) => {
    const region = document.getElementById("passkey-error");
    if (!region) return;
    event.preventDefault();
    const error = event.detail && event.detail.exception;
    const supported = typeof window.PublicKeyCredential !== "undefined";
    const key = supported ? MESSAGE_FOR[error && error.name] || "failed" : "unsupported";
    region.textContent = region.dataset[key];
    region.hidden = false;
    region.focus();
  });
})();
