"""Refuse to publish a build that lost a large share of the last deploy's pages."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MAX_PAGE_LOSS = 0.20


def html_pages(paths: set[str] | list[str]) -> set[str]:
    return {p for p in paths if p.endswith(".html")}


def output_pages(root: Path) -> set[str]:
    return {"/" + p.relative_to(root).as_posix() for p in root.rglob("*.html")}


def check_page_loss(
    previous: set[str] | None, current: set[str], max_share: float = DEFAULT_MAX_PAGE_LOSS
) -> list[str]:
    """A problem when more than `max_share` of the previous deploy's pages would disappear."""
    if not previous:
        return []
    lost = previous - current
    share = len(lost) / len(previous)
    if share <= max_share:
        return []
    examples = ", ".join(sorted(lost)[:3])
    return [
        f"{len(lost):,} of the last deploy's {len(previous):,} pages ({share:.0%}) would"
        f" disappear, more than the {max_share:.0%} allowed (e.g. {examples});"
        " rerun with --force if this is intended"
    ]
