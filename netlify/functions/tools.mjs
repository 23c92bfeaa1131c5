// The live diagnostic tools of bestvpnserver, as one Netlify Function:
//   GET  /api/tools/my-ip                 the caller's address and location
//   POST /api/tools/dns-test/start        a DNS leak test id and the names to resolve
//   GET  /api/tools/dns-test/results?id=  resolvers the nameserver saw, and a verdict
//   GET  /api/tools/speedtest/ping        a tiny response for latency
//   POST /api/tools/speedtest/upload      reads and discards the body, reports its size
// The speed test's download payloads are static files on the CDN (/speedtest/*.bin).

import { randomBytes } from "node:crypto";
import { isIP } from "node:net";

// Netlify buffers request bodies up to 6 MB and base64-encodes binary ones (+33 %),
// so about 4.5 MB of raw upload is what reliably gets through.
export const MAX_UPLOAD_BYTES = 4_500_000;
export const DNS_TEST_HOSTNAMES = 6;
const TEST_ID = /^[0-9a-f]{32}$/;
const RESULTS_TIMEOUT_MS = 5000;

const NO_STORE = { "Cache-Control": "no-store" };

function json(status, body, extraHeaders = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...NO_STORE, ...extraHeaders },
  });
}

function problem(status, message, extraHeaders = {}) {
  return json(status, { error: message }, extraHeaders);
}

function ipVersion(ip) {
  return isIP(ip) || null;
}

function location(geo = {}) {
  return {
    city: geo.city ?? null,
    country: geo.country?.code ? { code: geo.country.code, name: geo.country.name ?? null } : null,
    subdivision: geo.subdivision?.code
      ? { code: geo.subdivision.code, name: geo.subdivision.name ?? null }
      : null,
    latitude: typeof geo.latitude === "number" ? geo.latitude : null,
    longitude: typeof geo.longitude === "number" ? geo.longitude : null,
    timezone: geo.timezone ?? null,
  };
}

/**
 * Judge a DNS leak test. A leak is a resolver in another country than the visitor's own
 * connection (the VPN exit, when a VPN is on). Unknown countries make it inconclusive.
 */
export function verdict(resolvers, visitorCountry) {
  if (resolvers.length === 0) {
    return {
      verdict: "inconclusive",
      reason:
        "No DNS lookups reached our nameserver. Your browser may use DNS over HTTPS, or the lookups were blocked.",
    };
  }
  const foreign = resolvers.filter((r) => r.country && visitorCountry && r.country !== visitorCountry);
  if (foreign.length > 0) {
    const countries = [...new Set(foreign.map((r) => r.country))].sort().join(", ");
    return {
      verdict: "leak",
      reason: `${foreign.length} of ${resolvers.length} resolvers are in ${countries}, not in ${visitorCountry} where your connection appears to be.`,
    };
  }
  if (!visitorCountry || resolvers.some((r) => !r.country)) {
    return {
      verdict: "inconclusive",
      reason: "The country of your connection or of a resolver is unknown, so we cannot compare them.",
    };
  }
  return {
    verdict: "no_leak",
    reason: `All ${resolvers.length} resolvers are in ${visitorCountry}, like your connection.`,
  };
}

/** The results API's answer: a JSON object whose `resolvers` is a list. */
export function isResultsAnswer(data) {
  return typeof data === "object" && data !== null && !Array.isArray(data) && Array.isArray(data.resolvers);
}

async function readAndDiscard(body, limit) {
  if (!body) return 0;
  const reader = body.getReader();
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return total;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return -1;
    }
  }
}

