// The demo host's offline shell: its own files, from the network when there is one and from this
// cache when there is not, so the page (and its queue of photos) opens in a basement. Requests to
// the API and to S3 are never touched. `make web` stamps the version and the file list.

const VERSION = "__VERSION__";
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== VERSION).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// The page's own files and nothing else: an API on this origin (grants, listings holding photo
// URLs) must never be answered from a cache.
const SCOPE = new URL("./", self.location.href);
const OWN = new Set(SHELL.map((name) => new URL(name, SCOPE).pathname));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !OWN.has(url.pathname)) return;
  const key = url.origin + url.pathname; // ?job=… is the same page
  event.respondWith(fetch(event.request)
    .then((resp) => {
      if (resp.ok) {
        const copy = resp.clone();
        caches.open(VERSION).then((cache) => cache.put(key, copy));
      }
      return resp;
    })
    .catch(() => caches.match(key).then((hit) => hit || Response.error())));
});
