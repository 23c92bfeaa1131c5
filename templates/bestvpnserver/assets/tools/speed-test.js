// Speed test: ping (median of ten), then download and upload with requests of growing
// size, reporting the 90th percentile of per-request throughput (Cloudflare's method).
(function () {
  "use strict";
  var root = document.querySelector('[data-tool="speed-test"]');
  if (!root) return;
  var button = root.querySelector('[data-action="run"]');
  var DOWNLOADS = [["100k", 1e5], ["1m", 1e6], ["10m", 1e7], ["25m", 2.5e7]];
  var UPLOADS = [1e5, 1e6, 4e6];
  var PINGS = 10;
  var ENOUGH_MS = 1000; // stop growing once one request takes this long
  var MIN_MS = 10;      // shorter requests say more about timers than bandwidth

  function say(name, text) {
    var e = root.querySelector('[data-field="' + name + '"]');
    e.textContent = text;
    e.hidden = false;
  }
  function median(values) {
    var s = values.slice().sort(function (a, b) { return a - b; });
    var m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
  function percentile90(values) {
    var s = values.slice().sort(function (a, b) { return a - b; });
    return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
  }
  function mbps(bitsPerMs) { return (bitsPerMs / 1000).toFixed(1) + " Mbit/s"; }
  function nonce() { return Math.random().toString(36).slice(2); }
  function randomBody(size) {
    var bytes = new Uint8Array(size);
    for (var offset = 0; offset < size; offset += 65536) {
      crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
    }
    return bytes;
  }

  async function ping() {
    var times = [];
    for (var i = 0; i <= PINGS; i++) {
      var started = performance.now();
      var response = await fetch("/api/tools/speedtest/ping?r=" + nonce(), { cache: "no-store" });
      if (!response.ok) throw new Error("ping answered " + response.status);
      if (i > 0) times.push(performance.now() - started); // the first one opens the connection
    }
    var jitter = 0;
    for (var j = 1; j < times.length; j++) jitter += Math.abs(times[j] - times[j - 1]);
    return { median: median(times), jitter: jitter / (times.length - 1) };
  }

  async function measure(sizes, transfer) {
    var rates = [];
    for (var i = 0; i < sizes.length; i++) {
      var started = performance.now();
      var bytes = await transfer(sizes[i]);
      var elapsed = performance.now() - started;
      if (elapsed >= MIN_MS) rates.push((bytes * 8) / elapsed);
      if (elapsed >= ENOUGH_MS) break;
    }
    if (rates.length === 0) rates.push(0);
    return percentile90(rates);
  }

  async function download(entry) {
    var response = await fetch("/speedtest/payload-" + entry[0] + ".bin?r=" + nonce(), { cache: "no-store" });
    if (!response.ok) throw new Error("download answered " + response.status);
    return (await response.arrayBuffer()).byteLength;
  }

  async function upload(size) {
    var response = await fetch("/api/tools/speedtest/upload", {
      method: "POST", body: randomBody(size), cache: "no-store",
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (!response.ok) throw new Error("upload answered " + response.status);
    return (await response.json()).bytes;
  }

  async function run() {
    button.disabled = true;
    root.dataset.state = "running";
    ["ping", "jitter", "download", "upload"].forEach(function (name) { say(name, "…"); });
    try {
      say("status", "Measuring latency…");
      var latency = await ping();
      say("ping", latency.median.toFixed(0) + " ms");
      say("jitter", latency.jitter.toFixed(1) + " ms");
      say("status", "Measuring download speed…");
      say("download", mbps(await measure(DOWNLOADS, download)));
      say("status", "Measuring upload speed…");
      say("upload", mbps(await measure(UPLOADS, upload)));
      say("status", "Done. Run it again with your VPN on (or off) to compare.");
      root.dataset.state = "done";
    } catch (error) {
      say("error", "The test stopped: " + error.message + ".");
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
