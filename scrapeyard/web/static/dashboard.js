// scrapeyard dashboard: local times, live sections, bulk selection, form switches.
// No dependencies.
"use strict";

(function () {
  var clock = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  var thisYear = new Intl.DateTimeFormat(undefined, Object.assign({ month: "short", day: "numeric" }, clock));
  var anyYear = new Intl.DateTimeFormat(undefined, Object.assign({ year: "numeric", month: "short", day: "numeric" }, clock));
  var year = new Date().getFullYear();
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

  // <time datetime="...Z"> in UTC from the server -> the viewer's time zone.
  function localiseTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.textContent = (at.getFullYear() === year ? thisYear : anyYear).format(at);
      el.title = at.toISOString() + " (shown in " + zone + ")";
    });
  }

  // <body data-live="URL">: Server-Sent Events whose "patch" events carry re-rendered
  // sections ({element id: html}); "end" and "logout" close the stream.
  function follow(url) {
    var state = document.getElementById("live-state");
    function show(name, text) {
      if (!state) return;
      state.dataset.state = name;
      state.textContent = text;
    }
    var source = new EventSource(url);
    document.body.dataset.liveState = "connecting";
    source.addEventListener("open", function () {
      show("open", "Live");
      document.body.dataset.liveState = "open";
    });
    source.addEventListener("patch", function (event) {
      var sections = JSON.parse(event.data);
      Object.keys(sections).forEach(function (id) {
        var el = document.getElementById(id);
        if (!el) return;
        el.innerHTML = sections[id];
        localiseTimes(el);
      });
    });
    source.addEventListener("end", function () {
      source.close();
      show("closed", "Finished");
      document.body.dataset.liveState = "ended";
    });
    source.addEventListener("logout", function () {
      source.close();
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        show("error", "Live updates stopped: reload the page");
        document.body.dataset.liveState = "closed";
      } else {
        show("error", "Reconnecting…");
      }
    });
  }

  // Job table: select all, and say how many are selected.
  function bulk(form) {
    var all = form.querySelector("[data-bulk-all]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="job"]'));
    var count = form.querySelector("[data-bulk-count]");
    var actions = form.querySelectorAll("[data-bulk-action]");
    function update() {
      var n = boxes.filter(function (box) { return box.checked; }).length;
      if (count) count.textContent = n ? n + (n === 1 ? " job selected" : " jobs selected") : "No jobs selected";
      actions.forEach(function (button) { button.disabled = n === 0; });
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  // Fieldsets marked data-only-when="NAME=VALUE VALUE..." apply only while one of those
  // values of the NAME radios is chosen (a crawl's scope; a schedule's cron or interval);
  // otherwise they are disabled, so their fields are not sent.
  function onlyWhen(form) {
    var groups = form.querySelectorAll("fieldset[data-only-when]");
    if (!groups.length) return;
    function update() {
      groups.forEach(function (group) {
        var rule = group.getAttribute("data-only-when").split("=");
        var chosen = form.querySelector('input[name="' + rule[0] + '"]:checked');
        group.disabled = !!chosen && rule[1].split(" ").indexOf(chosen.value) < 0;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  // Buttons of forms marked data-confirm="QUESTION" act only once the viewer agrees.
  function confirming(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  // An empty time zone field marked data-local-zone starts as the viewer's own.
  function localZone(input) {
    if (!input.value && zone !== "local time") input.value = zone;
  }

  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    document.querySelectorAll("form[data-bulk]").forEach(bulk);
    document.querySelectorAll("form").forEach(onlyWhen);
    document.querySelectorAll("form[data-confirm]").forEach(confirming);
    document.querySelectorAll("input[data-local-zone]").forEach(localZone);
    if (document.body.dataset.live) follow(document.body.dataset.live);
  });
})();
