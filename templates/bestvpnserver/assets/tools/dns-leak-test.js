// DNS leak test: resolve random names under our zone, then ask which resolvers asked for them.
(function () {
  "use strict";
  var root = document.querySelector('[data-tool="dns-leak-test"]');
  if (!root) return;
  var button = root.querySelector('[data-action="run"]');
  var LABELS = { leak: "DNS leak detected", no_leak: "No DNS leak found", inconclusive: "Inconclusive" };
  var MAX_POLLS = 6;

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function say(name, text) { var e = field(name); e.textContent = text; e.hidden = false; }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  function getJSON(url, options) {
    return fetch(url, Object.assign({ cache: "no-store" }, options)).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.error || "the server answered " + response.status);
        return body;
      });
    });
  }
  function lookup(hostname) {
    // Only the DNS resolution matters; the request itself may fail.
    var controller = new AbortController();
    setTimeout(function () { controller.abort(); }, 4000);
    return fetch("https://" + hostname + "/", { mode: "no-cors", cache: "no-store", signal: controller.signal })
      .catch(function () {});
  }
  function show(result) {
    var verdict = field("verdict");
    verdict.textContent = (LABELS[result.verdict] || result.verdict) + ". " + result.reason;
    verdict.className = "verdict " + result.verdict;
    verdict.hidden = false;
    var rows = field("resolvers");
    rows.textContent = "";
    result.resolvers.forEach(function (resolver) {
      var tr = document.createElement("tr");
      [resolver.ip, resolver.country || "unknown", resolver.queries == null ? "—" : String(resolver.queries)]
        .forEach(function (text, index) {
          var td = document.createElement("td");
          td.textContent = text;
          if (index === 2) td.className = "num";
          tr.appendChild(td);
        });
      rows.appendChild(tr);
    });
    field("table").hidden = result.resolvers.length === 0;
  }

  async function run() {
    button.disabled = true;
    root.dataset.state = "running";
    field("error").hidden = true;
    try {
      var test = await getJSON("/api/tools/dns-test/start", { method: "POST" });
      say("status", "Looking up " + test.hostnames.length + " random names…");
      await Promise.all(test.hostnames.map(lookup));
      await sleep(test.pollAfterMs || 1500);
      var result, previous = -1;
      for (var poll = 1; poll <= MAX_POLLS; poll++) {
        say("status", "Asking our nameserver which resolvers it saw (" + poll + " of " + MAX_POLLS + ")…");
        result = await getJSON("/api/tools/dns-test/results?id=" + encodeURIComponent(test.id));
        if (result.resolvers.length > 0 && result.resolvers.length === previous) break;
        previous = result.resolvers.length;
        if (poll < MAX_POLLS) await sleep(1500);
      }
      show(result);
      say("status", "Test finished. Your connection appears to be in " + (result.visitor.country || "an unknown country") + ".");
      root.dataset.state = "done";
    } catch (error) {
      say("error", "The test could not run: " + error.message + ".");
      root.dataset.state = "error";
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", run);
  button.disabled = false;
  root.querySelector('[data-field="js"]').textContent = "Ready: the test runs in your browser when you press the button.";
  if (location.hash === "#run") run();
})();
