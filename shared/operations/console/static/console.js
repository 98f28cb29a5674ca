// Keeps a console page live: an element with data-live names a Server-Sent Events stream whose
// events (named by data-event, "overview" when absent) carry the page's live parts (HTML
// rendered by the server) by element id. A part is replaced only when it changed.
"use strict";

function follow(root) {
  const state = document.getElementById("live-state");
  const stream = new EventSource(root.dataset.live);
  stream.addEventListener(root.dataset.event || "overview", (event) => {
    const parts = JSON.parse(event.data);
    for (const [id, html] of Object.entries(parts)) {
      const element = document.getElementById(id);
      if (element === null) continue;
      if (id === "live-state") element.textContent = html;
      else if (element.dataset.shown !== html) {
        element.innerHTML = html;
        element.dataset.shown = html;
      }
    }
    if (state !== null && !("live-state" in parts)) {
      state.textContent = "Live · updated " + new Date().toLocaleTimeString();
      state.dataset.updated = String(Date.now());
    }
  });
  stream.addEventListener("error", () => {
    if (state !== null) state.textContent = "Disconnected; reconnecting…";
  });
  window.addEventListener("pagehide", () => stream.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(follow);
});
