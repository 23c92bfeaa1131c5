"""A live price pull against a local server misbehaving in every way providers do."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import GpuOffer, GpuProviderHealth
from site_builder.pull.gpu import PullSettings, pull_prices
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import RetryPolicy
from site_builder.pull.gpu.providers import LambdaAdapter
from tests.local_http import serve

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
BODY = (Path(__file__).parent / "fixtures/lambda/instance-types.json").read_bytes()
JSON = {"Content-Type": "application/json"}


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def settings(sleeps: Sleeps, **extra) -> PullSettings:
    return PullSettings(retry=RetryPolicy(sleep=sleeps, jitter=lambda: 1.0), ecb_url=None, **extra)


def scripted(*answers):
    """A route answering with each (status, headers, body) in turn, then the last forever."""
    answers = list(answers)

    def route(request):
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer == "slow":
            time.sleep(0.6)
            return 200, JSON, BODY
        return answer

    return route


def pull(engine: Engine, route, sleeps: Sleeps, **extra):
    with serve({"/api/v1/instance-types": route}) as server:
        adapter = LambdaAdapter(base_url=server.base_url)
        report = pull_prices(
            engine,
            [adapter],
            CATALOG,
            env={"LAMBDA_API_KEY": "k"},
            settings=settings(sleeps, **extra),
        )
        return report.results[0], len(server.requests)


def active_offers(engine: Engine) -> int:
    with engine.connect() as connection:
        table = GpuOffer.__table__
        return len(connection.execute(select(table.c.id).where(table.c.is_active.is_(True))).all())


def test_429_waits_as_retry_after_says(engine: Engine) -> None:
    sleeps = Sleeps()
    result, requests = pull(
        engine, scripted((429, {"Retry-After": "7"}, b""), (200, JSON, BODY)), sleeps
    )
    assert result.status == "ok" and requests == 2 and sleeps == [7.0]


def test_server_errors_back_off_then_succeed(engine: Engine) -> None:
    sleeps = Sleeps()
    result, requests = pull(
        engine, scripted((500, {}, b"oops"), (502, {}, b""), (200, JSON, BODY)), sleeps
    )
    assert result.status == "ok" and requests == 3
    assert sleeps == [1.0, 2.0]  # exponential (jitter pinned to 1 here)


def test_a_timeout_is_retried(engine: Engine) -> None:
    sleeps = Sleeps()
    result, requests = pull(
        engine, scripted("slow", (200, JSON, BODY)), sleeps, request_timeout_s=0.3
    )
    assert result.status == "ok" and requests == 2 and len(sleeps) == 1


def test_401_is_a_credentials_problem_and_not_retried(engine: Engine) -> None:
    sleeps = Sleeps()
    result, requests = pull(engine, scripted((401, JSON, b'{"error": "invalid key"}')), sleeps)
    assert result.status == "failed" and requests == 1 and sleeps == []
    assert "credentials rejected" in result.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (
            json.dumps(
                {"data": {"gpu_1x_a10": {"instance_type": {"name": "gpu_1x_a10"}}}}
            ).encode(),
            "lacks field",
        ),
        (b'{"data": {}}', "holds no offers"),
    ],
)
def test_broken_answers_fail_the_provider_and_keep_its_last_good_prices(
    engine: Engine, body, message
) -> None:
    sleeps = Sleeps()
    good, _ = pull(engine, scripted((200, JSON, BODY)), sleeps)
    assert good.status == "ok" and active_offers(engine) == 9
    result, requests = pull(engine, scripted((200, JSON, body)), sleeps)
    assert result.status == "failed" and message in result.message and requests == 1
    assert active_offers(engine) == 9


def test_a_failing_provider_opens_its_circuit_then_a_trial_closes_it(engine: Engine) -> None:
    sleeps = Sleeps()
    failing = scripted((500, {}, b""))
    for _ in range(3):
        result, _ = pull(engine, failing, sleeps)
        assert result.status == "failed"
    with engine.connect() as connection:
        health = connection.execute(select(GpuProviderHealth.__table__)).one()
    assert health.state == "open" and health.consecutive_failures == 3
    skipped, requests = pull(engine, failing, sleeps)
    assert skipped.status == "skipped" and requests == 0 and "circuit open" in skipped.message
    trial, requests = pull(
        engine, scripted((200, JSON, BODY)), sleeps, circuit_cooldown=timedelta(0)
    )
    assert trial.status == "ok" and requests == 1
    with engine.connect() as connection:
        health = connection.execute(select(GpuProviderHealth.__table__)).one()
    assert health.state == "closed" and health.consecutive_failures == 0


def test_a_failed_trial_reopens_the_circuit(engine: Engine) -> None:
    sleeps = Sleeps()
    for _ in range(3):
        pull(engine, scripted((500, {}, b"")), sleeps)
    trial, _ = pull(engine, scripted((500, {}, b"")), sleeps, circuit_cooldown=timedelta(0))
    assert trial.status == "failed"
    skipped, requests = pull(engine, scripted((200, JSON, BODY)), sleeps)
    assert skipped.status == "skipped" and requests == 0
