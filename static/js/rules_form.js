// Shows only the settings of the chosen live-access mode; without JavaScript all are shown.
document.addEventListener("DOMContentLoaded", () => {
  const radios = document.querySelectorAll("input[name=live_mode]");
  const sections = document.querySelectorAll("[data-live-section]");
  function update() {
    const chosen = document.querySelector("input[name=live_mode]:checked");
    sections.forEach((section) => {
      section.hidden = !chosen || chosen.value !== section.dataset.liveSection;
    });
  }
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
});
