// Address search on the camera form: the address field becomes a combobox whose suggestions come
// from /cameras/geocode/, as the owner types (local search) or on Find and Enter (Nominatim). Choosing one fills the address, latitude and longitude; the map
// (camera_map.js) follows the latitude and longitude inputs, so the pin moves there. Without this
// script the form still takes a typed address and coordinates.
(function () {
  "use strict";

  const MIN_LENGTH = 3;
  const TYPING_PAUSE_MS = 350;

  function setup(box) {
    const input = document.getElementById(box.dataset.input);
    const latInput = document.getElementById(box.dataset.latInput);
    const lngInput = document.getElementById(box.dataset.lngInput);
    const findButton = box.querySelector("[data-address-find]");
    const list = box.querySelector("[data-address-results]");
    const status = box.querySelector("[data-address-status]");
    const text = box.dataset;
    let places = [];
    let active = -1;
    let timer = null;
    let controller = null;
    let lastQuery = "";

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    findButton.hidden = false;

    function say(message) {
      status.textContent = message;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((option, position) => option.setAttribute("aria-selected", position === index ? "true" : "false"));
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(found) {
      places = found;
      list.replaceChildren();
      found.forEach((place, index) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${index}`;
        option.className = "list-group-item list-group-item-action";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = place.label;
        // Keep the focus in the field (a mouse press would move it), then choose on click or tap.
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(index));
        list.appendChild(option);
      });
      if (found.length === 0) {
        close();
        say(text.none);
        return;
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
      say(text.found.replace("{count}", String(found.length)));
    }

    function choose(index) {
      const place = places[index];
      if (!place) return;
      input.value = place.label;
      lastQuery = place.label;
      latInput.value = place.lat.toFixed(6);
      lngInput.value = place.lng.toFixed(6);
      // camera_map.js moves the pin when the coordinates change.
      latInput.dispatchEvent(new Event("input"));
      lngInput.dispatchEvent(new Event("input"));
      close();
      say(text.chosen.replace("{address}", place.label));
      input.focus();
    }

    async function search(now) {
      const query = input.value.trim();
      if (query.length < MIN_LENGTH) {
        close();
        if (now) say(text.tooShort);
        return;
      }
      if (query === lastQuery && !now) return;
      lastQuery = query;
      if (controller) controller.abort();
      controller = new AbortController();
      say(text.searching);
      try {
        const response = await fetch(`${text.url}?${new URLSearchParams({ q: query })}`, {
          headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal,
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) {
          close();
          lastQuery = "";
          say((body && (body.detail || (body.q && body.q[0]))) || text.failed);
          return;
        }
        show(body);
      } catch (error) {
        if (error.name === "AbortError") return;
        close();
        lastQuery = "";
        say(text.failed);
      }
    }

    if ("whileTyping" in box.dataset) {
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => search(false), TYPING_PAUSE_MS);
      });
    }

    input.addEventListener("keydown", (event) => {
      const open = !list.hidden && places.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) {
          if (places.length > 0) {
            list.hidden = false;
            input.setAttribute("aria-expanded", "true");
          } else {
            return;
          }
        }
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + places.length) % places.length);
      } else if (event.key === "Enter") {
        // Enter in the address field searches or chooses; it does not send the form half filled in.
        event.preventDefault();
        clearTimeout(timer);
        if (open && active >= 0) choose(active);
        else search(true);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });

    input.addEventListener("blur", () => close());

    findButton.addEventListener("click", () => {
      clearTimeout(timer);
      search(true);
      input.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-address-search]").forEach(setup);
  });
})();
