"""Rendering pages on every core, streaming, with a bounded amount of work in flight so
memory does not grow with the number of pages.

Three kinds of work go to the worker processes:

- pages the main process made, in small batches, as the page kinds yield them;
- shards of a sharded kind (one page per item, such as a server): the main process sends
  only a kind name and an index range; the worker makes those pages itself from the
  dataset it inherited at fork (reading any per-item detail on its own connection),
  keys them, renders the changed ones and sends back a few facts per page;
- parts of a split kind: the worker lists what the kind's generator yields (page thunks,
  once per worker, kept for its next part of that kind) and makes every n-th page, then
  keys and renders them as for a shard.

Workers are forked after the dataset is loaded and the site's templates are compiled (in a
process of their own while the main one fingerprints the data: `templates_compiled_beside`),
so they inherit both; each writes its pages itself.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from multiprocessing.connection import Connection as PipeEnd
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from jinja2 import Environment, FileSystemBytecodeCache
from sqlalchemy import Connection, Engine

from site_builder.config import SiteConfig
from site_builder.errors import SiteBuilderError
from site_builder.lifetime import die_with_parent
from site_builder.render.environment import compile_templates, minify
from site_builder.render.page import Page, output_path
from site_builder.render.state import BuildState, page_bytes, page_key
from site_builder.render.writer import write_if_changed

T = TypeVar("T")

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

    # The output folder as a string ending in a separator: page paths are joined to it as
    # strings, as pathlib's joins were a fifth of the cost of writing a new page.
    folder: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", os.path.join(self.root, ""))

    def render(self, page: Page) -> bool:
        """Render one page to its file; returns whether the file changed."""
        html = self.environment.get_template(page.template).render(
            page=page, canonical=self.base_url + page.url, **page.context
        )
        if self.minify:
            html = minify(html)
        return write_if_changed(self.folder + output_path(page.url), html.encode())


@dataclass(frozen=True)
class ShardSource:
    """What a worker needs to build a sharded kind's pages on its own."""

    data: Any
    site: SiteConfig
    kinds: dict[str, Any]  # the site's PAGE_KINDS
    engine: Engine
    base_key: str
    state: BuildState  # the last build's page keys (read only here)
    # Split kind -> what its function yielded (page thunks), listed by a process's first
    # part of that kind, so that the kind's loop (grouping servers, naming pages) runs once
    # per worker rather than once per part. Each forked process fills its own copy.
    split_items: dict[str, list[Any]] = field(default_factory=dict)


@contextmanager
def beside(
    function: Callable[..., T], *args: Any, forked: bool = True
) -> Iterator[Callable[[], T]]:
    """Run `function(*args)` in a forked process while the caller goes on with other work
    (with `forked` False, here, when its result is asked for); yields the function that
    waits for the result. A site's dataset load uses it to put the second core to work
    before the render workers exist. The child inherits the caller's memory, so the
    arguments are not pickled (only the result is); an engine among them must be disposed
    in the child (`engine.dispose(close=False)`) before use, as for the render workers.
    Leaving the block stops a child whose result was not asked for."""
    if not forked:
        yield lambda: function(*args)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    parent = os.getpid()  # before the fork: the child's first act is to tie its life to it
    child = context.Process(target=_send_result, args=(sender, parent, function, args), daemon=True)
    child.start()
    sender.close()
    received: list[T] = []

    def result() -> T:
        if not received:
            try:
                succeeded, value = receiver.recv()
            except EOFError:
                child.join()
                raise SiteBuilderError(
                    f"the process computing {function.__name__} died (exit code"
                    f" {child.exitcode}); is the machine out of memory?"
                ) from None
            if not succeeded:
                explained, text = value
                if explained:  # a SiteBuilderError: its message is meant for the user
                    raise SiteBuilderError(text)
                raise SiteBuilderError(f"{function.__name__} failed in its process:\n{text}")
            received.append(value)
        return received[0]

    try:
        yield result
    finally:
        if child.is_alive() and not received:
            child.kill()
        child.join()
        receiver.close()


@contextmanager
def templates_compiled_beside(
    environment: Environment, folders: tuple[str, ...], *, forked: bool = True
) -> Iterator[Callable[[], None]]:
    """Compile the page templates under `folders` in a forked process while the caller
    goes on (a site's fingerprint), into a bytecode cache in a temporary folder; yields the
    function that waits for it and loads them into `environment` (a few milliseconds, not
    the fifth of a second compiling takes), so that the render workers inherit them. With
    `forked` False, that function compiles them here. Either way a syntax error in any of
    them stops the build before a page is rendered, naming the template and line."""
    if not forked:
        yield lambda: compile_templates(environment, folders)
        return
    with tempfile.TemporaryDirectory(prefix="site-builder-templates-") as folder:
        environment.bytecode_cache = FileSystemBytecodeCache(folder)
        try:
            with beside(compile_templates, environment, folders) as compiled:

                def load() -> None:
                    compiled()
                    compile_templates(environment, folders)  # from the child's bytecode

                yield load
        finally:
            environment.bytecode_cache = None  # the folder goes; compiled ones stay cached


