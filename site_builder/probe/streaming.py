"""Streaming checks: the editor-owned rules (data/vpn/streaming_checks.toml) and the pure
classification of one page fetch made through a tunnel.

These are heuristics, and documented as such (docs/probe.md): the rules follow what
open-source checkers do (lmc999/RegionRestrictionCheck and its ports: Netflix answers 404
on a licensed title where only its originals are offered and 403 to refused addresses; BBC
iPlayer's media selector names "geolocation" outside the UK; checked 2026-12-04), and a
platform can change that at any time. No login, one anonymous GET per check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from site_builder.datafiles import read_toml
from site_builder.errors import ConfigError

STATUSES = ("unblocked", "originals_only", "blocked", "error")


@dataclass(frozen=True)
class Rule:
    result: str
    status: tuple[int, ...] = ()
    location_contains: str | None = None
    body_contains: str | None = None

    def matches(self, status: int, location: str | None, body: str) -> bool:
        if self.status and status not in self.status:
            return False
        if self.location_contains is not None and self.location_contains not in (location or ""):
            return False
        return self.body_contains is None or self.body_contains in body


@dataclass(frozen=True)
class Check:
    platform: str
    region: str
    url: str
    rules: tuple[Rule, ...]


def _rule(path: Path, raw: dict[str, Any]) -> Rule:
    result = raw.get("result")
    if result not in STATUSES:
        raise ConfigError(f"{path}: a rule's result must be one of {', '.join(STATUSES)}")
    status = raw.get("status", ())
    codes = (status,) if isinstance(status, int) else tuple(status)
    unknown = set(raw) - {"result", "status", "location_contains", "body_contains"}
    if unknown:
        raise ConfigError(f"{path}: unknown rule keys {sorted(unknown)}")
    return Rule(result, codes, raw.get("location_contains"), raw.get("body_contains"))


def load_checks(path: Path) -> list[Check]:
    raw = read_toml(path, "streaming checks")
    checks = []
    for entry in raw.get("check", []):
        try:
            checks.append(
                Check(
                    platform=entry["platform"],
                    region=entry["region"],
                    url=entry["url"],
                    rules=tuple(_rule(path, r) for r in entry.get("rule", [])),
                )
            )
        except KeyError as exc:
            raise ConfigError(f"{path}: every [[check]] needs {exc.args[0]}") from None
    return checks


def classify(check: Check, fetched: dict[str, Any]) -> str:
    """The status a fetch result (measure.py's ``fetch`` step) means under `check`'s rules."""
    if "status" not in fetched:
        return "error"
    for rule in check.rules:
        if rule.matches(int(fetched["status"]), fetched.get("location"), fetched.get("body", "")):
            return rule.result
    return "error"
