"""A faithful local fake of Netlify's deploy API (shared/reference/netlify-deploy-and-functions.md).

It speaks real HTTP on 127.0.0.1 and keeps, per site, the content hashes it already has
(across deploys, cancelled ones included), so `required` lists only what is missing, as
Netlify does. Faults can be injected: 429 with X-RateLimit-Reset, 5xx, 408, slow answers
(client timeouts), and a permanent failure after N uploads (an interrupted run).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "fake-netlify-token-0123456789"


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str  # "429" | "502" | "408" | "slow" | "400"
    times: int


@dataclass
class Site:
    id: str
    name: str
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha1 -> content
    function_blobs: set[str] = field(default_factory=set)  # sha256
    published: str | None = None
    history: list[str] = field(default_factory=list)  # published deploy ids, oldest first
    locked: bool = False


@dataclass
class FakeNetlify:
    base_url: str = ""
    sites: dict[str, Site] = field(default_factory=dict)
    deploys: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[tuple[str, str, str]] = field(default_factory=list)  # (deploy, path, sha)
    function_uploads: list[tuple[str, str, str | None, dict[str, list[str]]]] = field(
        default_factory=list
    )
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    prepare_polls: int = 2  # GETs an async deploy stays "preparing"
    slow_s: float = 1.0
    fail_uploads_after: int | None = None  # the Nth file upload onwards answers 400
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_site(self, site_id: str, name: str = "site") -> Site:
        self.sites[site_id] = Site(site_id, name)
        return self.sites[site_id]

    def inject(self, method: str, path: str, kind: str, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(path), kind, times))

    def published_files(self, site_id: str) -> dict[str, bytes]:
        """What a visitor would get: path -> bytes of the published deploy."""
        site = self.sites[site_id]
        deploy = self.deploys[site.published]  # type: ignore[index]
        return {path: site.blobs[sha] for path, sha in deploy["_files"].items()}


def _normal(path: str) -> str:
    path = unquote(path)
    return path if path.startswith("/") else "/" + path


class _Handler(BaseHTTPRequestHandler):
    fake: FakeNetlify

    # ------------------------------------------------------------------ plumbing

    def _send(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-RateLimit-Limit", "500")
        self.send_header("X-RateLimit-Remaining", "499")
        self.send_header("X-RateLimit-Reset", str(int(time.time()) + 60))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"code": status, "message": message})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _fault(self) -> bool:
        path = urlsplit(self.path).path
        with self.fake.lock:
            for fault in self.fake.faults:
                if fault.times > 0 and fault.method == self.command and fault.path.search(path):
                    fault.times -= 1
                    break
            else:
                return False
        self._body()
        if fault.kind == "slow":
            time.sleep(self.fake.slow_s)
            return False  # answers, but after the client gave up
        if fault.kind == "429":
            data = b'{"code":429,"message":"API rate limit surpassed"}'
            self.send_response(429)
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 1))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._error(int(fault.kind), "injected failure")
        return True

    def _route(self) -> None:
        fake = self.fake
        with fake.lock:
            fake.requests.append((self.command, urlsplit(self.path).path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "Access Denied")
            return
        if self._fault():
            return
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for pattern, handler in ROUTES:
            match = re.fullmatch(pattern, f"{self.command} {parts.path}")
            if match:
                handler(self, query, *match.groups())
                return
        self._error(404, "Not Found")

    do_GET = do_POST = do_PUT = do_DELETE = _route

    def log_message(self, *args: object) -> None:
        pass

    # ------------------------------------------------------------------ endpoints

    def _site(self, site_id: str) -> Site | None:
        site = self.fake.sites.get(site_id)
        if site is None:
            self._error(404, "Not Found")
        return site

    def _public(self, deploy: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in deploy.items() if not k.startswith("_")}

    def get_site(self, query: dict[str, str], site_id: str) -> None:
        site = self._site(site_id)
        if site is None:
            return
        published = self.fake.deploys.get(site.published or "")
        body = {"id": site.id, "name": site.name, "url": f"https://{site.name}.netlify.app"}
        if published:
            body["published_deploy"] = {**self._public(published), "locked": site.locked}
        self._send(200, body)

    def create_deploy(self, query: dict[str, str], site_id: str) -> None:
        site = self._site(site_id)
        if site is None:
            return
        try:
            body = json.loads(self._body())
            files = {_normal(p): sha for p, sha in body["files"].items()}
        except (ValueError, KeyError, AttributeError):
            self._error(422, "Invalid deploy: files must map paths to sha1")
            return
        if any(not re.fullmatch(r"[0-9a-f]{40}", sha) for sha in files.values()):
            self._error(422, "Invalid deploy: bad sha1")
            return
        functions = body.get("functions") or {}
        with self.fake.lock:
            deploy_id = f"d{len(self.fake.deploys) + 1:05d}"
            required = sorted({sha for sha in files.values() if sha not in site.blobs})
            required_functions = sorted(
                {s for s in functions.values() if s not in site.function_blobs}
            )
            draft = bool(body.get("draft"))
            deploy = {
                "id": deploy_id,
                "site_id": site_id,
                "title": query.get("title"),
                "draft": draft,
                "state": "preparing" if body.get("async") else "uploading",
                "required": [] if body.get("async") else required,
                "required_functions": [] if body.get("async") else required_functions,
                "context": "deploy-preview" if draft else "production",
                "created_at": f"2026-11-22T00:00:{len(self.fake.deploys):02d}Z",
                "published_at": None,
                "error_message": None,
                "ssl_url": f"https://{site.name}.netlify.app",
                "deploy_ssl_url": f"https://{deploy_id}--{site.name}.netlify.app",
                "_files": files,
                "_functions": functions,
                "_functions_config": body.get("functions_config"),
                "_pending": set(required),
                "_pending_functions": set(required_functions),
                "_required": required,
                "_required_functions": required_functions,
                "_polls": 0,
            }
            self.fake.deploys[deploy_id] = deploy
            self._advance(deploy)
        self._send(200, self._public(deploy))

    def _advance(self, deploy: dict[str, Any]) -> None:
        """One step of Netlify's processing, taken on each read of the deploy."""
        site = self.fake.sites[deploy["site_id"]]
        state = deploy["state"]
        if state == "preparing":
            deploy["_polls"] += 1
            if deploy["_polls"] > self.fake.prepare_polls:
                deploy["state"] = "prepared"
                deploy["required"] = deploy["_required"]
                deploy["required_functions"] = deploy["_required_functions"]
        elif (
            state in ("prepared", "uploading")
            and not deploy["_pending"]
            and not deploy["_pending_functions"]
        ):
            deploy["state"] = "uploaded"
        elif state == "uploaded":
            deploy["state"] = "processing"
        elif state == "processing":
            deploy["state"] = "ready"
            if not deploy["draft"] and not site.locked:
                deploy["published_at"] = "2026-11-22T00:01:00Z"
                site.published = deploy["id"]
                site.history.append(deploy["id"])

    def get_deploy(self, query: dict[str, str], site_id: str, deploy_id: str) -> None:
        deploy = self.fake.deploys.get(deploy_id)
        if deploy is None or deploy["site_id"] != site_id:
            self._error(404, "Not Found")
            return
        with self.fake.lock:
            self._advance(deploy)
        self._send(200, self._public(deploy))

    def list_deploys(self, query: dict[str, str], site_id: str) -> None:
        if self._site(site_id) is None:
            return
        deploys = [
            self._public(d) for d in reversed(self.fake.deploys.values()) if d["site_id"] == site_id
        ]
        per_page, page = int(query.get("per_page", 100)), int(query.get("page", 1))
        self._send(200, deploys[(page - 1) * per_page : page * per_page])

    def upload_file(self, query: dict[str, str], deploy_id: str, raw_path: str) -> None:
        data = self._body()
        deploy = self.fake.deploys.get(deploy_id)
        if deploy is None:
            self._error(404, "Not Found")
            return
        if deploy["state"] not in ("prepared", "uploading"):
            self._error(422, f"Deploy is {deploy['state']}, not accepting files")
            return
        path = _normal(raw_path)
        expected = deploy["_files"].get(path)
        if expected is None:
            self._error(422, f"Missing entry in deploy for {path}")
            return
        sha = hashlib.sha1(data).hexdigest()
        if sha != expected:
            self._error(422, f"Uploaded file {path} did not match deploy")
            return
        with self.fake.lock:
            limit = self.fake.fail_uploads_after
            if limit is not None and len(self.fake.uploads) >= limit:
                self._error(400, "simulated crash: upload refused")
                return
            self.fake.sites[deploy["site_id"]].blobs[sha] = data
            deploy["_pending"].discard(sha)
            self.fake.uploads.append((deploy_id, path, sha))
        self._send(200, {"id": sha, "path": path, "sha": sha, "size": len(data)})

    def upload_function(self, query: dict[str, str], deploy_id: str, name: str) -> None:
        data = self._body()
        deploy = self.fake.deploys.get(deploy_id)
        if deploy is None:
            self._error(404, "Not Found")
            return
        if not query.get("runtime"):
            self._error(422, "runtime is required")
            return
        sha = hashlib.sha256(data).hexdigest()
        if deploy["_functions"].get(name) != sha:
            self._error(422, f"Uploaded function {name} did not match deploy")
            return
        with self.fake.lock:
            self.fake.sites[deploy["site_id"]].function_blobs.add(sha)
            deploy["_pending_functions"].discard(sha)
            self.fake.function_uploads.append(
                (
                    deploy_id,
                    name,
                    self.headers.get("X-Nf-Retry-Count"),
                    {k: [v] for k, v in query.items()},
                )
            )
        self._send(200, {"id": sha, "name": name, "sha": sha})

    def cancel(self, query: dict[str, str], deploy_id: str) -> None:
        deploy = self.fake.deploys.get(deploy_id)
        if deploy is None:
            self._error(404, "Not Found")
            return
        deploy["state"] = "canceled"  # the uploaded blobs stay known to the site
        self._send(201, self._public(deploy))

    def rollback(self, query: dict[str, str], site_id: str) -> None:
        site = self._site(site_id)
        if site is None:
            return
        if len(site.history) < 2:
            self._error(422, "No previous deploy to roll back to")
            return
        site.history.pop()
        site.published = site.history[-1]
        self._send(204)

    def restore(self, query: dict[str, str], site_id: str, deploy_id: str) -> None:
        site = self._site(site_id)
        deploy = self.fake.deploys.get(deploy_id)
        if site is None or deploy is None or deploy["state"] != "ready":
            self._error(422, "Cannot restore that deploy")
            return
        site.published = deploy_id
        site.history.append(deploy_id)
        self._send(201, self._public(deploy))


ROUTES = [
    (r"GET /api/v1/sites/([^/]+)", _Handler.get_site),
    (r"POST /api/v1/sites/([^/]+)/deploys", _Handler.create_deploy),
    (r"GET /api/v1/sites/([^/]+)/deploys", _Handler.list_deploys),
    (r"GET /api/v1/sites/([^/]+)/deploys/([^/]+)", _Handler.get_deploy),
    (r"PUT /api/v1/deploys/([^/]+)/files/(.+)", _Handler.upload_file),
    (r"PUT /api/v1/deploys/([^/]+)/functions/([^/]+)", _Handler.upload_function),
    (r"POST /api/v1/deploys/([^/]+)/cancel", _Handler.cancel),
    (r"PUT /api/v1/sites/([^/]+)/rollback", _Handler.rollback),
    (r"POST /api/v1/sites/([^/]+)/deploys/([^/]+)/restore", _Handler.restore),
]


@contextmanager
def fake_netlify() -> Iterator[FakeNetlify]:
    fake = FakeNetlify()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
