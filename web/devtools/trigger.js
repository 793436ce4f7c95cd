// How a person opens the devtools panel of an app that enabled it (connect({devtools:
// true}) or a bundle of `yloft serve`): Ctrl+Shift+Y toggles it, and `?devtools` in the
// page's URL opens it at start. yloft.js loads this module only when devtools are enabled,
// so in any other app the chord and the parameter do nothing.

/** @param {import("../yloft.js").Database} db */
export function watchDevtools(db) {
  // Loaded now, while the app's server answers: the chord works offline too.
  const loaded = import("./panel.js");
  const panel = () => loaded;
  const onKey = (/** @type {KeyboardEvent} */ event) => {
    if (event.ctrlKey && event.shiftKey && !event.altKey && event.code === "KeyY") {
      event.preventDefault();
      void panel().then((m) => m.togglePanel(db));
    }
  };
  window.addEventListener("keydown", onKey);
  db.addEventListener("cleared", () => window.removeEventListener("keydown", onKey));
  if (new URLSearchParams(location.search).has("devtools")) {
    void panel().then((m) => m.openPanel(db));
  }
}
