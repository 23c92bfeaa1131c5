"""What editors state about each VPN provider, from `data/vpn/provider_facts.toml`: the
cheapest plan's monthly price, the refund window, the jurisdiction and the logging policy,
each with the provider's own page as its source and the day an editor checked it.

`parse_facts` is pure (text in, facts out, or a `FactsError` naming the file and the
entry); `read_facts` is the I/O edge. A broken file never fails the build: `load_facts`
turns the error into a problem the build reports, and the pages are built without facts
(docs/pages.md#provider-facts).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# The facts an entry may hold, in the order pages list them.
FACT_KINDS = ("price", "refund", "jurisdiction", "logging")

FACT_LABELS = {
    "price": "Cheapest plan",
    "refund": "Refund window",
    "jurisdiction": "Jurisdiction",
    "logging": "Logging policy",
}

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")  # as the server-list adapters name providers


class FactsError(ValueError):
    """A facts file that cannot be read or does not validate; the message names the file
    and the entry (`provider.fact.field`)."""


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The provider's own page that states the fact: a reader can check it there.
    source: str
    checked: date  # when an editor last read the source: prices change

    @field_validator("source")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL of the provider's own page")
        return value


class Price(_Fact):
    # The cheapest plan's price per month (the monthly equivalent of a longer plan), as
    # text: a float would print 4.99 as 4.990000000000000213.
    monthly: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 4217, e.g. "EUR"
    plan: Annotated[str, Field(min_length=1)]  # the plan that price belongs to, e.g. "1 month"

    @field_validator("monthly", mode="before")
    @classmethod
    def _text_not_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('write the price as text, e.g. "4.99" (a float loses cents)')
        return value


class Refund(_Fact):
    days: Annotated[int, Field(ge=0, le=366)]  # 0: the provider states it gives no refund


class Jurisdiction(_Fact):
    country: Annotated[str, Field(min_length=1)]  # where the company is incorporated


class Logging(_Fact):
    summary: Annotated[str, Field(min_length=1, max_length=200)]  # in the provider's terms
    audit_url: str | None = None  # a published independent audit of that policy, if any

    @field_validator("audit_url")
    @classmethod
    def _https_audit(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value


class ProviderFacts(BaseModel):
    """One provider's facts; each is optional: a fact without evidence is left out, and
    pages say "not stated"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: Price | None = None
    refund: Refund | None = None
    jurisdiction: Jurisdiction | None = None
    logging: Logging | None = None

    def present(self) -> list[str]:
        return [kind for kind in FACT_KINDS if getattr(self, kind) is not None]


class Facts(NamedTuple):
    """The facts by provider slug, and the problem that dropped them (None when the file
    was read, or when the site names no facts file)."""

    by_provider: dict[str, ProviderFacts]
    problem: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """As the engine reports an editor file's problems (`sites.editor_data`)."""
        return (self.problem,) if self.problem else ()


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"])


def parse_facts(
    text: str, path: Path | str, known: Collection[str] | None = None
) -> dict[str, ProviderFacts]:
    """The facts in a facts file's text, by provider slug, in slug order; a FactsError
    names the file, the entry and what is wrong. With `known` (the server-list adapters'
    slugs), a slug outside it is an error: a typo would otherwise drop that provider's
    facts without a word."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FactsError(f"{path}: invalid TOML: {exc}") from None
    facts: dict[str, ProviderFacts] = {}
    for slug in sorted(raw):
        entry = raw[slug]
        if not isinstance(entry, dict):
            raise FactsError(f"{path}: {slug}: expected a table [{slug}] of facts")
        if not _SLUG.fullmatch(slug):
            raise FactsError(f"{path}: {slug}: a provider slug is lowercase letters, digits, -")
        if known is not None and slug not in known:
            raise FactsError(
                f"{path}: [{slug}]: no server list names this provider"
                f" (the slugs are {', '.join(sorted(known))})"
            )
        try:
            facts[slug] = ProviderFacts.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            message = error["msg"].removeprefix("Value error, ")
            raise FactsError(f"{path}: {slug}.{_where(error)}: {message}") from None
    return facts


def read_facts(path: Path, known: Collection[str] | None = None) -> dict[str, ProviderFacts]:
    """The facts file at `path`, parsed; a missing or unreadable file is a FactsError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FactsError(f"{path}: provider facts file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FactsError(f"{path}: cannot read the provider facts file: {exc}") from None
    return parse_facts(text, path, known)


def load_facts(path: Path | None, known: Collection[str] | None = None) -> Facts:
    """The facts for the build: none when the site names no facts file; none, with the
    problem, when the file is broken or names a provider outside `known` (the build goes
    on and reports it: half a file's facts, silently, could mislead as much as none)."""
    if path is None:
        return Facts({})
    try:
        return Facts(read_facts(path, known))
    except FactsError as exc:
        return Facts({}, f"provider facts left out: {exc}")


def facts_rows(facts: ProviderFacts | None) -> list[dict[str, Any]]:
    """A provider page's facts list: every fact kind, stated or not, with its source and
    the day it was checked; plain data for the template."""
    rows = []
    for kind in FACT_KINDS:
        fact = getattr(facts, kind) if facts is not None else None
        rows.append(
            {
                "kind": kind,
                "label": FACT_LABELS[kind],
                "text": fact_text(kind, fact) if fact is not None else None,
                "source": fact.source if fact is not None else None,
                "checked": fact.checked if fact is not None else None,
                "audit_url": getattr(fact, "audit_url", None),
            }
        )
    return rows


def fact_text(kind: str, fact: Any) -> str:
    """A fact as a reader sees it."""
    if kind == "price":
        return f"{fact.monthly:.2f} {fact.currency} a month ({fact.plan})"
    if kind == "refund":
        return "no refund" if fact.days == 0 else f"{fact.days} days"
    if kind == "jurisdiction":
        return str(fact.country)
    return str(fact.summary)
