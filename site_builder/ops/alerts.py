"""Alerts after a run: one webhook POST per problem and endpoint, at most once per UTC day.

Two endpoints, from the environment (either, both or none):

- `SITE_BUILDER_ALERT_SLACK_URL`: a Slack incoming webhook. The body is Slack's message
  JSON: `text` (the notification's fallback) and Block Kit `blocks` (a section with the
  problem in mrkdwn, `&`, `<` and `>` escaped as Slack requires, and a context line).
  Evidence: https://docs.slack.dev/tools/slack-github-action/sending-data-slack-incoming-webhook
  and https://api.slack.com/messaging/webhooks (checked 2026-12-04).
- `SITE_BUILDER_ALERT_WEBHOOK_URL`: a generic JSON POST, `{"source", "kind", "key",
  "title", "message", "day", "run_id", "at"}`. With `SITE_BUILDER_ALERT_WEBHOOK_SECRET`
  set, it is signed: `X-Site-Builder-Timestamp` (Unix seconds) and
  `X-Site-Builder-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`, the
  `sha256=` hex form of GitHub's `X-Hub-Signature-256`
  (https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries, checked
  2026-12-04), with the timestamp signed too so a receiver can refuse replays.

Each POST is tried up to `attempts` times: connection errors, timeouts, 429 and 5xx are
retried after an exponential backoff (1 s, 2 s: bounded, at most about 35 s per alert with
the 10 s timeout); other answers are final. A sent alert is remembered in `ops_alerts` by
endpoint, problem key and UTC day, so a second run the same day sends nothing again. An
alert that cannot be sent is recorded as failed, returned for the caller to log, and
retried by the next run; it never fails the build.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine, and_, select

from site_builder.db.models_runs import OpsAlert
from site_builder.db.upsert import upsert
from site_builder.ops.problems import Problem

SLACK_URL_ENV = "SITE_BUILDER_ALERT_SLACK_URL"
WEBHOOK_URL_ENV = "SITE_BUILDER_ALERT_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "SITE_BUILDER_ALERT_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-Site-Builder-Signature"
TIMESTAMP_HEADER = "X-Site-Builder-Timestamp"


@dataclass(frozen=True)
class AlertSettings:
    slack_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    attempts: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AlertSettings:
        return cls(
            slack_url=env.get(SLACK_URL_ENV) or None,
            webhook_url=env.get(WEBHOOK_URL_ENV) or None,
            webhook_secret=env.get(WEBHOOK_SECRET_ENV) or None,
        )

    @property
    def endpoints(self) -> list[str]:
        return [
            name for name, url in (("slack", self.slack_url), ("webhook", self.webhook_url)) if url
        ]


@dataclass(frozen=True)
class AlertOutcome:
    endpoint: str
    problem: Problem
    sent: bool
    note: str = ""  # why it could not be sent


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(problem: Problem, run_id: int, day: str) -> dict[str, Any]:
    text = f"site_builder: {problem.title}: {problem.message}"
    return {
        "text": slack_escape(text),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{slack_escape(problem.title)}*\n{slack_escape(problem.message)}",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"site_builder run {run_id}, {day} (UTC); `{problem.key}`",
                    }
                ],
            },
        ],
    }


def webhook_body(problem: Problem, run_id: int, day: str, at: datetime) -> dict[str, Any]:
    return {
        "source": "site_builder",
        "kind": problem.kind,
        "key": problem.key,
        "title": problem.title,
        "message": problem.message,
        "day": day,
        "run_id": run_id,
        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC of `<timestamp>.<body>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: dict[str, str],
    settings: AlertSettings,
    sleep: Callable[[float], None],
) -> tuple[str, int]:
    """('' when delivered, else why not after the retries; the attempts made)."""
    note = ""
    attempt = 0
    for attempt in range(settings.attempts):
        if attempt:
            sleep(settings.backoff_s * 2 ** (attempt - 1))
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            note = f"{type(exc).__name__}"
            continue
        if response.is_success:
            return "", attempt + 1
        note = f"HTTP {response.status_code}"
        if response.status_code != 429 and response.status_code < 500:
            break
    return f"{note} after {attempt + 1} attempt(s)", attempt + 1


def send_alerts(
    engine: Engine,
    problems: list[Problem],
    settings: AlertSettings,
    *,
    run_id: int,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> list[AlertOutcome]:
    """Send each problem not yet alerted today to each configured endpoint."""
    if not settings.endpoints or not problems:
        return []
    day = now.date()
    table = OpsAlert.__table__
    with engine.connect() as connection:
        sent_today = set(
            connection.execute(
                select(table.c.key).where(and_(table.c.day == day, table.c.status == "sent"))
            ).scalars()
        )
    outcomes = []
    with httpx.Client(timeout=settings.timeout_s) as client:
        for problem in problems:
            for endpoint in settings.endpoints:
                key = f"{endpoint}:{problem.key}"
                if key in sent_today:
                    continue
                sent_today.add(key)  # a problem listed twice is still sent once
                note, attempts = _deliver(client, endpoint, problem, settings, run_id, now, sleep)
                outcomes.append(AlertOutcome(endpoint, problem, not note, note))
                with engine.begin() as connection:
                    upsert(
                        connection,
                        table,
                        [
                            {
                                "key": key,
                                "day": day,
                                "kind": problem.kind,
                                "message": problem.message,
                                "status": "failed" if note else "sent",
                                "attempts": attempts,
                                "sent_at": now,
                            }
                        ],
                        ["key", "day"],
                    )
    return outcomes


def _deliver(
    client: httpx.Client,
    endpoint: str,
    problem: Problem,
    settings: AlertSettings,
    run_id: int,
    now: datetime,
    sleep: Callable[[float], None],
) -> tuple[str, int]:
    day = now.date().isoformat()
    headers = {"Content-Type": "application/json", "User-Agent": "site_builder-alerts"}
    if endpoint == "slack":
        url = settings.slack_url
        body = json.dumps(slack_body(problem, run_id, day)).encode()
    else:
        url = settings.webhook_url
        body = json.dumps(webhook_body(problem, run_id, day, now), sort_keys=True).encode()
        if settings.webhook_secret:
            timestamp = str(int(now.timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(settings.webhook_secret, timestamp, body)
    assert url is not None
    return _post(client, url, body, headers, settings, sleep)
