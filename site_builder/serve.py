"""A local preview server for a built site (never for production: the CDN serves that)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class PreviewHandler(SimpleHTTPRequestHandler):
    """Serves files like the CDN does: directory index.html, and /404.html for misses."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        not_found = Path(self.directory) / "404.html"
        if code == 404 and not_found.is_file():
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(directory: Path, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    handler = functools.partial(PreviewHandler, directory=str(directory))
    return ThreadingHTTPServer((host, port), handler)
