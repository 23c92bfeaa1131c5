"""A live price pull: every provider fetched concurrently, each stored as soon as its
answer is in, all under deadlines.

Three bounds, because httpx's timeouts are per operation and a provider sending a byte
every 20 seconds never trips them:
- one response, first byte to last (``response_deadline_s``, in :class:`Http`; retried);
- one provider, all its requests, retries and waits (``provider_deadline_s``): past it the
  provider fails with "no complete answer within N s" and its last prices stay;
- the whole fetch (``stage_deadline_s``): providers still fetching then fail the same way
  (those that never got a slot are skipped), and the pull ends.

Storing runs on one worker thread, one provider (one transaction) at a time, while the
other fetches go on; so a slow provider holds back no other's prices, and a pull killed
half-way keeps what it stored. Storing starts once the ECB rates are in (or have failed,
bounded by ``rates_deadline_s``), since a provider priced in euros needs them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx

from site_builder.errors import DataError
from site_builder.pull.gpu import fx
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers import Adapter, MissingCredentials, ProviderSkipped
from site_builder.pull.gpu.settings import PullSettings

Fetched = list[RawResponse] | Exception
FetchEvent = Callable[[str, str], None]  # (provider, "fetching" | "fetched" | "failed" | ...)
R = TypeVar("R")


class DeadlineExceeded(DataError):
    """A provider (or the ECB file) gave no complete answer within its deadline."""


class NotStarted(ProviderSkipped):
    """A provider still waiting for a fetch slot when the stage deadline passed."""


async def fetch_and_store(
    adapters: list[Adapter],
    *,
    env: Mapping[str, str | None],
    settings: PullSettings,
    skip: Mapping[str, ProviderSkipped],
    on_fetch: FetchEvent,
    store_rates: Callable[[Fetched | None], str],
    store: Callable[[Adapter, Fetched, float], R],
    on_stored: Callable[[R], None],
) -> tuple[list[R], str]:
    """Fetch every provider and store each as it arrives (`store(adapter, fetched,
    started)` on the storing thread, `started` a time.monotonic() value). Returns the
    results in the order of `adapters`, and the note `store_rates` gave."""
    loop = asyncio.get_running_loop()
    stage_end = loop.time() + settings.stage_deadline_s
    limit = asyncio.Semaphore(settings.max_concurrent_providers)
    started: dict[str, float] = {}

    def remaining() -> float:
        return max(0.0, stage_end - loop.time())

    async def one(http: Http, adapter: Adapter) -> Fetched:
        slug = adapter.slug
        if slug in skip:
            on_fetch(slug, "skipped")
            return skip[slug]
        try:
            credentials = adapter.credentials(env)
        except MissingCredentials as exc:
            on_fetch(slug, "skipped")
            return exc
        async with limit:
            on_fetch(slug, "fetching")
            started[slug] = time.monotonic()
            scope = asyncio.timeout(settings.provider_deadline_s)
            try:
                async with scope:
                    responses = await adapter.fetch(http, credentials)
            except Exception as exc:
                on_fetch(slug, "failed")
                if isinstance(exc, TimeoutError) and scope.expired():
                    return DeadlineExceeded(
                        f"{slug}: no complete answer within {settings.provider_deadline_s:g} s"
                        " (the per-provider deadline); last prices kept"
                    )
                return exc
            on_fetch(slug, "fetched")
            return responses

    async def rates(http: Http) -> Fetched | None:
        if settings.ecb_url is None:
            return None
        scope = asyncio.timeout(settings.rates_deadline_s)
        try:
            async with scope:
                return await fx.fetch_rates(http, settings.ecb_url)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and scope.expired():
                return DeadlineExceeded(
                    f"no complete answer within {settings.rates_deadline_s:g} s"
                    f" from {settings.ecb_url}"
                )
            return exc

    order = {a.slug: i for i, a in enumerate(adapters)}
    results: dict[str, R] = {}
    timeout = httpx.Timeout(settings.request_timeout_s)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="price-store") as storer:

        async def stored(adapter: Adapter, fetched: Fetched) -> None:
            start = started.get(adapter.slug, time.monotonic())
            result = await loop.run_in_executor(storer, store, adapter, fetched, start)
            results[adapter.slug] = result
            on_stored(result)

        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            http = Http(client, settings.retry, response_deadline_s=settings.response_deadline_s)
            tasks = {asyncio.create_task(one(http, a)): a for a in adapters}
            rates_task = asyncio.create_task(rates(http))
            await asyncio.wait({rates_task}, timeout=remaining())
            if rates_task.done():
                fx_fetched = rates_task.result()
            else:
                rates_task.cancel()
                fx_fetched = DeadlineExceeded("the price fetch's deadline passed first")
            fx_note = await loop.run_in_executor(storer, store_rates, fx_fetched)

            waiting = set(tasks)
            while waiting:
                done, waiting = await asyncio.wait(
                    waiting, timeout=remaining(), return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    break  # the stage deadline: what is still fetching is given up below
                for task in sorted(done, key=lambda t: order[tasks[t].slug]):
                    await stored(tasks[task], task.result())
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
            for task in sorted(waiting, key=lambda t: order[tasks[t].slug]):
                adapter = tasks[task]
                if not task.cancelled():  # it finished just as the deadline passed
                    await stored(adapter, task.result())
                    continue
                on_fetch(adapter.slug, "failed" if adapter.slug in started else "skipped")
                await stored(adapter, _cut_off(adapter.slug, adapter.slug in started, settings))
    return [results[a.slug] for a in adapters], fx_note


def _cut_off(slug: str, was_fetching: bool, settings: PullSettings) -> Exception:
    """What a provider still pending at the stage deadline is recorded as: failed if it
    was fetching (its breaker counts it), skipped if it never got a slot."""
    deadline = f"the price fetch's deadline of {settings.stage_deadline_s:g} s"
    if was_fetching:
        return DeadlineExceeded(f"{slug}: no complete answer within {deadline}; last prices kept")
    return NotStarted(f"{slug}: not started within {deadline}; last prices kept")
