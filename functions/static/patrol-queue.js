// The patrol's outbox on the phone (IndexedDB): each finding is kept, with its client_ref and its shrunk
// photos as Blobs, until the office has answered 202 (or a 4xx no retry can change). Shared by the patrol
// page (patrol.js) and its service worker (patrol-sw.js, for Background Sync).
var mqQueue = (function () {
  "use strict";
  var STORE = "findings", TIMEOUT_MS = 20000;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("minqing-patrol", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_ref" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), req = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(req.result); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (list) {
      return list.sort(function (a, b) { return a.created - b.created; });
    });
  }
  function put(finding) { return tx("readwrite", function (s) { return s.put(finding); }); }
  function remove(ref) { return tx("readwrite", function (s) { return s.delete(ref); }); }

  // Offline, a timeout, 408, 429 and 5xx: try again later. Any other answer is final.
  function Later() {}
  function timed(url, init) {
    var ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, TIMEOUT_MS);
    init.signal = ctl.signal;
    return fetch(url, init).then(function (r) {
      clearTimeout(timer);
      if (r.status === 408 || r.status === 429 || r.status >= 500) throw new Later();
      return r;
    }, function () { clearTimeout(timer); throw new Later(); });
  }

  function problem(r) {
    return r.json().catch(function () { return {}; }).then(function (p) {
      var lines = Object.keys(p.errors || {}).map(function (k) { return k + ": " + [].concat(p.errors[k]).join(" "); });
      return { status: r.status, text: [p.title || p.detail || "HTTP " + r.status].concat(lines).join("\n") };
    });
  }

  function upload(blob) {
    return timed("/api/v1/attachments", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content_type: blob.type || "image/jpeg" })
    }).then(function (r) {
      if (!r.ok) return problem(r).then(function (p) { throw p; });
      return r.json();
    }).then(function (issued) {
      var data = new FormData();
      Object.keys(issued.upload.fields).forEach(function (k) { data.append(k, issued.upload.fields[k]); });
      data.append("file", blob);
      return timed(issued.upload.url, { method: "POST", body: data }).then(function (r) {
        if (!r.ok) return problem(r).then(function (p) { throw p; });
        return issued.key;
      });
    });
  }

  // One finding: its photos first (each uploaded once: the key is kept with the finding, so a retry only
  // resends what is missing), then the report under its client_ref, so a report that did arrive before
  // a timeout is answered with its receipt again and stored once.
  function send(f) {
    var chain = Promise.resolve();
    f.photos.forEach(function (photo) {
      chain = chain.then(function () {
        if (photo.key) return;
        return upload(photo.blob).then(function (key) { photo.key = key; return put(f); });
      });
    });
    return chain.then(function () {
      var body = new URLSearchParams();
      f.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
      f.photos.forEach(function (photo) { body.append(photo.field, photo.key); });
      return timed(f.action, { method: "POST", body: body, headers: { Accept: "application/json" } });
    }).then(function (r) {
      if (r.status === 202) return r.json().then(function (a) { return remove(f.client_ref).then(function () { return a; }); });
      return problem(r).then(function (p) { throw p; });
    }).catch(function (e) {
      if (e instanceof Later) throw e;
      f.error = e && e.text ? e.text : String(e);  // shown to the volunteer, never dropped
      return put(f);
    });
  }

  // Oldest first; the first that must wait stops the round (the network is gone again).
  function run() {
    return all().then(function (list) {
      var sent = [];
      return list.filter(function (f) { return !f.error; }).reduce(function (chain, f) {
        return chain.then(function () {
          return send(f).then(function (a) { if (a && a.receipt) sent.push(a.receipt); });
        });
      }, Promise.resolve()).catch(function (e) { if (!(e instanceof Later)) throw e; }).then(function () {
        return sent;
      });
    });
  }

  var running = null;
  function flush() {
    // One sender at a time across the page and the worker: two would upload the same photos twice.
    if (!running) {
      running = (self.navigator.locks ? navigator.locks.request("minqing-patrol-send", run) : run());
      running = running.then(function (sent) { running = null; return sent; },
                             function (e) { running = null; throw e; });
    }
    return running;
  }

  return { all: all, put: put, remove: remove, flush: flush };
})();