/** Build the request handler; `env(name)` reads settings, `fetchImpl` reaches the nameserver. */
export function makeHandler({ env, fetchImpl = globalThis.fetch, now = () => Date.now() }) {
  const routes = {
    "/api/tools/my-ip": {
      GET: (req, context) => {
        const ip = context.ip ?? null; // never X-Forwarded-For: the client controls it
        return json(200, { ip, version: ip ? ipVersion(ip) : null, location: location(context.geo) });
      },
    },
    "/api/tools/dns-test/start": {
      POST: () => {
        const zone = env("DNS_LEAK_ZONE");
        if (!zone) return problem(503, "The DNS leak test is not configured on this site.");
        const id = randomBytes(16).toString("hex"); // 128 random bits
        const hostnames = Array.from({ length: DNS_TEST_HOSTNAMES }, (_, i) => `${i + 1}-${id}.${zone}`);
        return json(201, { id, hostnames, pollAfterMs: 1500, expiresInS: 300 });
      },
    },
    "/api/tools/dns-test/results": {
      GET: async (req, context) => {
        const id = new URL(req.url).searchParams.get("id") ?? "";
        if (!TEST_ID.test(id)) return problem(400, "id must be the 32 hex digits /dns-test/start returned.");
        const base = env("DNS_LEAK_RESULTS_URL");
        const secret = env("DNS_LEAK_RESULTS_SECRET");
        if (!base || !secret) return problem(503, "The DNS leak test is not configured on this site.");
        let upstream;
        try {
          upstream = await fetchImpl(`${base.replace(/\/$/, "")}/results/${id}`, {
            headers: { Authorization: `Bearer ${secret}` },
            signal: AbortSignal.timeout(RESULTS_TIMEOUT_MS),
          });
        } catch {
          return problem(502, "The DNS leak nameserver did not answer; try again in a minute.");
        }
        if (!upstream.ok) return problem(502, `The DNS leak nameserver answered ${upstream.status}.`);
        let data;
        try {
          data = await upstream.json();
        } catch {
          data = undefined;
        }
        // Valid JSON is not yet an answer: null, an array, a string or an object without a
        // resolvers list would otherwise throw below, and an uncaught throw is a 500.
        if (!isResultsAnswer(data)) {
          return problem(502, "The DNS leak nameserver sent an unreadable answer.");
        }
        const resolvers = data.resolvers
          .filter((r) => r && typeof r.ip === "string" && isIP(r.ip))
          .map((r) => ({
            ip: r.ip,
            country: typeof r.country === "string" && /^[A-Z]{2}$/.test(r.country) ? r.country : null,
            queries: Number.isInteger(r.queries) ? r.queries : null,
          }));
        const visitorCountry = context.geo?.country?.code ?? null;
        return json(200, {
          id,
          visitor: { ip: context.ip ?? null, country: visitorCountry },
          resolvers,
          ...verdict(resolvers, visitorCountry),
          checkedAt: new Date(now()).toISOString(),
        });
      },
    },
    "/api/tools/speedtest/ping": {
      GET: () => new Response(null, { status: 204, headers: NO_STORE }),
      HEAD: () => new Response(null, { status: 204, headers: NO_STORE }),
    },
    "/api/tools/speedtest/upload": {
      POST: async (req) => {
        const declared = Number(req.headers.get("content-length") ?? "0");
        if (declared > MAX_UPLOAD_BYTES) {
          return problem(413, `Upload at most ${MAX_UPLOAD_BYTES} bytes per request.`);
        }
        const started = now();
        const bytes = await readAndDiscard(req.body, MAX_UPLOAD_BYTES);
        if (bytes < 0) return problem(413, `Upload at most ${MAX_UPLOAD_BYTES} bytes per request.`);
        return json(200, { bytes, serverMs: now() - started });
      },
    },
  };

  return async function handler(req, context) {
    const { pathname } = new URL(req.url);
    const route = routes[pathname.replace(/\/$/, "")];
    if (!route) return problem(404, "No such tool.");
    const method = route[req.method];
    if (!method) {
      return problem(405, `Use ${Object.keys(route).join(" or ")}.`, { Allow: Object.keys(route).join(", ") });
    }
    return method(req, context);
  };
}

const readEnv = (name) => globalThis.Netlify?.env?.get(name) ?? process.env[name];

export default makeHandler({ env: readEnv });

export const config = {
  path: "/api/tools/*",
  rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ["ip", "domain"] },
};
