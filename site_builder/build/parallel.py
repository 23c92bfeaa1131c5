"""Rendering pages on every core, streaming, with a bounded amount of work in flight so
memory does not grow with the number of pages.

Two kinds of work go to the worker processes:

- pages the main process made, in small batches, as the page kinds yield them;
- shards of a sharded kind (one page per item, such as a server): the main process sends
  only a kind name and an index range; the worker makes those pages itself from the
  dataset it inherited at fork (reading any per-item detail on its own connection),
  keys them, renders the changed ones and sends back a few facts per page.

Workers are forked after the dataset is loaded and the Jinja environment is built, so they
inherit both (compiled templates included); each writes its pages itself.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment
from sqlalchemy import Connection, Engine

from site_builder.build.page import Page, output_path
from site_builder.build.render import minify
from site_builder.build.state import page_bytes, page_key
from site_builder.build.writer import write_if_changed
from site_builder.config import SiteConfig

BATCH = 32
SHARD = 128  # items per shard: large enough that a shard's detail query is cheap per page


@dataclass(frozen=True)
class ShardedKind:
    """A page kind with one page per item, built in the workers.

    `count(data)` says how many items there are; `pages(data, site, items, connection)`
    yields the pages of the items in the `items` range, in order, and may read per-item
    detail through `connection`, so that detail is never held for every item at once.
    """

    count: Callable[[Any], int]
    pages: Callable[[Any, SiteConfig, range, Connection], Iterator[Page]]


class PageFacts(NamedTuple):
    """What the main process needs of a page built in a worker."""

    url: str
    kind: str
    key: str
    indexable: bool
    lastmod: datetime | None
    rendered: bool
    written: bool


@dataclass(frozen=True)
class RenderTarget:
    environment: Environment
    root: Path
    base_url: str
    minify: bool = False  # the site's `minify_html`

    def render(self, page: Page) -> bool:
        """Render one page to its file; returns whether the file changed."""
        html = self.environment.get_template(page.template).render(
            page=page, canonical=self.base_url + page.url, **page.context
        )
        if self.minify:
            html = minify(html)
        return write_if_changed(self.root / output_path(page.url), html.encode())


@dataclass(frozen=True)
class ShardSource:
    """What a worker needs to build a sharded kind's pages on its own."""

    data: Any
    site: SiteConfig
    kinds: dict[str, ShardedKind]
    engine: Engine
    base_key: str
    previous_keys: dict[str, str]  # the last build's page keys


def build_shard(
    source: ShardSource, target: RenderTarget, kind: str, items: range, connection: Connection
) -> list[PageFacts]:
    """Make, key and (when its key changed or its file is missing) render each page of one
    shard."""
    facts = []
    for page in source.kinds[kind].pages(source.data, source.site, items, connection):
        key = page_key(page_bytes(page), source.base_key)
        unchanged = (
            source.previous_keys.get(page.url) == key
            and (target.root / output_path(page.url)).is_file()
        )
        written = False if unchanged else target.render(page)
        facts.append(
            PageFacts(
                page.url, page.kind, key, page.indexable, page.lastmod, not unchanged, written
            )
        )
    return facts


# Each worker process's target and shard source, set once by `_start_worker`:
# multiprocessing hands state to pool workers only through module variables.
_target: RenderTarget | None = None
_source: ShardSource | None = None


def _start_worker(target: RenderTarget, source: ShardSource | None) -> None:
    global _target, _source
    _target, _source = target, source
    if source is not None:
        # The parent's pooled connections must not be used from a child (SQLAlchemy's
        # rule for forked processes): this worker opens its own.
        source.engine.dispose(close=False)


def _render_batch(pages: list[bytes]) -> list[bool]:
    assert _target is not None
    return [_target.render(pickle.loads(page)) for page in pages]


def _build_shard(kind: str, start: int, stop: int) -> list[PageFacts]:
    assert _target is not None and _source is not None
    with _source.engine.connect() as connection:
        return build_shard(_source, _target, kind, range(start, stop), connection)


class Renderer:
    """Renders pages in `jobs` processes (in this process when jobs is 1).

    `on_done(count, written)` hears about pages submitted whole; `on_facts(facts)` about
    the pages of each shard, in the order the shards were submitted."""

    def __init__(
        self,
        target: RenderTarget,
        jobs: int,
        on_done: Callable[[int, int], None],
        *,
        source: ShardSource | None = None,
        on_facts: Callable[[list[PageFacts]], None] | None = None,
    ) -> None:
        self.target = target
        self.source = source
        self.on_done = on_done
        self.on_facts = on_facts or (lambda facts: None)
        self.batch: list[bytes] = []
        self.in_flight: deque[tuple[bool, AsyncResult[Any]]] = deque()  # (is a shard, result)
        self.pool = (
            multiprocessing.get_context("fork").Pool(
                jobs, initializer=_start_worker, initargs=(target, source)
            )
            if jobs > 1
            else None
        )
        self.jobs = jobs

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate() if exc[0] else self.pool.close()
            self.pool.join()

    def submit(self, page: Page, pickled: bytes) -> None:
        """Render `page` (given also as its pickle, which is what travels to a worker)."""
        if self.pool is None:
            self.on_done(1, int(self.target.render(page)))
            return
        self.batch.append(pickled)
        if len(self.batch) >= BATCH:
            self._send()

    def submit_sharded(self, kind: str, count: int) -> None:
        """Build every page of a sharded kind, `SHARD` items at a time."""
        assert self.source is not None, "sharded kinds need a ShardSource"
        for start in range(0, count, SHARD):
            stop = min(count, start + SHARD)
            if self.pool is None:
                with self.source.engine.connect() as connection:
                    items = range(start, stop)
                    self.on_facts(build_shard(self.source, self.target, kind, items, connection))
                continue
            self._send()  # pages already batched go first
            self.in_flight.append((True, self.pool.apply_async(_build_shard, (kind, start, stop))))
            self._limit()

    def _send(self) -> None:
        assert self.pool is not None
        if self.batch:
            self.in_flight.append((False, self.pool.apply_async(_render_batch, (self.batch,))))
            self.batch = []
        self._limit()

    def _limit(self) -> None:
        while len(self.in_flight) > 2 * self.jobs:  # back-pressure: bounded memory
            self._collect_one()

    def _collect_one(self) -> None:
        is_shard, result = self.in_flight.popleft()
        if is_shard:
            self.on_facts(result.get())
        else:
            written = result.get()
            self.on_done(len(written), sum(written))

    def finish(self) -> None:
        if self.pool is None:
            return
        self._send()
        while self.in_flight:
            self._collect_one()
