// The patrol form's service worker (served as /f/patrol-sw.js, scope /f/hazard; only the patrol form
// registers it). It keeps the form and its scripts so the form opens with no network once it has been
// opened, and sends kept findings by Background Sync. Kept findings live in IndexedDB, not in these
// caches: an update of this worker deletes old caches only, never a finding.
importScripts("/assets/patrol-queue.js");
var CACHE = "minqing-patrol-v1";
var SHELL = ["/assets/form.js", "/assets/patrol-queue.js", "/assets/patrol.js"];
var WAIT_MS = 4000;  // a basement's one bar of signal: after this, the kept copy is shown

function isPatrolForm(url) {
  return url.origin === location.origin && url.pathname === "/f/hazard" && url.searchParams.get("mode") === "patrol";
}

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("minqing-patrol-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// Fresh from the network when it answers in time (and kept for next time), else the kept copy.
function networkFirst(request, fallback) {
  return caches.open(CACHE).then(function (cache) {
    var fresh = fetch(request).then(function (r) {
      if (r.ok) cache.put(request, r.clone());
      return r;
    });
    var slow = new Promise(function (resolve) { setTimeout(resolve, WAIT_MS); });
    return Promise.race([fresh, slow.then(function () { return fallback(cache); })]).then(
      function (r) { return r || fresh; },
      function () { return fallback(cache).then(function (r) { return r || fresh; }); });
  });
}

self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET") return;  // posts go straight to the network: the page keeps what fails
  if (e.request.mode === "navigate" && isPatrolForm(url)) {
    e.respondWith(networkFirst(e.request, function (cache) {
      // Another poster's form (another spot) is still the same form.
      return cache.match(e.request).then(function (r) { return r || cache.match(e.request, { ignoreSearch: true }); });
    }));
  } else if (url.origin === location.origin && SHELL.indexOf(url.pathname) >= 0) {
    e.respondWith(networkFirst(e.request, function (cache) { return cache.match(url.pathname); }));
  }
});

// The page asks for the form it was opened on to be kept, once this worker is running.
self.addEventListener("message", function (e) {
  var url = e.data && e.data.keep && new URL(e.data.keep);
  if (!url || !isPatrolForm(url)) return;
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.add(url.href); }).then(function () {
    e.source.postMessage({ kept: url.href });
  }));
});

function tellPages() {
  return self.clients.matchAll().then(function (list) {
    list.forEach(function (client) { client.postMessage({ flushed: true }); });
  });
}

self.addEventListener("sync", function (e) {
  if (e.tag === "minqing-patrol") e.waitUntil(mqQueue.flush().then(tellPages, tellPages));
});
