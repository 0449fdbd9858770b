// Keeps a kiosk screen working for weeks unattended: heartbeats, a 连接中断 badge with last good content kept,
// retries with backoff, one reload when a new build is deployed, an error screen tried again when the data changed,
// a daily reload at the county's time, and no piled-up refreshes.
(function () {
  function meta(name, fallback) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.content : fallback;
  }
  var BUILD = meta("ruralbrain-build", "");
  var BEAT_MS = Number(meta("ruralbrain-heartbeat", "60")) * 1000;
  // The county's time is UTC+8 all year (China keeps no summer time).
  var COUNTY_OFFSET_MS = 8 * 3600000;
  var DAY_MS = 86400000;
  var params = new URLSearchParams(window.location.search);
  var screenId = params.get("screen") || window.localStorage.getItem("ruralbrain-screen");
  if (!screenId) {
    screenId = "unregistered-" + Math.random().toString(36).slice(2, 10);
    window.localStorage.setItem("ruralbrain-screen", screenId);
  }
  // A registered screen's token (from `ruralbrain screens register`) comes in its address; it is kept for the
  // screen, so a page opened without it (a link followed on the screen) still proves who it is.
  var tokenKey = "ruralbrain-token-" + screenId;
  var token = params.get("token") || window.localStorage.getItem(tokenKey);
  if (params.get("token")) { window.localStorage.setItem(tokenKey, params.get("token")); }
  var offlineSince = null;
  var delay = 2000;
  var beatTimer = null;

  function scheduleBeat(ms) {
    // One heartbeat loop only: a reschedule replaces the pending beat.
    clearTimeout(beatTimer);
    beatTimer = setTimeout(beat, ms);
  }

  function badge(show) {
    var element = document.getElementById("connection-badge");
    if (!element) {
      element = document.createElement("div");
      element.id = "connection-badge";
      element.className = "connection-badge";
      document.body.appendChild(element);
    }
    if (show) {
      var since = offlineSince || new Date();
      // The county's time, as the screen's clock shows it, whatever zone the kiosk box runs in.
      var at = since.toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      element.textContent = "连接中断 " + at + "，正在重试…";
      element.style.display = "block";
    } else {
      element.style.display = "none";
    }
  }

  function offline() {
    if (!offlineSince) { offlineSince = new Date(); }
    badge(true);
  }

  function online(answer) {
    var wasOffline = offlineSince !== null;
    offlineSince = null;
    delay = 2000;
    badge(false);
    if (answer && answer.build && BUILD && answer.build !== BUILD) {
      // A new deploy: reload once to get its code (a flag per build prevents a reload loop).
      var flag = "ruralbrain-reloaded-for-" + answer.build;
      if (!window.sessionStorage.getItem(flag)) {
        window.sessionStorage.setItem(flag, "1");
        window.location.reload();
        return;
      }
    }
    if (answer && errorOutdated(answer)) {
      window.location.reload();
      return;
    }
    if (wasOffline) {
      window.dispatchEvent(new Event("ruralbrain-online"));
      // Back online through a refresh: report at once instead of waiting out the heartbeat's backoff.
      if (!answer) { scheduleBeat(0); }
    }
  }

  var realFetch = window.fetch.bind(window);
  var inFlight = {};
  // Dash callbacks go through fetch: skip a refresh whose previous request is still running (Dash treats
  // 204 as "no update"), and notice at once when the server cannot be reached.
  window.fetch = function (resource, init) {
    var url = typeof resource === "string" ? resource : resource.url;
    if (url.indexOf("_dash-update-component") === -1) { return realFetch(resource, init); }
    var key = "";
    try {
      var body = JSON.parse(init.body);
      // Only timed refreshes are skipped; anything a person did always goes through.
      var timed = (body.changedPropIds || []).every(function (id) { return /\.n_intervals$/.test(id); });
      key = timed && body.changedPropIds.length ? body.output : "";
    } catch (error) { key = ""; }
    if (key && inFlight[key]) { return Promise.resolve(new Response(null, { status: 204 })); }
    if (key) { inFlight[key] = true; }
    return realFetch(resource, init).then(function (response) {
      delete inFlight[key];
      // The warehouse version the answer was computed from (dashboard/heartbeat.py): what the screen now shows.
      var version = response.headers.get("X-RuralBrain-Version");
      var marker = document.querySelector(".data-version");
      if (version && marker) { marker.dataset.version = version; }
      if (response.status >= 500) { offline(); } else if (offlineSince) { online(null); }
      return response;
    }, function (error) {
      delete inFlight[key];
      offline();
      throw error;
    });
  };

  function shownVersion() {
    // The warehouse version the page shows (dashboard/kiosk.py's marker, kept current by each callback's answer).
    var marker = document.querySelector(".data-version");
    var version = marker ? Number(marker.dataset.version) : NaN;
    return Number.isInteger(version) ? version : null;
  }

  function errorOutdated(answer) {
    // An error screen (a warehouse without regions yet, an unknown village) is drawn once and would stay until the
    // daily reload: it is drawn again when the warehouse changed since (its marker holds the version it was drawn
    // at). Only right after the server answered (a reload while it cannot be reached leaves the browser's own error
    // page, with no script to leave it) and at most once a heartbeat period (a busy warehouse changes every few
    // seconds, and a screen whose address stays wrong should not reload at that pace).
    if (!document.querySelector(".screen-error") || typeof answer.data_version !== "number") { return false; }
    return answer.data_version !== shownVersion() && window.performance.now() >= BEAT_MS;
  }

  function beat() {
    var heap = window.performance && window.performance.memory
      ? window.performance.memory.usedJSHeapSize / 1048576 : null;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 10000);
    realFetch("/api/heartbeat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ screen: screenId, token: token, route: location.pathname + location.search,
        build: BUILD, data_version: shownVersion(), heap_mb: heap }),
      signal: controller.signal,
    }).then(function (response) {
      clearTimeout(timer);
      // Refused (a wrong token, too many unregistered screens): the server is there, the screen keeps working
      // and the ops page shows it dark until it is registered. Busy (503: the warehouse held by a long load's
      // commit): the server is there too, and the content on screen is as good as before.
      if ((response.status >= 400 && response.status < 500) || response.status === 503) { return null; }
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    }).then(function (answer) {
      online(answer);
      scheduleBeat(BEAT_MS);
    }).catch(function () {
      clearTimeout(timer);
      offline();
      delay = Math.min(delay * 2, 60000);  // back off, but never wait more than a minute
      scheduleBeat(delay);
    });
  }

  function scheduleDailyReload() {
    // RELOAD_AT is the county's time, whatever zone the kiosk box runs in (often UTC: 03:00 was 11:00 in the
    // county, in the middle of the working day): today's date in the county, read from the UTC fields of the
    // moment moved 8 hours ahead, at RELOAD_AT, moved back.
    var parts = meta("ruralbrain-reload-at", "03:00").split(":");
    var now = Date.now();
    var county = new Date(now + COUNTY_OFFSET_MS);
    var next = Date.UTC(county.getUTCFullYear(), county.getUTCMonth(), county.getUTCDate(),
      Number(parts[0]), Number(parts[1] || 0)) - COUNTY_OFFSET_MS;
    if (next <= now) { next += DAY_MS; }
    setTimeout(reloadWhenServed, next - now);
  }

  // Reloads the page once the server answers: a reload while it is down (a night's maintenance at 03:00) left
  // Chromium's own error page on the wall, which has no script to come back from.
  function reloadWhenServed() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 10000);
    realFetch("/healthz", { cache: "no-store", signal: controller.signal }).then(function (response) {
      clearTimeout(timer);
      if (!response.ok) { throw new Error("status " + response.status); }
      window.location.reload();
    }).catch(function () {
      clearTimeout(timer);
      setTimeout(reloadWhenServed, 60000);
    });
  }

  window.ruralbrainScreenId = screenId;
  window.ruralbrainOffline = function () { return offlineSince !== null; };
  scheduleBeat(1000);
  scheduleDailyReload();
})();
