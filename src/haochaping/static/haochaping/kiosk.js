/* 窗口评价器 (kiosk) — progressive enhancement of the server-rendered rating flow.
 *
 * Without this script everything still works (plain form posts). With it:
 *  - the page polls /kiosk/state and reloads when the window's business system pushes a new 办件;
 *  - the reasons step of a bad level is shown from an inert <template>, without a round trip;
 *  - the final submit goes to /kiosk/submit (JSON). When the network is down the evaluation is kept in
 *    localStorage (form fields only: the signed form token, level, labels, comment; the kiosk holds no
 *    personal data, and the device secret stays in its HttpOnly cookie) and delivered, in order, on the
 *    `online` event and on a timer. The idempotency key inside the signed form token makes a retry of an
 *    already stored evaluation a replay (200), so each one is stored exactly once;
 *  - the thank-you screen returns to the start after a few seconds (with a button to stay longer).
 */
(function () {
  "use strict";

  var QUEUE_KEY = "haochaping.kiosk.queue";
  var POLL_MS = 4000;
  var RETRY_MS = 5000;
  var STAY_SECONDS = 30;

  var root = document.getElementById("kiosk");
  if (!root || !root.dataset.stateUrl) {
    return; // the activation page: nothing to enhance
  }
  var cfg = root.dataset;
  var mode = cfg.mode; // waiting | level | details | thanks
  var stateKey = cfg.stateKey || "";
  var draining = false;
  var countdown = null;

  function loadQueue() {
    try {
      var q = JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(q) {
    window.localStorage.setItem(QUEUE_KEY, JSON.stringify(q));
  }

  function enqueue(item) {
    var q = loadQueue().filter(function (x) { return x.id !== item.id; });
    q.push(item);
    saveQueue(q);
  }

  function dequeue(id) {
    saveQueue(loadQueue().filter(function (x) { return x.id !== id; }));
  }

  function post(fields) {
    var body = new URLSearchParams();
    fields.forEach(function (f) { body.append(f[0], f[1]); });
    return fetch(cfg.submitUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": cfg.csrf, "Accept": "application/json" }
    });
  }

  function isProblem(response) {
    // Our own refusals are JSON problem details. Anything else (the CSRF failure page, a proxy's error page)
    // says nothing about the evaluation itself, so the item is kept and tried again.
    return (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
  }

  function keepForLater(response) {
    return response.status === 429 || response.status >= 500 || !isProblem(response);
  }

  // Deliver queued evaluations one at a time, oldest first. Resolves when the queue is empty or stuck.
  function drain() {
    if (draining) {
      return Promise.resolve();
    }
    var q = loadQueue();
    if (!q.length) {
      return Promise.resolve();
    }
    draining = true;
    var item = q[0];
    return post(item.fields).then(function (response) {
      if (response.ok) {
        dequeue(item.id);
        return true;
      }
      if (keepForLater(response)) {
        return false;
      }
      // Refused for good (e.g. the evaluation period has closed): retrying cannot help.
      dequeue(item.id);
      return response.json().catch(function () { return {}; }).then(function (p) {
        console.warn("评价器：排队的评价被拒绝，已丢弃", response.status, p.detail || "");
        return true;
      });
    }, function () {
      return false; // still offline
    }).then(function (goOn) {
      draining = false;
      return goOn ? drain() : undefined;
    });
  }

  function fetchState() {
    return fetch(cfg.stateUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 403) {
          window.location.replace(cfg.pageUrl); // deactivated: the page says so
          return null;
        }
        return response.ok ? response.json() : null;
      });
  }

  function poll() {
    if (mode !== "waiting" && mode !== "level") {
      return; // never pull the page from under a citizen who is choosing reasons or reading the receipt
    }
    // Queued evaluations first: once delivered, the rated 办件 is no longer current and is not shown again.
    drain().then(function () {
      if (loadQueue().length) {
        return null;
      }
      return fetchState();
    }).then(function (state) {
      if (state && state.key !== stateKey) {
        window.location.replace(cfg.pageUrl);
      }
    }).catch(function () { /* offline: try again at the next tick */ });
  }

  function section() {
    return document.querySelector("section.rate") || document.querySelector("section.kiosk-waiting");
  }

  function fromTemplate(id) {
    var tpl = document.getElementById(id);
    return tpl ? tpl.content.cloneNode(true) : null;
  }

  function showWaiting() {
    var frag = fromTemplate("kiosk-waiting");
    var current = section();
    if (frag && current) {
      current.replaceWith(frag);
    }
    mode = "waiting";
    stateKey = ""; // whatever the server shows next (other than nothing) is new
    root.dataset.mode = mode;
  }

  function reset() {
    if (countdown) {
      window.clearInterval(countdown);
      countdown = null;
    }
    drain().then(fetchState).then(function (state) {
      if (state) {
        window.location.replace(cfg.pageUrl);
      } else {
        showWaiting();
      }
    }).catch(showWaiting);
  }

  function startCountdown(container) {
    var left = parseInt(cfg.resetSeconds, 10) || 10;
    var shown = container.querySelector("[data-slot=countdown]");
    var stay = container.querySelector("[data-action=stay]");
    var done = container.querySelector("[data-action=done]");
    function paint() { if (shown) { shown.textContent = String(left); } }
    paint();
    if (stay) {
      stay.hidden = false;
      stay.addEventListener("click", function () { left += STAY_SECONDS; paint(); });
    }
    if (done) {
      done.addEventListener("click", function (ev) { ev.preventDefault(); reset(); });
    }
    countdown = window.setInterval(function () {
      left -= 1;
      paint();
      if (left <= 0) {
        reset();
      }
    }, 1000);
  }

  function showThanks(levelText, receipt, queued, handling) {
    var frag = fromTemplate("kiosk-thanks");
    var current = section();
    if (!frag || !current) {
      return;
    }
    current.innerHTML = "";
    current.appendChild(frag);
    current.querySelector("[data-slot=level]").textContent = levelText;
    if (handling) {
      // A 差评: who handles it and by when (the case opened with it).
      var note = current.querySelector("[data-slot=handling]");
      note.textContent = handling;
      note.hidden = false;
    }
    if (receipt) {
      current.querySelector("[data-slot=receipt]").textContent = receipt;
    } else {
      current.querySelector("[data-slot=receipt-row]").hidden = true;
      current.querySelector("[data-slot=queued]").hidden = false;
    }
    mode = "thanks";
    root.dataset.mode = mode;
    current.querySelector("h1").focus();
    startCountdown(current);
  }

  function showError(form, message) {
    var el = form.querySelector(".kiosk-error");
    if (!el) {
      el = document.createElement("p");
      el.className = "error kiosk-error";
      el.setAttribute("role", "alert");
      el.tabIndex = -1;
      form.insertBefore(el, form.firstChild);
    }
    el.textContent = message;
    el.focus();
  }

  function showDetails(form, level, button) {
    var frag = fromTemplate("kiosk-details-" + level);
    var levels = form.querySelector("fieldset.levels");
    if (!frag || !levels) {
      return false;
    }
    levels.replaceWith(frag);
    mode = "details";
    root.dataset.mode = mode;
    form.dataset.levelText = button.textContent.trim();
    var first = form.querySelector("fieldset.reasons input, textarea");
    if (first) {
      first.focus();
    }
    return true;
  }

  function enhance(form) {
    form.addEventListener("submit", function (ev) {
      var button = ev.submitter;
      var fields = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken") {
          fields.push([name, value]);
        }
      });
      if (button && button.name && button.value) {
        fields.push([button.name, button.value]);
      }
      var get = function (name) {
        var hit = fields.filter(function (f) { return f[0] === name; })[0];
        return hit ? hit[1] : null;
      };
      var level = get("level");
      if (!level) {
        return; // let the server say what is missing
      }
      if (get("confirm") === null && button && button.classList.contains("bad")) {
        if (showDetails(form, level, button)) {
          ev.preventDefault();
        }
        return;
      }
      ev.preventDefault();
      var chosen = form.querySelector(".chosen strong");
      var levelText = form.dataset.levelText || (chosen ? chosen.textContent : "") || (button ? button.textContent.trim() : "");
      var item = { id: get("form_token"), fields: fields, queuedAt: Date.now() };
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      post(fields).then(function (response) {
        if (response.ok) {
          return response.json().then(function (body) { showThanks(body.level_text, body.receipt_code, false, body.handling); });
        }
        if (keepForLater(response)) {
          enqueue(item);
          showThanks(levelText, null, true);
          return null;
        }
        return response.json().then(function (p) {
          buttons.forEach(function (b) { b.disabled = false; });
          showError(form, p.detail || p.title || "评价未能提交，请重试");
        });
      }, function () {
        enqueue(item);
        showThanks(levelText, null, true);
      }).catch(function (err) {
        console.warn("评价器：提交出错", err);
      });
    });
  }

  var form = document.querySelector("form.rate-form");
  if (form) {
    enhance(form);
  }
  if (mode === "thanks") {
    startCountdown(section());
  }
  window.addEventListener("online", function () { drain().catch(function () {}); });
  window.setInterval(function () { drain().catch(function () {}); }, RETRY_MS);
  window.setInterval(poll, POLL_MS);
  drain().catch(function () {});
}());
