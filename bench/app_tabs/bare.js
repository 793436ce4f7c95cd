// bench/app_tabs/bare.html: start the worker, and put its answer (or error) on <html>.
const root = document.documentElement;
const worker = new Worker("bare-worker.js", { type: "module" });
worker.onmessage = (/** @type {MessageEvent} */ event) => {
  const msg = event.data;
  if (msg.error) {
    root.dataset.error = msg.error;
    return;
  }
  // From this page's navigation start (its time origin) to the query's answer.
  msg.navigation_to_result_ms = msg.done_at - performance.timeOrigin;
  root.dataset.result = JSON.stringify(msg);
};
worker.onerror = (event) => {
  root.dataset.error = String(event.message);
};
