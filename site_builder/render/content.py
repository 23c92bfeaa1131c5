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
as the generated pages. Anything wrong in a file fails the build with
``<file>:<line>: what is wrong and how to fix it``: bytes that are not UTF-8, front matter
that is missing, unclosed, not YAML or not ``key: value`` lines, a key given twice, an
unknown, missing or malformed key, a slug another page has, an unknown template, an unknown
block, a bad block argument, and markdown that Markdown cannot convert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import markdown
import yaml
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.errors import SiteBuilderError
from site_builder.render.page import Breadcrumb, Page

BLOCK_LINE = re.compile(r"^:::\s*([a-z][a-z0-9-]*)(.*)$")


class ContentError(SiteBuilderError):
    """An editor's file cannot be published as it is."""


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=300)
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*$")
    template: str = Field(default="content", pattern=r"^[a-z0-9][a-z0-9_-]*$")
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


FENCE = re.compile(r"-{3,}\s*")  # a line that opens or closes the front matter
KNOWN_KEYS = ", ".join(FrontMatter.model_fields)
# How to fix a key's value, by key: pydantic says what is wrong, not what is right.
HINTS = {
    "title": "a line of text, 1 to 120 characters",
    "description": "a line of text, 1 to 300 characters",
    "slug": "lowercase letters, digits and hyphens, with / between parts, e.g. best-gpu-for-ai",
    "template": "the name of a template of the site, e.g. content",
    "date": "a date as YYYY-MM-DD",
    "updated": "a date as YYYY-MM-DD",
    "draft": "true or false",
}


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice (YAML keeps the last silently) and says
    where a date that is not one is (PyYAML raises a bare ValueError)."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # an unhashable key: construct_mapping says so below
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is given twice (keep one)", key_node.start_mark
            )
    return loader.construct_mapping(node, deep=deep)


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc}); write YYYY-MM-DD", node.start_mark
        ) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def source_text(path: Path) -> str:
    """An editor's file as text; bytes that are not UTF-8 fail naming their line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError(
            f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")  # a byte order mark some editors write


def _yaml_problem(exc: yaml.YAMLError, front: str) -> tuple[int, str]:
    """The line (within the front matter, from 0) and the reason of a YAML error."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = front.count("\n", 0, max(exc.position, 0))
        return line, f"the character U+{exc.character:04X} is not allowed; remove it"
    # where the broken construct starts, else where the parser noticed
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return (mark.line if mark is not None else 0), problem


def _key_line(lines: list[str], key: str, closing: int) -> int:
    """The file line a front matter key is on, else the opening '---' line."""
    for number in range(1, closing):
        if lines[number].startswith(f"{key}:"):
            return number + 1
    return 1


def _validation_problems(path: Path, exc: ValidationError, lines: list[str], closing: int) -> str:
    problems = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "missing":
            problems.append(
                f"{path}:1: {key}: {error['msg']} (the front matter has no {key};"
                f" add a line '{key}: …')"
            )
        elif error["type"] == "extra_forbidden":
            problems.append(
                f"{path}:{_key_line(lines, key, closing)}: {key}: {error['msg']}"
                f" (unknown key; the keys are {KNOWN_KEYS})"
            )
        else:
            where = ".".join(str(p) for p in error["loc"]) or "front matter"
            hint = f" (expected {HINTS[key]})" if key in HINTS else ""
            problems.append(
                f"{path}:{_key_line(lines, key, closing)}: {where}: {error['msg']}{hint}"
            )
    return "\n".join(problems)


