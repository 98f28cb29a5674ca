// Keeps a console page live: an element with data-live names a Server-Sent Events stream whose
// events carry the page's live parts (HTML rendered by the server) by element id.
"use strict";

function follow(root) {
  const state = document.getElementById("live-state");
  const stream = new EventSource(root.dataset.live);
  stream.addEventListener("overview", (event) => {
    const parts = JSON.parse(event.data);
    for (const [id, html] of Object.entries(parts)) {
      const element = document.getElementById(id);
      if (element === null) continue;
      if (id === "live-state") element.textContent = html;
      else element.innerHTML = html;
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
