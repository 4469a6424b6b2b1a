// Polls a bulk report job's status and shows its progress; offers the zip when it is ready.
(function () {
  "use strict";
  var box = document.getElementById("bulk-job");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var state = document.getElementById("bulk-state");
  var count = document.getElementById("bulk-count");
  var bar = document.getElementById("bulk-progress");
  var link = document.getElementById("bulk-download");
  var refresh = document.getElementById("bulk-refresh");
  var errors = document.getElementById("bulk-errors");
  var format = count.getAttribute("data-format");

  function show(s) {
    bar.max = s.total || 1;
    bar.value = s.done;
    count.textContent = format.replace("{n}", s.done).replace("{t}", s.total);
    errors.textContent = "";
    s.errors.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = e;
      errors.appendChild(li);
    });
    if (s.ready) {
      state.textContent = state.getAttribute("data-finished");
      link.href = s.download;
      link.hidden = false;
      refresh.hidden = true;
      return true;
    }
    if (s.status === "failed" || s.status === "stopped" || s.status === "canceled") {
      state.textContent = state.getAttribute("data-failed");
      return true;
    }
    state.textContent = state.getAttribute("data-running");
    return false;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (!s || !show(s)) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