def read(path: Path) -> tuple[FrontMatter, str, int]:
    """The front matter, the body and the line the body starts at."""
    lines = source_text(path).splitlines()
    if not lines or not FENCE.fullmatch(lines[0]):
        raise ContentError(f"{path}:1: no front matter (start the file with a '---' line)")
    closing = next((i for i in range(1, len(lines)) if FENCE.fullmatch(lines[i])), None)
    if closing is None:
        raise ContentError(
            f"{path}:1: the front matter is never closed (add a '---' line after its last key)"
        )
    front = "\n".join(lines[1:closing])
    try:
        metadata = yaml.load(front, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        line, problem = _yaml_problem(exc, front)
        raise ContentError(
            f"{path}:{line + 2}: front matter is not valid YAML: {problem}"
        ) from None
    except RecursionError:
        raise ContentError(f"{path}:2: the front matter is nested too deeply") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ContentError(
            f"{path}:2: the front matter must be 'key: value' lines, not a"
            f" {type(metadata).__name__}"
        )
    for key in metadata:
        if not isinstance(key, str):
            raise ContentError(
                f"{path}:{_key_line(lines, str(key), closing)}: the key {key!r} is not a name"
                f" (the keys are {KNOWN_KEYS})"
            )
    try:
        meta = FrontMatter.model_validate(metadata)
    except ValidationError as exc:
        raise ContentError(_validation_problems(path, exc, lines, closing)) from None
    return meta, "\n".join(lines[closing + 1 :]), closing + 2


def _wrapped_tables(converted: str) -> str:
    """Markdown tables in a wrapper that scrolls with a visible edge, sortable (sort.js)."""
    return converted.replace("<table>", '<div class="table-wrap"><table class="sortable">').replace(
        "</table>", "</table></div>"
    )


def render_body(
    path: Path, body: str, first_line: int, blocks: Mapping[str, Block], data: Any
) -> Rendered:
    parts: list[str] = []
    text: list[str] = []
    text_starts = first_line  # the file line the pending markdown starts on
    lastmods: list[datetime] = []

    def flush() -> None:
        if not text:
            return
        try:
            converted = markdown.markdown("\n".join(text), extensions=["tables", "sane_lists"])
            parts.append(_wrapped_tables(converted))
        except Exception as exc:  # Markdown's own failures, e.g. RecursionError
            raise ContentError(
                f"{path}:{text_starts}: the markdown from this line to line"
                f" {text_starts + len(text) - 1} cannot be converted"
                f" ({type(exc).__name__}: {exc}); simplify it (lists or quotes nested deeply?)"
            ) from None
        text.clear()

    for offset, line in enumerate(body.splitlines()):
        match = BLOCK_LINE.match(line.strip())
        if not match:
            if not text:
                text_starts = first_line + offset
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
        except Exception as exc:
            # a fault of the block's code, not of the file: the traceback stays chained
            raise ContentError(
                f"{where}: block {name!r} failed on {' '.join(args)!r}"
                f" ({type(exc).__name__}: {exc}); check its arguments, else report it"
            ) from exc
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


GUIDES_URL = "/guides/"  # the index of editors' pages, made by the build beside them


def guides_page(guides: list[dict[str, str]], lastmod: datetime | None) -> Page:
    return Page(
        kind="content",
        url=GUIDES_URL,
        template="shared/guides.html",
        title="Guides: " + "; ".join(g["title"] for g in guides[:3]),
        description=f"{len(guides)} guides written by our editors, with live data.",
        context={},
        lastmod=lastmod,
        breadcrumbs=(Breadcrumb("Home", "/"), Breadcrumb("Guides", "/guides/")),
    )


def _slug_line(path: Path) -> int:
    lines = source_text(path).splitlines()
    return _key_line(lines, "slug", len(lines))


def content_pages(
    folder: Path,
    *,
    site_name: str,
    blocks: Mapping[str, Block],
    data: Any,
    taken_urls: set[str],
    templates: Collection[str] | None = None,
) -> Iterator[Page]:
    """One page per published markdown file, at /<slug>/. With `templates` (the names the
    site's environment has), a `template:` that is not among them fails here, naming the
    file, rather than when the page is rendered."""
    if not folder.is_dir():
        return
    ours: dict[str, Path] = {}  # URL -> the file that has it
    for path in sorted(folder.rglob("*.md")):
        meta, body, first_line = read(path)
        if meta.draft:
            continue
        url = f"/{meta.slug}/"
        where = f"{path}:{_slug_line(path)}"
        if url in ours:
            raise ContentError(
                f"{where}: slug {meta.slug!r} is also the slug of {ours[url]}; give one of"
                " them another slug"
            )
        if url in taken_urls or url == GUIDES_URL:
            raise ContentError(
                f"{where}: slug {meta.slug!r} is already a page of the site ({url});"
                " choose another slug"
            )
        ours[url] = path
        # "content" is the shared layout; another name is a template of the site's own
        template = (
            "shared/content.html"
            if meta.template == "content"
            else f"{site_name}/{meta.template}.html"
        )
        if templates is not None and template not in templates:
            own = sorted(
                t.removeprefix(f"{site_name}/").removesuffix(".html")
                for t in templates
                if t.startswith(f"{site_name}/")
                and t.count("/") == 1
                # partials, blocks and the 404 page are not pages an editor can pick
                and not t.startswith((f"{site_name}/_", f"{site_name}/block_"))
                and t != f"{site_name}/404.html"
            )
            raise ContentError(
                f"{path}:{_key_line(source_text(path).splitlines(), 'template', first_line - 2)}:"
                f" no template {template}; use content or one of {', '.join(own) or 'none'}"
            )

        rendered = render_body(path, body, first_line, blocks, data)
        edited = datetime.combine(meta.updated or meta.date, time(0), tzinfo=UTC)
        yield Page(
            kind="content",
            url=url,
            template=template,
            title=meta.title,
            description=meta.description,
            # plain data, not the model: a pydantic model pickles its set of fields in hash
            # order, which differs between processes, and so would the page's input key
            context={"body": rendered.html, "meta": meta.model_dump()},
            lastmod=max(edited, rendered.lastmod) if rendered.lastmod else edited,
            breadcrumbs=(Breadcrumb("Home", "/"), Breadcrumb(meta.title, url)),
        )
