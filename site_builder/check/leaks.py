"""No secret, local filesystem path or draft content may reach the output."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import frontmatter

from site_builder.render.content import source_text

# Environment variables whose values are secrets, by exact name or by name pattern.
SECRET_NAMES = {
    "NETLIFY_AUTH_TOKEN",
    "DATABASE_URL",
    "SITE_BUILDER_PROBE_KEYS",
    "DNS_LEAK_RESULTS_SECRET",
    # Alert webhooks: a Slack incoming webhook URL is its own credential (site_builder.ops)
    "SITE_BUILDER_ALERT_SLACK_URL",
    "SITE_BUILDER_ALERT_WEBHOOK_URL",
}
SECRET_PATTERN = re.compile(r"(_TOKEN|_SECRET|_PASSWORD|_API_KEY|_CLIENT_SECRET|_PRIVATE_KEY)$")
MIN_SECRET_LENGTH = 8  # shorter values would match ordinary text
BINARY_SUFFIXES = {
    ".bin",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".avif",
    ".ico",
    ".woff",
    ".woff2",
    ".zip",
    ".gz",
}


def secret_values(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(variable name, secret value) pairs to look for, including the parts of compound ones."""
    found: list[tuple[str, str]] = []
    for name, value in sorted(env.items()):
        if not value or not (name in SECRET_NAMES or SECRET_PATTERN.search(name)):
            continue
        candidates = [value]
        if name == "SITE_BUILDER_PROBE_KEYS":
            with contextlib.suppress(ValueError, AttributeError):
                candidates += [v for v in json.loads(value).values() if isinstance(v, str)]
        if name == "DATABASE_URL":
            password = urlsplit(value).password
            candidates = [password] if password else []
        found += [(name, c) for c in candidates if len(c) >= MIN_SECRET_LENGTH]
    return found


def local_paths(project_root: Path) -> list[str]:
    paths = {str(project_root.resolve())}
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        paths.add(home.rstrip("/") + "/")
    return sorted(paths)


# An escape of any kind in a file: a secret may hide behind one (a password with a quote is
# `&#39;` in a page Jinja escaped; a token in a link is percent-encoded). A file without one
# is only searched as it is; one with them is decoded once per kind found (a page's few
# entities cost one C-speed regex pass).
HTML_ENTITY = re.compile(rb"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
JSON_ESCAPE = re.compile(rb"\\u[0-9A-Fa-f]{4}")
JSON_ESCAPE_TEXT = re.compile(r"\\u([0-9A-Fa-f]{4})")


def decoded_forms(data: bytes) -> Iterator[tuple[str, str]]:
    """The file's text with each kind of escape it holds decoded: (encoding, text)."""
    has_html, has_percent = HTML_ENTITY.search(data), PERCENT.search(data)
    has_json = JSON_ESCAPE.search(data)
    if not (has_html or has_percent or has_json):
        return
    text = data.decode("utf-8", "replace")
    unescaped = html.unescape(text) if has_html else text
    if has_html:
        yield "HTML entities", unescaped
    if has_percent:
        yield "URL encoding", unquote(text, errors="replace")
    if has_html and "%" in unescaped and unescaped != text:
        yield "HTML entities and URL encoding", unquote(unescaped, errors="replace")
    if has_json:
        yield "JSON \\u escapes", JSON_ESCAPE_TEXT.sub(lambda m: chr(int(m[1], 16)), text)


def check_leaks(root: Path, secrets: list[tuple[str, str]], paths: list[str]) -> list[str]:
    """Every output file that contains a secret value or a local path (names, not values),
    as it is or behind HTML entities, URL encoding or JSON \\u escapes."""
    needles = [(f"the value of ${name}", value) for name, value in secrets]
    needles += [(f"the local path {path}", path) for path in paths]
    needles.append(("a file:// URL", "file://"))
    encoded = [(label, needle.encode()) for label, needle in needles]
    problems = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.suffix.lower() in BINARY_SUFFIXES:
            continue
        name = file.relative_to(root).as_posix()
        data = file.read_bytes()
        found = {label for label, needle in encoded if needle in data}
        problems += [f"{name}: contains {label}" for label, _ in needles if label in found]
        if len(found) == len(needles):
            continue
        for encoding, text in decoded_forms(data):
            for label, needle in needles:
                if label not in found and needle in text:
                    found.add(label)
                    problems.append(f"{name}: contains {label}, written as {encoding}")
    return problems


def check_drafts(root: Path, content_dir: Path) -> list[str]:
    """Drafts (front matter `draft: true`) must not be published at their URL."""
    problems = []
    if not content_dir.is_dir():
        return problems
    for source in sorted(content_dir.rglob("*.md")):
        try:
            # read as the build reads it (a byte order mark is fine there too)
            post = frontmatter.loads(source_text(source))
        except Exception:  # malformed front matter is the build's error to report
            continue
        if post.get("draft") is not True:
            continue
        slug = str(post.get("slug") or source.stem).strip("/").lower()
        if (root / slug / "index.html").exists():
            problems.append(f"{slug}/index.html: published from draft {source.name}")
    return problems
