// node --test netlify/tests/ : the tools function, called with real Request objects.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import defaultHandler, { config, makeHandler, MAX_UPLOAD_BYTES, verdict } from "../functions/tools.mjs";

const SECRET = "results-secret-0123456789";
const BERLIN = { city: "Berlin", country: { code: "DE", name: "Germany" }, subdivision: { code: "BE", name: "Berlin" }, latitude: 52.52, longitude: 13.4, timezone: "Europe/Berlin" };
const context = (extra = {}) => ({ ip: "203.0.113.7", geo: BERLIN, params: {}, ...extra });
const url = (path) => `https://bestvpnserver.com${path}`;

let nameserver; // a local HTTP server speaking the nameserver's results API
let nameserverUrl;
const seen = new Map(); // id -> resolvers
const requests = [];
const oddAnswers = new Map(); // id -> raw body the nameserver sends with 200

before(async () => {
  nameserver = createServer((req, res) => {
    requests.push({ url: req.url, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${SECRET}`) {
      res.writeHead(401, { "Content-Type": "application/json" });
      return res.end('{"error":"missing or wrong bearer token"}');
    }
    const id = req.url.replace("/results/", "");
    if (oddAnswers.has(id)) {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(oddAnswers.get(id));
    }
    if (id === "f".repeat(32)) {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end("{not json");
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ id, resolvers: seen.get(id) ?? [] }));
  });
  await new Promise((resolve) => nameserver.listen(0, "127.0.0.1", resolve));
  nameserverUrl = `http://127.0.0.1:${nameserver.address().port}`;
});
after(() => nameserver.close());

const envOf = (values) => (name) => values[name];
const configured = () =>
  makeHandler({
    env: envOf({ DNS_LEAK_ZONE: "leak.bestvpnserver.com", DNS_LEAK_RESULTS_URL: nameserverUrl, DNS_LEAK_RESULTS_SECRET: SECRET }),
  });

describe("routing", () => {
  test("config routes every tool path and sets a rate limit", () => {
    assert.equal(config.path, "/api/tools/*");
    assert.deepEqual(config.rateLimit.aggregateBy, ["ip", "domain"]);
    assert.ok(config.rateLimit.windowLimit > 0);
    assert.equal(typeof defaultHandler, "function");
  });

  test("unknown tools are 404", async () => {
    const res = await configured()(new Request(url("/api/tools/nope")), context());
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error, "No such tool.");
  });

  test("wrong methods are 405 with Allow", async () => {
    const res = await configured()(new Request(url("/api/tools/my-ip"), { method: "POST" }), context());
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET");
    const start = await configured()(new Request(url("/api/tools/dns-test/start")), context());
    assert.equal(start.status, 405);
  });
});

describe("my-ip", () => {
  test("reports context.ip and context.geo, never X-Forwarded-For", async () => {
    const req = new Request(url("/api/tools/my-ip"), { headers: { "X-Forwarded-For": "1.2.3.4", "Client-IP": "5.6.7.8" } });
    const res = await configured()(req, context());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const body = await res.json();
    assert.equal(body.ip, "203.0.113.7");
    assert.equal(body.version, 4);
    assert.deepEqual(body.location.country, { code: "DE", name: "Germany" });
    assert.equal(body.location.city, "Berlin");
  });

  test("IPv6 and missing geo", async () => {
    const res = await configured()(new Request(url("/api/tools/my-ip")), { ip: "2001:db8::7" });
    const body = await res.json();
    assert.equal(body.version, 6);
    assert.equal(body.location.country, null);
  });
});

describe("dns leak test", () => {
  test("start issues a 128-bit id and hostnames under the zone", async () => {
    const res = await configured()(new Request(url("/api/tools/dns-test/start"), { method: "POST" }), context());
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const body = await res.json();
    assert.match(body.id, /^[0-9a-f]{32}$/);
    assert.equal(body.hostnames.length, 6);
    assert.equal(body.hostnames[0], `1-${body.id}.leak.bestvpnserver.com`);
    const other = await (await configured()(new Request(url("/api/tools/dns-test/start"), { method: "POST" }), context())).json();
    assert.notEqual(other.id, body.id);
  });

  test("start without configuration is 503", async () => {
    const handler = makeHandler({ env: () => undefined });
    const res = await handler(new Request(url("/api/tools/dns-test/start"), { method: "POST" }), context());
    assert.equal(res.status, 503);
  });

  test("results ask the nameserver with the shared secret and judge a leak", async () => {
    const id = "a".repeat(32);
    seen.set(id, [
      { ip: "192.0.2.53", country: "DE", queries: 6 },
      { ip: "198.51.100.53", country: "NL", queries: 2 },
    ]);
    const res = await configured()(new Request(url(`/api/tools/dns-test/results?id=${id}`)), context());
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(requests.at(-1).url, `/results/${id}`);
    assert.equal(requests.at(-1).auth, `Bearer ${SECRET}`);
    assert.equal(body.verdict, "leak");
    assert.match(body.reason, /1 of 2 resolvers are in NL, not in DE/);
    assert.deepEqual(body.resolvers.map((r) => r.country), ["DE", "NL"]);
    assert.deepEqual(body.visitor, { ip: "203.0.113.7", country: "DE" });
  });

  test("same-country resolvers are no leak; none or unknown are inconclusive", async () => {
    const id = "b".repeat(32);
    seen.set(id, [{ ip: "192.0.2.53", country: "DE", queries: 6 }]);
    const ok = await (await configured()(new Request(url(`/api/tools/dns-test/results?id=${id}`)), context())).json();
    assert.equal(ok.verdict, "no_leak");
    const empty = await (await configured()(new Request(url(`/api/tools/dns-test/results?id=${"c".repeat(32)}`)), context())).json();
    assert.equal(empty.verdict, "inconclusive");
    assert.equal(verdict([{ ip: "192.0.2.1", country: null }], "DE").verdict, "inconclusive");
    assert.equal(verdict([{ ip: "192.0.2.1", country: "DE" }], null).verdict, "inconclusive");
  });

  test("bad ids are 400 and never reach the nameserver", async () => {
    const before = requests.length;
    for (const id of ["", "xyz", "A".repeat(32), "a".repeat(31), "../../etc/passwd"]) {
      const res = await configured()(new Request(url(`/api/tools/dns-test/results?id=${encodeURIComponent(id)}`)), context());
      assert.equal(res.status, 400);
    }
    assert.equal(requests.length, before);
  });

  test("a wrong secret, a broken answer or a dead nameserver are 502", async () => {
    const wrong = makeHandler({ env: envOf({ DNS_LEAK_RESULTS_URL: nameserverUrl, DNS_LEAK_RESULTS_SECRET: "nope" }) });
    assert.equal((await wrong(new Request(url(`/api/tools/dns-test/results?id=${"a".repeat(32)}`)), context())).status, 502);
    const broken = await configured()(new Request(url(`/api/tools/dns-test/results?id=${"f".repeat(32)}`)), context());
    assert.equal(broken.status, 502);
    const dead = makeHandler({ env: envOf({ DNS_LEAK_RESULTS_URL: "http://127.0.0.1:9", DNS_LEAK_RESULTS_SECRET: SECRET }) });
    const res = await dead(new Request(url(`/api/tools/dns-test/results?id=${"a".repeat(32)}`)), context());
    assert.equal(res.status, 502);
    assert.match((await res.json()).error, /did not answer/);
  });

  test("valid JSON that is not a results object is 502 with the documented body, never 500", async () => {
    const bodies = ["null", "[]", '"text"', "42", "true", "{}", '{"resolvers":null}', '{"resolvers":"x"}', '{"resolvers":{"ip":"192.0.2.1"}}', ""];
    for (const [n, raw] of bodies.entries()) {
      const id = n.toString(16).padStart(32, "e");
      oddAnswers.set(id, raw);
      const res = await configured()(new Request(url(`/api/tools/dns-test/results?id=${id}`)), context());
      assert.equal(res.status, 502, `upstream ${JSON.stringify(raw)}`);
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      assert.deepEqual(await res.json(), { error: "The DNS leak nameserver sent an unreadable answer." });
    }
  });

  test("resolvers with malformed fields from upstream are dropped or cleaned", async () => {
    const id = "d".repeat(32);
    seen.set(id, [{ ip: "<script>", country: "DE" }, { ip: "192.0.2.9", country: "<b>" }]);
    const body = await (await configured()(new Request(url(`/api/tools/dns-test/results?id=${id}`)), context())).json();
    assert.deepEqual(body.resolvers, [{ ip: "192.0.2.9", country: null, queries: null }]);
  });
});

describe("speed test", () => {
  test("ping is tiny and uncached", async () => {
    const res = await configured()(new Request(url("/api/tools/speedtest/ping")), context());
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("cache-control"), "no-store");
  });

  test("upload reads and discards the body and reports its size", async () => {
    const body = new Uint8Array(1_000_000);
    const res = await configured()(new Request(url("/api/tools/speedtest/upload"), { method: "POST", body }), context());
    assert.equal(res.status, 200);
    assert.equal((await res.json()).bytes, 1_000_000);
  });

  test("oversized uploads are 413, declared or streamed", async () => {
    const declared = new Request(url("/api/tools/speedtest/upload"), {
      method: "POST", body: "x", headers: { "Content-Length": String(MAX_UPLOAD_BYTES + 1) },
    });
    assert.equal((await configured()(declared, context())).status, 413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(new Uint8Array(1_000_000));
        controller.close();
      },
    });
    const streamed = new Request(url("/api/tools/speedtest/upload"), { method: "POST", body: stream, duplex: "half" });
    const res = await configured()(streamed, context());
    assert.equal(res.status, 413);
  });
});
