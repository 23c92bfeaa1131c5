"""No two indexable pages share a title or a description.

Two pages with one title are one place twice to a search engine and to a reader choosing
between results (Google Search Central, "Influencing your title links in search results":
"make sure each page on your site has a unique title"; checked 2026-12-04). Pages marked
noindex are left out: they are never a search result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from site_builder.check.scan import HtmlFacts


def check_unique_titles(pages: Iterable[HtmlFacts]) -> list[str]:
    """One problem per title or description that more than one indexable page carries."""
    problems = []
    for field in ("title", "description"):
        holders: dict[str, list[str]] = defaultdict(list)
        for page in pages:
            value = getattr(page, field)
            if not page.noindex and value:
                holders[value].append(page.url)
        for value, urls in sorted(holders.items()):
            if len(urls) > 1:
                more = f" and {len(urls) - 3} more" if len(urls) > 3 else ""
                shown = ", ".join(urls[:3]) + more
                problems.append(f"{len(urls)} pages share the {field} {value!r}: {shown}")
    return problems
