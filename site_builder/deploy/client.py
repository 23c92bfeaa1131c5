"""A small client for Netlify's REST API, with the retry rules of Netlify's own clients.

- network errors, timeouts, 408 and 5xx: retried with exponential backoff and jitter;
- 429: wait until ``X-RateLimit-Reset`` (epoch seconds; at least 1 s, 5 s without it);
- 400 and 422 (and other 4xx): never retried, the API's message is raised;
- 401/403: raised as a credentials problem.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from site_builder import __version__
from site_builder.errors import SiteBuilderError


class NetlifyError(SiteBuilderError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class RetryPolicy:
    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    rate_limit_default_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0))

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempt) * self.jitter()

    def rate_limit_wait(self, response: httpx.Response) -> float:
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            return max(float(reset) - self.clock(), 1.0)
        except (TypeError, ValueError):
            return self.rate_limit_default_s


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except ValueError:
        pass
    return response.text.strip()[:200] or response.reason_phrase


class NetlifyClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 60.0,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.retries = 0  # retried requests, for the report
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"site_builder/{__version__} (+https://github.com/site-builder)",
            },
            timeout=timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_header: str | None = None,
    ) -> httpx.Response:
        """Send a request, retrying as the module docstring says; returns a 2xx response."""
        attempt = 0
        while True:
            extra = dict(headers or {})
            if retry_header and attempt:
                extra[retry_header] = str(attempt)
            try:
                response = self._http.request(
                    method, path, json=json, content=content, params=params, headers=extra
                )
            except httpx.TransportError as exc:
                if attempt >= self.policy.max_retries:
                    raise NetlifyError(
                        f"{method} {path}: {type(exc).__name__} after {attempt} retries"
                    ) from None
                self._wait(self.policy.backoff(attempt))
                attempt += 1
                continue
            status = response.status_code
            if status < 300:
                return response
            if status in (401, 403):
                raise NetlifyError(
                    f"Netlify refused the token ({status}: {_message(response)});"
                    " check NETLIFY_AUTH_TOKEN and its access to the site",
                    status,
                )
            retryable = status == 429 or status == 408 or status >= 500
            if not retryable or attempt >= self.policy.max_retries:
                raise NetlifyError(f"{method} {path}: {status} {_message(response)}", status)
            delay = (
                self.policy.rate_limit_wait(response)
                if status == 429
                else self.policy.backoff(attempt)
            )
            self._wait(delay)
            attempt += 1

    def _wait(self, seconds: float) -> None:
        self.retries += 1
        self.policy.sleep(seconds)

    # The API calls used by the deploy stage.

    def get_site(self, site_id: str) -> dict[str, Any]:
        return self.request("GET", f"/sites/{site_id}").json()

    def create_deploy(self, site_id: str, body: dict[str, Any], title: str) -> dict[str, Any]:
        return self.request(
            "POST", f"/sites/{site_id}/deploys", json=body, params={"title": title}
        ).json()

    def get_deploy(self, site_id: str, deploy_id: str) -> dict[str, Any]:
        return self.request("GET", f"/sites/{site_id}/deploys/{deploy_id}").json()

    def list_deploys(self, site_id: str, per_page: int = 20) -> list[dict[str, Any]]:
        return self.request(
            "GET", f"/sites/{site_id}/deploys", params={"per_page": per_page, "page": 1}
        ).json()

    def upload_file(self, deploy_id: str, encoded_path: str, data: bytes) -> None:
        self.request(
            "PUT",
            f"/deploys/{deploy_id}/files/{encoded_path}",
            content=data,
            params={"size": len(data)},
            headers={"Content-Type": "application/octet-stream"},
        )

    def upload_function(
        self, deploy_id: str, name: str, data: bytes, runtime: str, invocation_mode: str | None
    ) -> None:
        params: dict[str, Any] = {"runtime": runtime, "size": len(data)}
        if invocation_mode:
            params["invocation_mode"] = invocation_mode
        self.request(
            "PUT",
            f"/deploys/{deploy_id}/functions/{name}",
            content=data,
            params=params,
            headers={"Content-Type": "application/octet-stream"},
            retry_header="X-Nf-Retry-Count",
        )

    def cancel_deploy(self, deploy_id: str) -> None:
        self.request("POST", f"/deploys/{deploy_id}/cancel")

    def rollback(self, site_id: str) -> None:
        self.request("PUT", f"/sites/{site_id}/rollback")

    def restore_deploy(self, site_id: str, deploy_id: str) -> dict[str, Any]:
        return self.request("POST", f"/sites/{site_id}/deploys/{deploy_id}/restore").json()
