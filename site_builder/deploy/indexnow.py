"""Tell IndexNow engines (Bing, Yandex, Seznam, Naver...) which URLs a deploy changed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

DEFAULT_ENDPOINT = "https://api.indexnow.org/indexnow"
MAX_URLS_PER_REQUEST = 10_000


@dataclass(frozen=True)
class IndexNowResult:
    urls: int
    requests: int
    failures: list[str]


def page_url(base_url: str, path: str) -> str | None:
    """The public URL of an HTML file path, or None for files that are not pages."""
    if not path.endswith(".html") or path == "/404.html":
        return None
    return base_url + (path.removesuffix("index.html") if path.endswith("/index.html") else path)


def changed_urls(
    previous: dict[str, str] | None, current: dict[str, str], base_url: str
) -> list[str]:
    """Pages added, changed or removed since the previous deploy's manifest."""
    previous = previous or {}
    paths = {p for p in current if previous.get(p) != current[p]} | (set(previous) - set(current))
    return sorted(u for p in paths if (u := page_url(base_url, p)))


def submit(
    urls: list[str],
    *,
    base_url: str,
    key: str,
    endpoint: str = DEFAULT_ENDPOINT,
    client: httpx.Client | None = None,
) -> IndexNowResult:
    """POST the URLs in batches of at most 10,000; 200 and 202 are success."""
    own = client is None
    client = client or httpx.Client(timeout=30)
    failures, requests = [], 0
    try:
        for start in range(0, len(urls), MAX_URLS_PER_REQUEST):
            batch = urls[start : start + MAX_URLS_PER_REQUEST]
            body = {
                "host": urlsplit(base_url).hostname,
                "key": key,
                "keyLocation": f"{base_url}/{key}.txt",
                "urlList": batch,
            }
            requests += 1
            try:
                response = client.post(endpoint, json=body)
            except httpx.HTTPError as exc:
                failures.append(f"batch {requests}: {type(exc).__name__}")
                continue
            if response.status_code not in (200, 202):
                failures.append(f"batch {requests}: HTTP {response.status_code}")
    finally:
        if own:
            client.close()
    return IndexNowResult(len(urls), requests, failures)
