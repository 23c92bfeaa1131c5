"""HTTP for price adapters: per-request timeouts, retries with exponential backoff and
jitter on timeouts, connection errors, 429 and 5xx; no retry on other 4xx.

429 waits as the provider asks: ``Retry-After`` (seconds or an HTTP date), else
``X-RateLimit-Reset`` (epoch seconds, or seconds from now when small), else the backoff.
401/403 raise :class:`CredentialsRejected`, reported as a credentials problem.

httpx's timeouts are per operation: a server sending one byte every few seconds never trips
the read timeout. ``response_deadline_s`` bounds one whole response (connect to last byte);
a response past it counts as a timeout and is retried like one. A streamed download
(``get_lines``, AWS's price list of hundreds of MB) is bounded by the caller's provider
deadline instead.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

MAX_WAIT_S = 120.0
T = TypeVar("T")


class ResponseTooSlow(httpx.TimeoutException):
    """A response that did not complete within the response deadline (retried as a timeout)."""


class CredentialsRejected(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"HTTP {response.status_code} from {response.request.url} (credentials rejected)"
        )
        self.response = response


@dataclass
class RetryPolicy:
    attempts: int = 4  # the first try and three retries
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0))

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempt) * self.jitter()

    def wait_for(self, response: httpx.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            try:
                return min(MAX_WAIT_S, max(0.0, float(retry_after)))
            except ValueError:
                try:
                    moment = parsedate_to_datetime(retry_after).timestamp()
                    return min(MAX_WAIT_S, max(0.0, moment - self.clock()))
                except (TypeError, ValueError):
                    pass
        reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("RateLimit-Reset")
        if reset:
            try:
                value = float(reset)
                seconds = value - self.clock() if value > 1_000_000_000 else value
                return min(MAX_WAIT_S, max(1.0, seconds))
            except ValueError:
                pass
        return self.backoff(attempt)


class Http:
    """What adapters get instead of a bare client: the same calls, with the retry rules."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        *,
        response_deadline_s: float | None = None,
    ) -> None:
        self.client = client
        self.policy = policy or RetryPolicy()
        self.response_deadline_s = response_deadline_s
        self.retries = 0

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.policy.attempts):
            last = attempt == self.policy.attempts - 1
            try:
                response = await self._whole(self.client.request(method, url, **kwargs), url)
            except (httpx.TimeoutException, httpx.TransportError):
                if last:
                    raise
                await self._pause(self.policy.backoff(attempt))
                continue
            if response.status_code in (401, 403):
                raise CredentialsRejected(response)
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    response.raise_for_status()
                await self._pause(self.policy.wait_for(response, attempt))
                continue
            response.raise_for_status()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_lines(
        self, url: str, keep: Callable[[str], bool], **kwargs: Any
    ) -> tuple[httpx.Response, list[str]]:
        """Stream a large text body and keep only the lines `keep` accepts, so a
        multi-gigabyte file never sits in memory. The whole download is retried by the
        same rules, including a connection lost mid-stream."""
        for attempt in range(self.policy.attempts):
            last = attempt == self.policy.attempts - 1
            try:
                async with self.client.stream("GET", url, **kwargs) as response:
                    if response.status_code in (401, 403):
                        raise CredentialsRejected(response)
                    if response.status_code == 429 or response.status_code >= 500:
                        if last:
                            response.raise_for_status()
                        wait = self.policy.wait_for(response, attempt)
                    else:
                        response.raise_for_status()
                        return response, [
                            line async for line in response.aiter_lines() if keep(line)
                        ]
            except (httpx.TimeoutException, httpx.TransportError):
                if last:
                    raise
                wait = self.policy.backoff(attempt)
            await self._pause(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def _whole(self, call: Awaitable[T], url: str) -> T:
        """`call`, bounded as a whole by the response deadline."""
        if self.response_deadline_s is None:
            return await call
        scope = asyncio.timeout(self.response_deadline_s)
        try:
            async with scope:
                return await call
        except TimeoutError:
            if not scope.expired():
                raise
            raise ResponseTooSlow(
                f"no complete response within {self.response_deadline_s:g} s from {url}"
            ) from None

    async def _pause(self, seconds: float) -> None:
        self.retries += 1
        await self.policy.sleep(seconds)
