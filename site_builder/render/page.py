"""What a page kind yields: a URL, a template, plain-data context and SEO facts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Breadcrumb:
    name: str
    url: str  # site-relative, e.g. "/gpus/"


@dataclass(frozen=True)
class Page:
    kind: str
    url: str  # site-relative, lowercase, "/" or ending in "/" (or a file name like "/404.html")
    template: str
    title: str
    description: str
    context: Mapping[str, Any]
    lastmod: datetime | None = None  # last significant change of the data shown; never build time
    indexable: bool = True  # False: noindex, and left out of the sitemap
    breadcrumbs: tuple[Breadcrumb, ...] = ()
    json_ld: tuple[Mapping[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.url.startswith("/") or self.url != self.url.lower():
            raise ValueError(f"page URL must be site-relative and lowercase: {self.url!r}")
        if not (self.url.endswith("/") or self.url.endswith(".html")):
            raise ValueError(f"page URL must end with '/' (or be an .html file): {self.url!r}")


def output_path(url: str) -> str:
    """The file a URL is served from, relative to the output folder."""
    path = url.lstrip("/")
    return path + "index.html" if url.endswith("/") else path


# What a page kind yields: a page, or a thunk that makes it (e.g. functools.partial). A kind
# whose pages cost more than the loop that yields them yields thunks, so the engine can
# split it across workers, each calling only its share (see render/parallel.py).
PageOrThunk = Page | Callable[[], Page]
