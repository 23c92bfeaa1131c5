"""Rendering pages on every core, streaming: pages go to worker processes in small batches
as the page kinds yield them, with a bounded number of batches in flight, so memory does
not grow with the number of pages.

Workers are forked after the Jinja environment is built, so they inherit it (compiled
templates included); each renders, minifies and writes its pages itself and reports back
only whether each file changed.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from pathlib import Path

from jinja2 import Environment

from site_builder.build.page import Page, output_path
from site_builder.build.render import minify
from site_builder.build.writer import write_if_changed

BATCH = 32


@dataclass(frozen=True)
class RenderTarget:
    environment: Environment
    root: Path
    base_url: str

    def render(self, page: Page) -> bool:
        """Render one page to its file; returns whether the file changed."""
        html = self.environment.get_template(page.template).render(
            page=page, canonical=self.base_url + page.url, **page.context
        )
        return write_if_changed(self.root / output_path(page.url), minify(html))


# Each worker process's target, set once by `_start_worker`: multiprocessing hands state
# to pool workers only through such a module variable.
_target: RenderTarget | None = None


def _start_worker(target: RenderTarget) -> None:
    global _target
    _target = target


def _render_batch(pages: list[bytes]) -> list[bool]:
    assert _target is not None
    return [_target.render(pickle.loads(page)) for page in pages]


class Renderer:
    """Renders pages in `jobs` processes (in this process when jobs is 1)."""

    def __init__(
        self, target: RenderTarget, jobs: int, on_done: Callable[[int, int], None]
    ) -> None:
        self.target = target
        self.on_done = on_done  # (pages rendered, of which written)
        self.batch: list[bytes] = []
        self.in_flight: deque[AsyncResult[list[bool]]] = deque()
        self.pool = (
            multiprocessing.get_context("fork").Pool(
                jobs, initializer=_start_worker, initargs=(target,)
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

    def _send(self) -> None:
        assert self.pool is not None
        if self.batch:
            self.in_flight.append(self.pool.apply_async(_render_batch, (self.batch,)))
            self.batch = []
        while len(self.in_flight) > 2 * self.jobs:  # back-pressure: bounded memory
            self._collect_one()

    def _collect_one(self) -> None:
        written = self.in_flight.popleft().get()
        self.on_done(len(written), sum(written))

    def finish(self) -> None:
        if self.pool is None:
            return
        self._send()
        while self.in_flight:
            self._collect_one()
