// The service worker: precaches every file of this build so the app opens offline.
//
// build.py writes this build's id (a hash of manifest.json, which lists every file with
// its sha256) into BUILD below, so each new build is a new service worker: it installs a
// new cache beside the old one, and on activation deletes every older cache.

/// <reference lib="webworker" />
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const BUILD = "__YLOFT_BUILD__";
const CACHE = `yloft-${BUILD}`;
const scope = new URL(sw.registration.scope);

sw.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const manifest = await (await fetch("manifest.json", { cache: "no-store" })).json();
      const urls = [
        "./",
        "manifest.json",
        ...Object.keys(manifest.files).filter((f) => f !== "sw.js"),
      ];
      const cache = await caches.open(CACHE);
      // cache: "reload" skips the HTTP cache, so the cache holds exactly this build's bytes.
      await cache.addAll(urls.map((u) => new Request(new URL(u, scope), { cache: "reload" })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("yloft-") && name !== CACHE) await caches.delete(name);
      }
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== scope.origin) return;
  // The relay (/relay, /relay/yws/…) is live only; relay-sync.js is a file like any other.
  const relay = scope.pathname + "relay";
  if (url.pathname === relay || url.pathname.startsWith(`${relay}/`)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      // Pages may carry parameters (?storage=idb); the cached page is the same file.
      const hit = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
      if (hit) return hit;
      return fetch(request);
    })(),
  );
});
