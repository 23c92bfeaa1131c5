"""Editors' pages: markdown files with front matter under ``content/<site>/``, with a small
set of blocks that embed live data.

A file looks like::

    ---
    title: Best GPU for LLM training
    description: Which GPUs to rent for training large language models, at today's prices.
    slug: best-gpu-for-llm-training
    date: 2026-11-01
    updated: 2026-11-20        # optional
    draft: false               # optional; drafts are never published
    ---
    Markdown text…

    ::: gpu-prices h100-sxm on_demand

A block is one line, ``::: name arg …``; the site's ``BLOCKS`` render it from the same data
as the generated pages. A malformed front matter, an unknown key, an unknown block or a bad
block argument fails the build with the file, the line and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import frontmatter
import markdown
import yaml
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.build.page import Breadcrumb, Page
from site_builder.errors import SiteBuilderError

BLOCK_LINE = re.compile(r"^:::\s*([a-z][a-z0-9-]*)(.*)$")


class ContentError(SiteBuilderError):
    """An editor's file cannot be published as it is."""


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=300)
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*$")
    template: str = "content"
    date: date
    updated: date | None = None
    draft: bool = False


@dataclass(frozen=True)
class Rendered:
    html: Markup
    lastmod: datetime | None  # of the live data the blocks show


# A block renders (data, args, where) -> (HTML, lastmod of its data); it raises
# ValueError with a reason for bad arguments.
Block = Callable[[Any, list[str]], tuple[Markup, datetime | None]]


def _front_matter_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def read(path: Path) -> tuple[FrontMatter, str, int]:
    """The front matter, the body and the line the body starts at."""
    text = path.read_text(encoding="utf-8")
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        # where the broken construct starts, else where the parser noticed
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(f"{path}:{line}: front matter is not valid YAML: {problem}") from None
    if not text.startswith("---"):
        raise ContentError(f"{path}:1: no front matter (start the file with a '---' block)")
    try:
        meta = FrontMatter.model_validate(post.metadata)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "front matter"
        line = _front_matter_line(text, str(error["loc"][0])) if error["loc"] else 1
        raise ContentError(f"{path}:{line}: {key}: {error['msg']}") from None
    lines = text.splitlines()
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
    return meta, "\n".join(lines[closing + 1 :]), closing + 2


def render_body(
    path: Path, body: str, first_line: int, blocks: Mapping[str, Block], data: Any
) -> Rendered:
    parts: list[str] = []
    text: list[str] = []
    lastmods: list[datetime] = []

    def flush() -> None:
        if text:
            parts.append(markdown.markdown("\n".join(text), extensions=["tables", "sane_lists"]))
            text.clear()

    for offset, line in enumerate(body.splitlines()):
        match = BLOCK_LINE.match(line.strip())
        if not match:
            text.append(line)
            continue
        flush()
        name, args = match.group(1), match.group(2).split()
        where = f"{path}:{first_line + offset}"
        if name not in blocks:
            known = ", ".join(sorted(blocks)) or "none"
            raise ContentError(f"{where}: unknown block {name!r} (known: {known})")
        try:
            html, lastmod = blocks[name](data, args)
        except ValueError as exc:
            raise ContentError(f"{where}: block {name!r}: {exc}") from None
        parts.append(str(html))
        if lastmod is not None:
            lastmods.append(lastmod)
    flush()
    return Rendered(Markup("\n".join(parts)), max(lastmods) if lastmods else None)


def published(folder: Path) -> list[dict[str, str]]:
    """Title and URL of every published editor's page, for the menu and the guides index."""
    if not folder.is_dir():
        return []
    guides = []
    for path in sorted(folder.rglob("*.md")):
        meta, _, _ = read(path)
        if not meta.draft:
            guides.append({"title": meta.title, "url": f"/{meta.slug}/"})
    return sorted(guides, key=lambda g: g["title"])


def guides_page(guides: list[dict[str, str]], lastmod: datetime | None) -> Page:
    return Page(
        kind="content",
        url="/guides/",
        template="shared/guides.html",
        title="Guides: " + "; ".join(g["title"] for g in guides[:3]),
        description=f"{len(guides)} guides written by our editors, with live data.",
        context={},
        lastmod=lastmod,
        breadcrumbs=(Breadcrumb("Home", "/"), Breadcrumb("Guides", "/guides/")),
    )


def content_pages(
    folder: Path,
    *,
    site_name: str,
    blocks: Mapping[str, Block],
    data: Any,
    taken_urls: set[str],
) -> Iterator[Page]:
    """One page per published markdown file, at /<slug>/."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*.md")):
        meta, body, first_line = read(path)
        if meta.draft:
            continue
        url = f"/{meta.slug}/"
        if url in taken_urls:
            raise ContentError(
                f"{path}:{_front_matter_line(path.read_text(), 'slug')}: slug"
                f" {meta.slug!r} is already a page of the site"
            )

        rendered = render_body(path, body, first_line, blocks, data)
        edited = datetime.combine(meta.updated or meta.date, time(0), tzinfo=UTC)
        yield Page(
            kind="content",
            url=url,
            # "content" is the shared layout; another name is a template of the site's own
            template="shared/content.html"
            if meta.template == "content"
            else f"{site_name}/{meta.template}.html",
            title=meta.title,
            description=meta.description,
            # plain data, not the model: a pydantic model pickles its set of fields in hash
            # order, which differs between processes, and so would the page's input key
            context={"body": rendered.html, "meta": meta.model_dump()},
            lastmod=max(edited, rendered.lastmod) if rendered.lastmod else edited,
            breadcrumbs=(Breadcrumb("Home", "/"), Breadcrumb(meta.title, url)),
        )
