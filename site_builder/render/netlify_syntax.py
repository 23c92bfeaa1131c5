"""Syntax checks for _headers and _redirects: Netlify drops bad lines silently."""

from __future__ import annotations

import re

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
REDIRECT_STATUS = re.compile(r"^(200|301|302|303|307|308|404|410|451)!?$")
CONDITION = re.compile(r"^(Country|Language|Role|Cookie)=\S+$")


def _is_target(value: str) -> bool:
    return value.startswith("/") or value.startswith(("https://", "http://"))


def check_headers_file(text: str) -> list[str]:
    problems: list[str] = []
    current_path = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            if not _is_target(line.strip()):
                problems.append(f"_headers:{number}: path {line.strip()!r} must start with /")
            current_path = line.strip()
            continue
        if current_path is None:
            problems.append(f"_headers:{number}: header before any path line")
            continue
        name, colon, value = line.strip().partition(":")
        if not colon or not name.strip() or not value.strip():
            problems.append(f"_headers:{number}: expected 'Name: value', got {line.strip()!r}")
        elif not HEADER_NAME.match(name.strip()):
            problems.append(f"_headers:{number}: invalid header name {name.strip()!r}")
    return problems


def check_redirects_file(text: str) -> list[str]:
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        fields = line.split()
        where = f"_redirects:{number}"
        if len(fields) < 2:
            problems.append(f"{where}: expected 'from to [status] [conditions]'")
            continue
        source, target, *rest = fields
        if not _is_target(source):
            problems.append(f"{where}: from {source!r} must start with / or be a URL")
        elif source.startswith("/.netlify"):
            problems.append(f"{where}: from may not start with /.netlify")
        if "*" in source[:-1]:
            problems.append(f"{where}: a splat (*) may only end the from path")
        if not _is_target(target):
            problems.append(f"{where}: to {target!r} must start with / or be a URL")
        if rest and not REDIRECT_STATUS.match(rest[0]) and not CONDITION.match(rest[0]):
            problems.append(f"{where}: unknown status {rest[0]!r}")
        for extra in rest[1:]:
            if not CONDITION.match(extra) and "=" not in extra:
                problems.append(f"{where}: cannot read {extra!r}")
    return problems
