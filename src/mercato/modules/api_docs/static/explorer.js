// OpenAPI Explorer behaviour: paging per section, search, method chips and the endpoint tester.
(function () {
  "use strict";
  var pageSize = parseInt(document.body.getAttribute("data-page-size"), 10) || 20;
  var search = document.getElementById("search");
  var chips = Array.prototype.slice.call(document.querySelectorAll(".chip"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  var state = { text: "", method: "" };
  var limits = new Map();

  function matches(op) {
    if (state.method && op.getAttribute("data-method") !== state.method) return false;
    if (!state.text) return true;
    var hay = (op.getAttribute("data-path") + " " + op.getAttribute("data-summary")).toLowerCase();
    return hay.indexOf(state.text) !== -1;
  }

  function render() {
    var visibleGroups = 0;
    groups.forEach(function (group) {
      var ops = Array.prototype.slice.call(group.querySelectorAll("article.op"));
      var matched = ops.filter(matches);
      var limit = limits.get(group) || pageSize;
      ops.forEach(function (op) { op.hidden = true; });
      matched.slice(0, limit).forEach(function (op) { op.hidden = false; });
      var shown = Math.min(limit, matched.length);
      group.querySelector(".shown").textContent = String(shown);
      group.querySelector(".total").textContent = String(matched.length);
      var more = group.querySelector("button.more");
      var remaining = matched.length - shown;
      more.hidden = remaining <= 0;
      more.textContent = "Show " + Math.min(remaining, pageSize) + " more endpoints";
      group.hidden = matched.length === 0;
      if (matched.length) visibleGroups += 1;
    });
    document.getElementById("no-results").hidden = visibleGroups > 0;
  }

  groups.forEach(function (group) {
    group.querySelector("button.more").addEventListener("click", function () {
      limits.set(group, (limits.get(group) || pageSize) + pageSize);
      render();
    });
  });
  search.addEventListener("input", function () {
    state.text = search.value.trim().toLowerCase();
    limits.clear();
    render();
  });
  chips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      state.method = chip.getAttribute("data-method");
      chips.forEach(function (c) { c.classList.toggle("active", c === chip); });
      limits.clear();
      render();
    });
  });

  // Endpoint tester: same-origin requests to /api<path>.
  var tester = document.getElementById("tester");
  var form = document.getElementById("tester-form");
  var statusEl = document.getElementById("tester-status");
  var output = document.getElementById("tester-output");
  try { form.token.value = window.sessionStorage.getItem("om-explorer-token") || ""; } catch (e) { /* storage disabled */ }

  function focusTester() {
    tester.classList.add("flash");
    tester.scrollIntoView({ behavior: "smooth", block: "start" });
    setTimeout(function () { tester.classList.remove("flash"); }, 800);
    form.path.focus();
  }
  document.getElementById("open-tester").addEventListener("click", focusTester);
  document.querySelectorAll("button.try").forEach(function (button) {
    button.addEventListener("click", function () {
      form.method.value = button.getAttribute("data-method");
      form.path.value = button.getAttribute("data-path");
      form.body.value = button.getAttribute("data-body") || "";
      focusTester();
    });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var method = form.method.value;
    var path = form.path.value.trim();
    if (path.charAt(0) !== "/") path = "/" + path;
    var headers = { Accept: "application/json" };
    var token = form.token.value.trim();
    try { window.sessionStorage.setItem("om-explorer-token", token); } catch (e) { /* storage disabled */ }
    if (token) headers.Authorization = "Bearer " + token;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET" && form.body.value.trim()) {
      headers["Content-Type"] = "application/json";
      init.body = form.body.value;
    }
    statusEl.textContent = "Sending…";
    output.textContent = "";
    var started = performance.now();
    fetch("/api" + path, init).then(function (res) {
      return res.text().then(function (text) {
        var elapsed = Math.round(performance.now() - started);
        statusEl.textContent = res.status + " " + res.statusText + " · " + elapsed + " ms";
        try { output.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { output.textContent = text; }
      });
    }).catch(function (err) {
      statusEl.textContent = "Request failed";
      output.textContent = String(err);
    });
  });

  render();
  document.body.setAttribute("data-explorer-ready", "true");
})();
