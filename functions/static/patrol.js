// The patrol form, offline first: every finding goes to the phone's outbox (patrol-queue.js) before it is
// sent, so a round through basements loses nothing; the service worker keeps the form for offline use.
(function () {
  "use strict";
  var form = document.getElementById("report"), box = document.getElementById("outbox");
  if (!form || !box || !window.indexedDB || !window.Promise || !window.fetch || !window.URLSearchParams) return;
  var store = window.localStorage, t = box.dataset, ROUND_HOURS = 12;
  var state = document.getElementById("outbox-state"), count = document.getElementById("outbox-count");
  var failed = document.getElementById("outbox-failed"), button = form.querySelector("button[type=submit]");
  var shrink = window.mqShrink || function (file) { return Promise.resolve(file); };
  var kept = ["patrol.team", "patrol.volunteer_id"];

  function newId() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function field(name) { return form.elements[name]; }

  // A round (patrol.round) starts with the first finding and lasts until "new round" or 12 quiet hours.
  function round(fresh) {
    var saved = JSON.parse(store.getItem("mq.patrol.round") || "null");
    if (fresh || !saved || Date.now() - saved.at > ROUND_HOURS * 3600e3) saved = { id: newId().slice(0, 36) };
    saved.at = Date.now();
    store.setItem("mq.patrol.round", JSON.stringify(saved));
    if (field("patrol.round")) field("patrol.round").value = saved.id;
  }
  function restore() {
    kept.forEach(function (name) { if (field(name)) field(name).value = store.getItem("mq." + name) || field(name).value; });
    round(false);
  }

  function say(text) { state.textContent = text; state.hidden = !text; }

  function show() {
    return mqQueue.all().then(function (list) {
      var waiting = list.filter(function (f) { return !f.error; }).length;
      count.textContent = t.waiting.replace("{n}", waiting);
      failed.textContent = "";
      list.filter(function (f) { return f.error; }).forEach(function (f) {
        var item = document.createElement("li"), drop = document.createElement("button");
        item.textContent = t.failed + " " + f.summary + " — " + f.error;
        drop.type = "button"; drop.className = "alt"; drop.textContent = t.drop;
        drop.onclick = function () { mqQueue.remove(f.client_ref).then(show); };
        item.appendChild(drop);
        failed.appendChild(item);
      });
      return waiting;
    });
  }

  function send() {
    return mqQueue.flush().then(function (sent) {
      if (sent.length) say(t.sent + " " + sent.join(" "));
    }, function () {}).then(show).then(function (waiting) {
      if (!waiting) return;
      say(t.kept);
      if (navigator.serviceWorker) navigator.serviceWorker.ready.then(function (reg) {
        return reg.sync && reg.sync.register("minqing-patrol");
      }).catch(function () {});
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    kept.forEach(function (name) { if (field(name)) store.setItem("mq." + name, field(name).value); });
    var fields = [], files = [], ref = newId();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "client_ref" || el.type === "submit" || el.type === "button") return;
      if (el.type === "file") {
        Array.prototype.slice.call(el.files, 0, 6).forEach(function (f) { files.push([el.name, f]); });
      } else if (el.type !== "checkbox" || el.checked) fields.push([el.name, el.value]);
    });
    fields.push(["client_ref", ref]);
    var text = (field("description") || {}).value || "";
    Promise.all(files.map(function (pair) {
      return shrink(pair[1]).catch(function () { return pair[1]; }).then(function (blob) {
        return { field: pair[0], blob: blob, key: null };
      });
    })).then(function (photos) {
      return mqQueue.put({ client_ref: ref, created: Date.now(), action: form.action, fields: fields,
                           photos: photos, summary: text.slice(0, 30) });
    }).then(function () {
      form.reset();
      restore();
      say(t.saving);
      return send();
    }).catch(function (e) { say(String(e)); }).then(function () { button.disabled = false; });
  });

  var fresh = document.getElementById("new-round");
  if (fresh) { fresh.hidden = false; fresh.onclick = function () { round(true); say(t.round); }; }
  box.hidden = false;
  restore();
  window.addEventListener("online", send);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.startMessages();
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.kept) { form.setAttribute("data-ready", ""); document.getElementById("outbox-ready").hidden = false; }
      if (e.data && e.data.flushed) show();
    });
    navigator.serviceWorker.register("/f/patrol-sw.js", { scope: "/f/hazard" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) { reg.active.postMessage({ keep: location.href }); }).catch(function () {});
  }
  send();
})();
