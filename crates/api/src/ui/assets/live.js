// unicharge web UI: live updates from the CSMS's committed facts (server-sent events from
// /ui/live). Written for this UI (no library, no build step). Only text and attributes are
// set: nothing received is ever parsed as HTML. Pages work without it; it only saves reloads.
(function () {
  "use strict";
  var url = document.body && document.body.getAttribute("data-live");
  if (!url || !window.EventSource) {
    return;
  }

  // Every element whose attribute `name` equals `key`.
  function each(name, key, fn) {
    var nodes = document.querySelectorAll("[" + name + "]");
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute(name) === key) {
        fn(nodes[i]);
      }
    }
  }

  function status(el, word) {
    el.textContent = word;
    el.className = "status status-" + String(word).toLowerCase();
  }

  // A running transaction that started while the station page was open.
  function started(f) {
    var key = f.station + "/" + f.transaction;
    each("data-running", f.station, function (list) {
      var known = false;
      each("data-cost", key, function () { known = true; });
      if (known) {
        return;
      }
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = f.href;
      link.textContent = f.transaction;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" on EVSE " + (f.evse == null ? "—" : f.evse) + ", cost "));
      var cost = document.createElement("span");
      cost.setAttribute("data-cost", key);
      cost.textContent = "not priced yet";
      item.appendChild(cost);
      list.appendChild(item);
    });
    each("data-running-empty", f.station, function (el) { el.hidden = true; });
  }

  var source = new EventSource(url);
  // Tells a watcher (and the browser tests) that updates from now on will be shown.
  source.onopen = function () {
    document.body.setAttribute("data-live-ready", "true");
  };
  source.onmessage = function (message) {
    var f;
    try {
      f = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    var key = f.station + "/" + f.transaction;
    switch (f.type) {
      case "station":
        each("data-station", f.station, function (el) { status(el, f.online ? "Online" : "Offline"); });
        break;
      case "connector":
        each("data-connector", f.station + "/" + f.evse + "/" + f.connector, function (el) { status(el, f.status); });
        break;
      case "started":
        started(f);
        break;
      case "cost":
        each("data-cost", key, function (el) {
          var currency = el.getAttribute("data-currency");
          el.textContent = f.total + (currency ? " " + currency : "");
        });
        break;
      case "ended":
        each("data-ended", key, function (el) { el.textContent = "just now"; });
        each("data-cost", key, function (el) { el.setAttribute("data-final", "true"); });
        break;
      case "record":
        each("data-record", key, function (el) { el.hidden = false; });
        break;
      case "firmware":
        each("data-firmware", f.station, function (el) { el.textContent = f.status; });
        break;
      case "lagged":
        window.location.reload();
        break;
    }
  };
})();
