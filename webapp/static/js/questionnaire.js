/* QReady 质评通 — the questionnaire's autosave.
 *
 * Each answer is saved as it is given: radios, dates and check boxes at once, typing after a pause.
 * Every request carries the version of the answer it edits; the server answers 409 when someone else
 * changed it meanwhile, and the person chooses which answer to keep. Until the server confirms a save,
 * the input is kept in localStorage under "qready:<assessment>:<item>:<version>", and sent again when
 * the connection returns (the online event, retries with backoff) or when any page of the assessment
 * loads. Without JavaScript the section form posts normally.
 *
 * "Not applicable" ticked without a reason is not sent (the server would refuse it): the item says at
 * once that a reason is needed, the tick is kept in localStorage like any unsent input and shown again
 * when the page is next opened, and leaving the page with one asks first (beforeunload).
 *
 * A message the server sends back with the page (a refused upload or comment, an invalid answer) is
 * focused as the page loads, so the person lands on it; a comment that was refused is typed back.
 *
 * A save only writes. Once the saves settle (none in flight or waiting for PROGRESS_DELAY), the page
 * asks for the new figures once: the progress bar, the section's count, which items apply.
 */
(function () {
  "use strict";

  var form = document.getElementById("qn-form");
  if (!form) return;
  var url = form.getAttribute("data-autosave");
  var progressUrl = form.getAttribute("data-progress");
  var assessment = form.getAttribute("data-assessment");
  var M = JSON.parse(document.getElementById("qn-messages").textContent);
  var csrfInput = form.querySelector("input[name=csrf_token]");
  var csrf = csrfInput ? csrfInput.value : "";
  var PREFIX = "qready:" + assessment + ":";
  var TYPING_DELAY = 800;
  var MAX_RETRY = 60000;
  var PROGRESS_DELAY = 300;
  var progressTimer = null;
  var items = {};

  function storage() {
    try {
      var s = window.localStorage;
      s.setItem("qready:probe", "1");
      s.removeItem("qready:probe");
      return s;
    } catch (e) {
      return null;
    }
  }
  var store = storage();

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) {
      return values[k] === undefined ? "" : String(values[k]);
    });
  }

  // ---- reading and writing one item's inputs ---------------------------------------------------------

  function field(it, name) {
    return form.querySelector('[name="' + name + "-" + cssEscape(it.id) + '"]');
  }

  function fields(it, name) {
    return form.querySelectorAll('[name="' + name + "-" + cssEscape(it.id) + '"]');
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&");
  }

  // An item's input, as its widget declares it (data-read): "bool" and "option" are radios, "number",
  // "date" and "text" one field. The script knows these kinds of input, not the answer types.
  function radiosOf(it) {
    return it.read === "bool" || it.read === "option";
  }

  function radioValue(it, value) {
    if (it.read !== "bool") return value;
    return value === true ? "yes" : value === false ? "no" : null;
  }

  function readValue(it) {
    var t = it.read;
    if (radiosOf(it)) {
      var radios = fields(it, "value");
      for (var i = 0; i < radios.length; i++) {
        if (radios[i].checked) {
          if (t === "bool") return radios[i].value === "yes";
          return radios[i].value;
        }
      }
      return null;
    }
    var input = field(it, "value");
    if (!input) return null;
    var raw = input.value;
    if (t === "number") {
      var text = raw.replace(/[,，%\s]/g, "");
      if (text === "") return null;
      var n = Number(text);
      return isFinite(n) ? n : raw;
    }
    if (t === "date") return raw || null;
    return raw.trim() === "" ? null : raw;
  }

  function read(it) {
    var out = {};
    var na = field(it, "na");
    var reason = field(it, "na_reason");
    if (na && na.checked) {
      out.na = reason ? reason.value : "";
    } else {
      out.value = readValue(it);
      if (na) out.na = null;
    }
    var narrative = field(it, "narrative");
    if (narrative) out.narrative = narrative.value;
    return out;
  }

  function write(it, s) {
    var value = s.value === undefined ? null : s.value;
    if (radiosOf(it)) {
      var want = radioValue(it, value);
      var radios = fields(it, "value");
      for (var i = 0; i < radios.length; i++) radios[i].checked = radios[i].value === want;
    } else {
      var input = field(it, "value");
      if (input) input.value = value === null ? "" : String(value);
    }
    var na = field(it, "na");
    if (na) {
      na.checked = s.na !== null && s.na !== undefined;
      var reason = field(it, "na_reason");
      if (reason) reason.value = na.checked ? s.na : "";
      syncNa(it);
    }
    var narrative = field(it, "narrative");
    if (narrative && s.narrative !== undefined) narrative.value = s.narrative || "";
  }

  function displayOf(it, s) {
    if (s.na !== null && s.na !== undefined) return (M.na_prefix || "") + s.na;
    var v = s.value;
    if (v === null || v === undefined) return "—";
    if (radiosOf(it)) {
      var want = radioValue(it, v);
      var radios = fields(it, "value");
      for (var i = 0; i < radios.length; i++) {
        if (radios[i].value === want) {
          var label = radios[i].closest("label");
          var span = label && label.querySelector("span");
          return span ? span.textContent.trim() : want;
        }
      }
    }
    return String(v);
  }

  function syncNa(it) {
    var na = field(it, "na");
    if (!na) return;
    var box = it.el.querySelector("[data-na-reason]");
    if (box) box.hidden = !na.checked;
    var inputs = fields(it, "value");
    for (var i = 0; i < inputs.length; i++) inputs[i].disabled = na.checked || it.readOnly;
    it.el.classList.toggle("qn-declared-na", na.checked);
  }

  // "not applicable" ticked, its reason not written yet: kept here, not sent
  function naWithoutReason(it) {
    if (it.readOnly) return false;
    var na = field(it, "na");
    if (!na || !na.checked) return false;
    var reason = field(it, "na_reason");
    return !reason || !reason.value.trim();
  }

  function holdNa(it) {
    remember(it);
    it.waiting = false;
    setStatus(it, "bad", M.na_needs_reason);
    announceAll();
  }

  // ---- status, errors, conflicts --------------------------------------------------------------------

  function setStatus(it, kind, text, withRetry) {
    var el = it.el.querySelector("[data-status]");
    el.textContent = "";
    var span = document.createElement("span");
    span.className = kind;
    span.textContent = text;
    el.appendChild(span);
    if (withRetry) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn small";
      b.textContent = M.retry;
      b.addEventListener("click", function () {
        it.retryDelay = 0;
        flush(it);
      });
      el.appendChild(b);
    }
  }

  function setErrors(it, messages) {
    var el = it.el.querySelector("[data-errors]");
    el.textContent = "";
    (messages || []).forEach(function (m) {
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = m;
      el.appendChild(p);
    });
  }

  function showConflict(it, theirs, yours) {
    it.conflict = { theirs: theirs, yours: yours };
    var box = it.el.querySelector("[data-conflict]");
    box.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = M.conflict;
    p.appendChild(strong);
    box.appendChild(p);
    if (theirs.by || theirs.at) {
      var who = document.createElement("p");
      who.textContent = fmt(M.changed_by, { name: theirs.by || "—", time: theirs.at || "" });
      box.appendChild(who);
    }
    var dl = document.createElement("dl");
    dl.className = "facts";
    [[M.theirs, theirs.display], [M.yours, yours.display]].forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    var buttons = document.createElement("div");
    buttons.className = "row-buttons";
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn small primary";
    keep.textContent = M.keep_mine;
    keep.addEventListener("click", function () {
      setVersion(it, theirs.version);
      write(it, yours);
      hideConflict(it);
      flush(it);
    });
    var take = document.createElement("button");
    take.type = "button";
    take.className = "btn small";
    take.textContent = M.take_theirs;
    take.addEventListener("click", function () {
      setVersion(it, theirs.version);
      write(it, theirs);
      forget(it);
      hideConflict(it);
      setStatus(it, "ok", M.saved);
    });
    buttons.appendChild(keep);
    buttons.appendChild(take);
    box.appendChild(buttons);
    box.hidden = false;
    setStatus(it, "bad", M.conflict);
  }

  function hideConflict(it) {
    it.conflict = null;
    var box = it.el.querySelector("[data-conflict]");
    box.hidden = true;
    box.textContent = "";
  }

  function setVersion(it, v) {
    it.version = v;
    it.el.setAttribute("data-version", String(v));
    var hidden = field(it, "version");
    if (hidden) hidden.value = String(v);
  }

  // ---- the local copy -------------------------------------------------------------------------------

  function remember(it) {
    if (!store) return;
    forget(it);
    var payload = read(it);
    payload.t = Date.now();
    try {
      store.setItem(PREFIX + it.id + ":" + it.version, JSON.stringify(payload));
    } catch (e) {
      /* storage full: the save itself still goes out */
    }
  }

  function forget(it) {
    if (!store) return;
    var doomed = [];
    for (var i = 0; i < store.length; i++) {
      var k = store.key(i);
      if (k && k.indexOf(PREFIX + it.id + ":") === 0) doomed.push(k);
    }
    doomed.forEach(function (k) {
      store.removeItem(k);
    });
  }

  // ---- saving ---------------------------------------------------------------------------------------

  function pending(it) {
    return it.inflight || it.timer !== null || it.waiting;
  }

  function schedule(it, delay) {
    if (it.readOnly) return;
    remember(it);
    it.waiting = true;
    if (it.timer !== null) clearTimeout(it.timer);
    it.timer = setTimeout(function () {
      it.timer = null;
      flush(it);
    }, delay);
  }

  function post(payload, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    }).then(function (r) {
      return r
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: r.status, data: data };
        });
    });
  }

  function flush(it, keepalive) {
    if (it.timer !== null) {
      clearTimeout(it.timer);
      it.timer = null;
    }
    if (it.retryTimer) {
      clearTimeout(it.retryTimer);
      it.retryTimer = null;
    }
    if (it.inflight) {
      it.dirty = true;
      return;
    }
    if (it.conflict || it.readOnly) {
      it.waiting = false;
      return;
    }
    if (naWithoutReason(it)) {
      holdNa(it);
      return;
    }
    var payload = read(it);
    payload.item = it.id;
    payload.version = it.version;
    it.inflight = true;
    it.dirty = false;
    it.waiting = false;
    setStatus(it, "saving", M.saving);
    post(payload, keepalive)
      .then(function (res) {
        it.inflight = false;
        handle(it, res, payload);
      })
      .catch(function () {
        it.inflight = false;
        retryLater(it, M.offline);
      });
  }

  function retryLater(it, message) {
    it.waiting = true;
    setStatus(it, "bad", message, true);
    it.retryDelay = Math.min(MAX_RETRY, (it.retryDelay || 1000) * 2);
    it.retryTimer = setTimeout(function () {
      it.retryTimer = null;
      flush(it);
    }, it.retryDelay);
    announceAll();
  }

  function handle(it, res, sent) {
    var d = res.data || {};
    if (res.status === 200 && d.ok) {
      it.retryDelay = 0;
      setErrors(it, []);
      var moved = d.version !== it.version;
      setVersion(it, d.version);
      if (it.dirty) {
        remember(it);
        flush(it);
      } else {
        forget(it);
        setStatus(it, "ok", M.saved);
      }
      if (moved || d.saved) refreshProgress();
      announceAll();
      return;
    }
    if (res.status === 409 && d.error === "conflict") {
      var yours = d.yours || sent;
      if (yours.display === undefined) yours.display = displayOf(it, yours);
      showConflict(it, d.theirs, yours);
      announceAll();
      return;
    }
    if (res.status === 409 && d.error === "read_only") {
      forget(it);
      makeReadOnly(d.message || M.read_only);
      return;
    }
    if (res.status === 422) {
      it.waiting = false;
      setErrors(
        it,
        (d.errors || []).map(function (e) {
          return e.message;
        })
      );
      setStatus(it, "bad", M.error);
      announceAll();
      return;
    }
    if (res.status >= 500 || res.status === 0 || res.status === 429) {
      retryLater(it, M.offline);
      return;
    }
    // signed out, session expired, refused: keep the local copy, let the person retry
    it.waiting = true;
    setStatus(it, "bad", d.message || M.unsaved, true);
    announceAll();
  }

  function makeReadOnly(message) {
    Object.keys(items).forEach(function (id) {
      var it = items[id];
      it.readOnly = true;
      var inputs = it.el.querySelectorAll("input, textarea, select");
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].form === form) inputs[i].disabled = true;
      }
      setStatus(it, "bad", message);
    });
  }

  // the figures, asked once the saves settle (a burst of answers costs one request)
  function refreshProgress() {
    if (!progressUrl) return;
    if (progressTimer !== null) clearTimeout(progressTimer);
    progressTimer = setTimeout(function () {
      progressTimer = null;
      var busy = Object.keys(items).some(function (id) {
        return items[id].inflight || items[id].timer !== null;
      });
      if (busy) {
        refreshProgress();
        return;
      }
      fetch(progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (d) {
          if (d) update(d);
        })
        .catch(function () {
          /* offline: the figures catch up with the next save or the next page */
        });
    }, PROGRESS_DELAY);
  }

  function update(d) {
    if (d.progress) {
      var bar = document.getElementById("qn-progress");
      var label = document.getElementById("qn-progress-label");
      if (bar) {
        bar.max = Math.max(1, d.progress.applicable);
        bar.value = d.progress.answered;
      }
      if (label && M.progress) label.textContent = fmt(M.progress, d.progress);
    }
    if (d.section) {
      var count = document.querySelector('.qn-count[data-section="' + cssEscape(d.section.id) + '"]');
      if (count) count.textContent = d.section.answered + "/" + d.section.applicable;
    }
    Object.keys(d.items || {}).forEach(function (id) {
      var it = items[id];
      if (!it) return;
      var info = d.items[id];
      var na = field(it, "na");
      var declared = na && na.checked;
      it.el.classList.toggle("qn-inapplicable", !info.applicable && !declared);
      var why = it.el.querySelector("[data-why]");
      if (why) {
        why.hidden = info.applicable || !info.why || declared;
        var span = why.querySelector("span");
        if (span) span.textContent = info.why || "";
      }
      var warn = it.el.querySelector("[data-evidence-warning]");
      if (warn) warn.hidden = !info.evidence_missing;
    });
  }

  var summary = document.querySelector("[data-saveall]");
  function announceAll() {
    if (!summary) return;
    var busy = Object.keys(items).some(function (id) {
      return pending(items[id]);
    });
    summary.textContent = busy ? M.pending : "";
  }

  function idle() {
    return new Promise(function (resolve) {
      (function check() {
        var busy = Object.keys(items).some(function (id) {
          var it = items[id];
          return it.inflight || it.timer !== null;
        });
        if (busy) setTimeout(check, 100);
        else resolve();
      })();
    });
  }

  function flushAll(keepalive) {
    Object.keys(items).forEach(function (id) {
      var it = items[id];
      if (it.timer !== null || (it.waiting && !it.inflight)) flush(it, keepalive);
    });
  }

  // ---- wiring ---------------------------------------------------------------------------------------

  var articles = form.querySelectorAll("article.qn-item[data-item]");
  for (var i = 0; i < articles.length; i++) {
    var el = articles[i];
    var it = {
      id: el.getAttribute("data-item"),
      read: el.getAttribute("data-read"),
      version: parseInt(el.getAttribute("data-version"), 10) || 0,
      el: el,
      timer: null,
      retryTimer: null,
      inflight: false,
      dirty: false,
      waiting: false,
      conflict: null,
      retryDelay: 0,
      readOnly: !url,
    };
    items[it.id] = it;
    syncNa(it);
  }

  function itemOf(target) {
    if (!target || target.form !== form) return null;
    var art = target.closest("article.qn-item[data-item]");
    return art ? items[art.getAttribute("data-item")] : null;
  }

  form.addEventListener("change", function (e) {
    var it = itemOf(e.target);
    if (!it) return;
    if (e.target.name === "na-" + it.id) {
      syncNa(it);
      var reason = field(it, "na_reason");
      if (e.target.checked && reason && !reason.value.trim()) {
        reason.focus();
        holdNa(it);
        return; // saved once the reason is written
      }
    }
    schedule(it, 0);
  });

  form.addEventListener("input", function (e) {
    var it = itemOf(e.target);
    if (!it) return;
    if (e.target.tagName === "TEXTAREA" || e.target.type === "text") schedule(it, TYPING_DELAY);
  });

  function leaveTo(href) {
    flushAll();
    idle().then(function () {
      window.location.href = href;
    });
  }

  form.addEventListener("submit", function (e) {
    if (!url) return;
    e.preventDefault();
    var b = e.submitter;
    if (b && b.getAttribute("data-nav")) {
      leaveTo(b.getAttribute("data-nav"));
      return;
    }
    flushAll();
    idle().then(function () {
      if (summary) summary.textContent = M.all_saved;
    });
  });

  // A file over the limit is refused here, before it is sent (a proxy in front of the app may refuse a
  // large body with a page of its own).
  document.addEventListener(
    "submit",
    function (e) {
      var f = e.target;
      if (!f.id || f.id.indexOf("ev-") !== 0) return;
      var input = document.querySelector('input[type=file][form="' + cssEscape(f.id) + '"]');
      var max = input ? parseInt(input.getAttribute("data-max-bytes"), 10) : 0;
      var file = input && input.files && input.files[0];
      if (!file || !max || file.size <= max) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      var it = items[f.id.slice(3)];
      if (!it) return;
      setErrors(it, [M.too_large]);
      var box = it.el.querySelector("[data-errors]");
      box.focus({ preventScroll: true });
      box.scrollIntoView({ block: "center" });
    },
    true
  );

  // Other forms on the page (evidence, comments) reload it: send pending answers first.
  document.addEventListener(
    "submit",
    function (e) {
      var f = e.target;
      if (f === form || !url) return;
      var busy = Object.keys(items).some(function (id) {
        return items[id].inflight || items[id].timer !== null;
      });
      if (!busy) return;
      e.preventDefault();
      flushAll();
      idle().then(function () {
        HTMLFormElement.prototype.submit.call(f);
      });
    },
    true
  );

  window.addEventListener("beforeunload", function (e) {
    var held = Object.keys(items).some(function (id) {
      return naWithoutReason(items[id]);
    });
    if (!held) return;
    e.preventDefault();
    e.returnValue = ""; // the browser asks whether to leave; the tick stays kept on this device
  });

  // A refused comment comes back with the page: keep what was typed for that case.
  var COMMENT_PREFIX = "qready:comment:" + assessment + ":";
  function session() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null;
    }
  }
  document.addEventListener(
    "submit",
    function (e) {
      var f = e.target;
      var ss = session();
      if (!ss || !f.id || f.id.indexOf("cm-") !== 0) return;
      var body = document.getElementById("comment-" + f.id.slice(3));
      try {
        if (body) ss.setItem(COMMENT_PREFIX + f.id.slice(3), body.value);
      } catch (err) {
        /* full: nothing kept */
      }
    },
    true
  );

  window.addEventListener("online", function () {
    Object.keys(items).forEach(function (id) {
      var it = items[id];
      if (it.waiting && !it.inflight) {
        it.retryDelay = 0;
        flush(it);
      }
    });
    sendOthers();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flushAll(true);
  });

  // History: read again when opened, so it shows changes made since the page loaded.
  var histories = document.querySelectorAll("details[data-history-url]");
  for (var h = 0; h < histories.length; h++) {
    histories[h].addEventListener("toggle", function (e) {
      var d = e.target;
      if (!d.open) return;
      fetch(d.getAttribute("data-history-url"), { credentials: "same-origin" })
        .then(function (r) {
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          var body = d.querySelector("[data-history]");
          if (html !== null && body) body.innerHTML = html;
        })
        .catch(function () {});
    });
  }

  // ---- on load: the message the page came back with, a refused comment ----------------------------------

  function hasText(el) {
    return !!el && el.textContent.trim() !== "";
  }

  function firstMessage() {
    var hash = window.location.hash.slice(1);
    if (hash.indexOf("item-") === 0) {
      var art = document.getElementById(hash);
      var mine = art && art.querySelector("[data-errors]");
      if (hasText(mine)) return mine;
    }
    var all = document.querySelectorAll("[data-errors]");
    for (var i = 0; i < all.length; i++) if (hasText(all[i])) return all[i];
    return null;
  }

  (function restoreComments() {
    var ss = session();
    if (!ss) return;
    var keys = [];
    for (var i = 0; i < ss.length; i++) {
      var k = ss.key(i);
      if (k && k.indexOf(COMMENT_PREFIX) === 0) keys.push(k);
    }
    keys.forEach(function (k) {
      var id = k.slice(COMMENT_PREFIX.length);
      var art = document.getElementById("item-" + id);
      var body = document.getElementById("comment-" + id);
      if (art && body && !body.value && hasText(art.querySelector("[data-errors]"))) {
        body.value = ss.getItem(k) || "";
        var box = art.querySelector("details[data-comments]");
        if (box) box.open = true;
      }
      ss.removeItem(k);
    });
  })();

  var message = firstMessage();
  function land() {
    message.focus({ preventScroll: true });
    message.scrollIntoView({ block: "center" });
  }
  if (message) {
    land();
    // going to the URL's #item-… scrolls to the item and moves the focus to the page once it has
    // loaded: land on the message again after that
    window.addEventListener("load", function () {
      setTimeout(land, 0);
    });
  }

  // ---- on load: answers typed but never confirmed by the server --------------------------------------

  function stored() {
    var out = [];
    if (!store) return out;
    for (var i = 0; i < store.length; i++) {
      var k = store.key(i);
      if (!k || k.indexOf(PREFIX) !== 0) continue;
      var rest = k.slice(PREFIX.length);
      var cut = rest.lastIndexOf(":");
      var payload;
      try {
        payload = JSON.parse(store.getItem(k));
      } catch (e) {
        payload = null;
      }
      if (!payload) continue;
      out.push({ key: k, item: rest.slice(0, cut), version: parseInt(rest.slice(cut + 1), 10) || 0, payload: payload });
    }
    return out;
  }

  function sendOthers() {
    // answers of other sections of this assessment, kept from an earlier page
    stored().forEach(function (s) {
      if (items[s.item] || !url) return;
      if (typeof s.payload.na === "string" && !s.payload.na.trim()) return; // waits for its reason
      var payload = {};
      ["value", "na", "narrative"].forEach(function (k) {
        if (k in s.payload) payload[k] = s.payload[k];
      });
      payload.item = s.item;
      payload.version = s.version;
      post(payload)
        .then(function (res) {
          if (res.status === 200 && res.data.ok) store.removeItem(s.key);
          else if (res.status === 409 && res.data.error === "read_only") store.removeItem(s.key);
        })
        .catch(function () {});
    });
  }

  var MONTH = 30 * 24 * 3600 * 1000;
  stored().forEach(function (s) {
    if (Date.now() - (s.payload.t || 0) > MONTH) {
      store.removeItem(s.key);
      return;
    }
    var it = items[s.item];
    if (!it) return;
    var mine = {};
    ["value", "na", "narrative"].forEach(function (k) {
      if (k in s.payload) mine[k] = s.payload[k];
    });
    if (it.readOnly) {
      if (!url) return;
      store.removeItem(s.key);
      return;
    }
    if (s.version === it.version) {
      write(it, mine);
      if (naWithoutReason(it)) {
        holdNa(it); // ticked "not applicable" last time, without a reason: ask for it again
        return;
      }
      setStatus(it, "saving", M.restored);
      flush(it);
    } else {
      var theirs = read(it);
      theirs.version = it.version;
      theirs.display = displayOf(it, theirs);
      mine.display = displayOf(it, mine);
      showConflict(it, theirs, mine); // the local copy stays until the person chooses
    }
  });
  if (url) sendOthers();
})();
