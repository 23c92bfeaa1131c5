// A local stand-in for Netlify: serves a built site and runs the tools function for
// /api/tools/*, with context.ip from the socket and context.geo from $STANDIN_GEO (JSON).
// Usage: node netlify/standin/serve.mjs output/bestvpnserver [port]
// Prints "listening on http://127.0.0.1:PORT/" once ready. For local testing only.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { Readable } from "node:stream";

import handler from "../functions/tools.mjs";

const root = resolve(process.argv[2] ?? "output/bestvpnserver");
const port = Number(process.argv[3] ?? 8888);
const geo = JSON.parse(process.env.STANDIN_GEO ?? '{"city":"Localhost","country":{"code":"ZZ","name":"Local network"}}');
const TYPES = {
  ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
  ".xml": "application/xml", ".txt": "text/plain", ".json": "application/json",
  ".bin": "application/octet-stream", ".svg": "image/svg+xml", ".csv": "text/csv; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

async function serveFunction(req, res) {
  const url = `http://${req.headers.host}${req.url}`;
  const hasBody = !["GET", "HEAD"].includes(req.method);
  const request = new Request(url, {
    method: req.method,
    headers: req.headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? "half" : undefined,
  });
  const ip = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const response = await handler(request, { ip, geo, params: {} });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

async function serveFile(req, res) {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file = normalize(join(root, path));
  if (!file.startsWith(root)) {
    res.writeHead(400).end();
    return;
  }
  try {
    if ((await stat(file)).isDirectory()) file = join(file, "index.html");
    await stat(file);
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404, { "Content-Type": "text/html; charset=utf-8" });
    createReadStream(join(root, "404.html")).on("error", () => res.end("not found")).pipe(res);
  }
}

createServer((req, res) => {
  const work = req.url.startsWith("/api/tools/") ? serveFunction(req, res) : serveFile(req, res);
  work.catch((error) => {
    res.writeHead(500).end(String(error));
  });
}).listen(port, "127.0.0.1", function () {
  console.log(`listening on http://127.0.0.1:${this.address().port}/`);
});
