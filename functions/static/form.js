// Small enhancements of the phone forms; every page works without this file.
(function () {
  "use strict";
  var form = document.getElementById("report");
  var store = window.localStorage;
  var round = document.getElementById("round");
  if (round && store) {
    var seen = JSON.parse(store.getItem("mq.round") || "[]");
    if (seen.indexOf(round.dataset.receipt) < 0) seen.push(round.dataset.receipt);
    store.setItem("mq.round", JSON.stringify(seen.slice(-50)));
    round.textContent = round.dataset.label + " " + seen.length;
  }
  if (!form) return;
  var field = function (name) { return form.elements[name]; };
  var patrol = form.hasAttribute("data-patrol") && store;
  var remembered = ["patrol.team", "patrol.volunteer_id"];
  if (patrol) remembered.forEach(function (name) {
    if (field(name) && !field(name).value) field(name).value = store.getItem("mq." + name) || "";
  });

  var locate = document.getElementById("locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.onclick = function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        field("location.lat").value = p.coords.latitude.toFixed(6);
        field("location.lon").value = p.coords.longitude.toFixed(6);
        locate.textContent = form.dataset.located + " ±" + Math.round(p.coords.accuracy) + " m";
      }, function () {}, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    };
  }

  // At most 2000 px on the long side, JPEG quality 80: a 4 MB camera photo becomes a few hundred KB.
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 2000 / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.naturalWidth * scale);
        canvas.height = Math.round(img.naturalHeight * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(img.src);
        canvas.toBlob(function (b) { b ? resolve(b) : reject(); }, "image/jpeg", 0.8);
      };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  function upload(blob) {
    return fetch("/api/v1/attachments", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content_type: blob.type })
    }).then(function (r) { if (!r.ok) throw r; return r.json(); }).then(function (issued) {
      var data = new FormData();
      Object.keys(issued.upload.fields).forEach(function (k) { data.append(k, issued.upload.fields[k]); });
      data.append("file", blob);
      return fetch(issued.upload.url, { method: "POST", body: data }).then(function (r) {
        if (!r.ok) throw r;
        return issued.key;
      });
    });
  }

  // The patrol form keeps its findings on the phone and sends them itself (patrol.js).
  window.mqShrink = shrink;
  if (form.hasAttribute("data-offline") && window.indexedDB && window.Promise && window.fetch) return;

  form.addEventListener("submit", function (event) {
    var button = form.querySelector("button[type=submit]");
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.textContent = form.dataset.sending;
    if (patrol) remembered.forEach(function (name) { if (field(name)) store.setItem("mq." + name, field(name).value); });
    var input = form.querySelector("input[type=file]");
    var files = input && input.files ? Array.prototype.slice.call(input.files, 0, 6) : [];
    if (!files.length || !window.fetch || !window.Promise) return;
    event.preventDefault();
    Promise.all(files.map(function (f) {
      return shrink(f).catch(function () { return f; }).then(upload);
    })).then(function (keys) {
      keys.forEach(function (key) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "photos"; hidden.value = key;
        form.appendChild(hidden);
      });
      input.disabled = true;
      form.enctype = "application/x-www-form-urlencoded";
      form.submit();
    }, function () {
      form.submit(); // the photos go with the form itself, as without JavaScript
    });
  });
})();