def _send_result(
    sender: PipeEnd, parent: int, function: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    die_with_parent(parent)
    try:
        sender.send((True, function(*args)))
    except SiteBuilderError as error:
        sender.send((False, (True, str(error))))
    except BaseException:  # the parent raises it, with this traceback as text (a result
        sender.send((False, (False, traceback.format_exc())))  # that cannot pickle too)
    finally:
        sender.close()


def pages_of(made: Iterable[Page | Callable[[], Page]]) -> Iterator[Page]:
    """A kind's pages, its page thunks called."""
    for item in made:
        yield item() if callable(item) else item


def build_shard(
    source: ShardSource, target: RenderTarget, kind: str, items: range, connection: Connection
) -> list[PageFacts]:
    """Make, key and (when its key changed or its file is missing) render each page of one
    shard."""
    kind_of = source.kinds[kind]
    return _built(source, target, kind_of.pages(source.data, source.site, items, connection))


def build_part(
    source: ShardSource, target: RenderTarget, kind: str, part: int, parts: int
) -> list[PageFacts]:
    """The same for every `parts`-th page of a split kind, from its `part`-th on."""
    made = source.split_items.get(kind)
    if made is None:
        made = source.split_items[kind] = list(source.kinds[kind](source.data, source.site))
    return _built(source, target, pages_of(islice(made, part, None, parts)))


def _built(source: ShardSource, target: RenderTarget, pages: Iterable[Page]) -> list[PageFacts]:
    facts = []
    folder = target.folder
    for page in pages:
        key = page_key(page_bytes(page), source.base_key)
        unchanged = source.state.is_current(page.url, key, folder)
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


def _start_worker(target: RenderTarget, source: ShardSource | None, parent: int) -> None:
    global _target, _source
    # A worker left running by a killed build would go on writing a tree nobody publishes
    # and hold the database open.
    die_with_parent(parent)
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


def _build_part(kind: str, part: int, parts: int) -> list[PageFacts]:
    assert _target is not None and _source is not None
    return build_part(_source, _target, kind, part, parts)


class Renderer:
    """Renders pages in `jobs` processes (in this process when jobs is 1).

    `on_done(count, written)` hears about pages submitted whole; `on_facts(facts)` about
    the pages of each shard. Shards run beside the main process: it keeps a few in flight
    and collects those that are done whenever it submits pages, so it goes on making the
    other kinds' pages while the workers build shards."""

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
        self.batches: deque[AsyncResult[list[bool]]] = deque()
        self.shards: deque[AsyncResult[list[PageFacts]]] = deque()
        self.pending: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()  # not sent
        self.pool = (
            multiprocessing.get_context("fork").Pool(
                jobs, initializer=_start_worker, initargs=(target, source, os.getpid())
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
        else:
            self.pump()

    def submit_sharded(self, kind: str, count: int) -> None:
        """Build every page of a sharded kind, `SHARD` items at a time: at once when there
        is one process, else beside the main process's work (see `pump`)."""
        assert self.source is not None, "sharded kinds need a ShardSource"
        for start in range(0, count, SHARD):
            stop = min(count, start + SHARD)
            if self.pool is None:
                with self.source.engine.connect() as connection:
                    items = range(start, stop)
                    self.on_facts(build_shard(self.source, self.target, kind, items, connection))
            else:
                self.pending.append((_build_shard, (kind, start, stop)))
        self.pump()

    def submit_split(self, kind: str) -> bool:
        """Have the workers build a split kind, in two parts per worker; False when there are
        no workers (the caller makes the pages itself)."""
        if self.pool is None or self.source is None:
            return False
        parts = 2 * self.jobs
        self.pending.extend((_build_part, (kind, part, parts)) for part in range(parts))
        self.pump()
        return True

    def pump(self) -> None:
        """Collect the shards that are done, without waiting, and keep two per worker in
        flight (so a worker never waits for the main process to hand it the next one)."""
        while self.shards and self.shards[0].ready():
            self.on_facts(self.shards.popleft().get())
        while self.pool is not None and self.pending and len(self.shards) < 2 * self.jobs:
            self.shards.append(self.pool.apply_async(*self.pending.popleft()))

    def _send(self) -> None:
        assert self.pool is not None
        if self.batch:
            self.batches.append(self.pool.apply_async(_render_batch, (self.batch,)))
            self.batch = []
        self.pump()
        while len(self.batches) > 2 * self.jobs:  # back-pressure: bounded memory
            self._collect_batch()

    def _collect_batch(self) -> None:
        written = self.batches.popleft().get()
        self.on_done(len(written), sum(written))

    def finish(self) -> None:
        """Wait for every page submitted so far."""
        if self.pool is None:
            return
        self._send()
        while self.batches:
            self._collect_batch()
        while self.shards:
            self.shards[0].wait()
            self.pump()
