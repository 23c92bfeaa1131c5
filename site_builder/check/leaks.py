"""No secret, local filesystem path or draft content may reach the output."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import frontmatter

# Environment variables whose values are secrets, by exact name or by name pattern.
SECRET_NAMES = {
    "NETLIFY_AUTH_TOKEN",
    "DATABASE_URL",
    "SITE_BUILDER_PROBE_KEYS",
    "DNS_LEAK_RESULTS_SECRET",
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


def check_leaks(root: Path, secrets: list[tuple[str, str]], paths: list[str]) -> list[str]:
    """Every output file that contains a secret value or a local path (names, not values)."""
    needles = [(f"the value of ${name}", value.encode()) for name, value in secrets]
    needles += [(f"the local path {path}", path.encode()) for path in paths]
    needles.append(("a file:// URL", b"file://"))
    problems = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.suffix.lower() in BINARY_SUFFIXES:
            continue
        data = file.read_bytes()
        for label, needle in needles:
            if needle in data:
                problems.append(f"{file.relative_to(root).as_posix()}: contains {label}")
    return problems


def check_drafts(root: Path, content_dir: Path) -> list[str]:
    """Drafts (front matter `draft: true`) must not be published at their URL."""
    problems = []
    if not content_dir.is_dir():
        return problems
    for source in sorted(content_dir.rglob("*.md")):
        try:
            post = frontmatter.load(source)
        except Exception:  # malformed front matter is the build's error to report
            continue
        if post.get("draft") is not True:
            continue
        slug = str(post.get("slug") or source.stem).strip("/").lower()
        if (root / slug / "index.html").exists():
            problems.append(f"{slug}/index.html: published from draft {source.name}")
    return problems
