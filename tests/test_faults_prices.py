"""Faults in the price pull: a provider that dribbles its answer, a pull killed half-way, a
price that jumps for a minute. The time faults run the real CLI in a subprocess against
servers on 127.0.0.1; the anomaly rule is checked through snapshot replays at set times."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import (
    GpuOffer,
    GpuPriceHistory,
    GpuProviderHealth,
    GpuPullRun,
    GpuQuarantine,
)
from site_builder.pull.gpu import PullSettings, pull_prices, snapshot
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import RetryPolicy
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers import (
    BASE_URLS_ENV,
    LambdaAdapter,
    RunPodAdapter,
    all_adapters,
)
from tests.fake_gpu_apis import FakeApis, serve_fake_apis
from tests.local_http import serve

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("site-builder")  # this venv's console script
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
LAMBDA_BODY = (Path(__file__).parent / "fixtures/lambda/instance-types.json").read_bytes()
offers_t, runs_t = GpuOffer.__table__, GpuPullRun.__table__


# --------------------------------------------------------------------------- servers


@contextmanager
def dribbling_server(
    every_s: float = 1.0, slow_answers: int | None = None, body: bytes = LAMBDA_BODY
) -> Iterator[str]:
    """A server that promises a body and sends one byte of it every `every_s` seconds,
    for as long as the client listens; after `slow_answers` such answers (None: never),
    it sends the body whole."""
    stop = threading.Event()
    answered = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            answered[0] += 1
            if slow_answers is not None and answered[0] > slow_answers:
                self.wfile.write(body)
                return
            try:
                for byte in body:
                    if stop.wait(every_s):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what the deadlines are for

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def database_url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli_env(engine: Engine, base_urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_of(engine),
        LAMBDA_API_KEY="test-key",
        COLUMNS="250",  # one table row per line, so messages stay whole in the output
        **{BASE_URLS_ENV: " ".join(f"{slug}={url}" for slug, url in base_urls.items())},
    )
    return env


def pull_command(project_dir: Path, *options: str) -> list[str]:
    return [str(CLI), "--config", str(project_dir / "sites.toml"), "pull", "prices", *options]


def runs(engine: Engine) -> dict[str, object]:
    """The latest gpu_pull_runs row of each provider."""
    with engine.connect() as connection:
        rows = connection.execute(select(runs_t).order_by(runs_t.c.id)).all()
    return {row.provider_slug: row for row in rows}


def active_offers(engine: Engine, provider: str) -> int:
    with engine.connect() as connection:
        return len(
            connection.execute(
                select(offers_t.c.id).where(
                    offers_t.c.provider_slug == provider, offers_t.c.is_active.is_(True)
                )
            ).all()
        )


def fake_urls(fake: FakeApis, *slugs: str) -> dict[str, str]:
    return {slug: fake.base_urls()[slug] for slug in slugs} | {"ecb": f"{fake.base_url}/ecb"}


# --------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (
            ("--provider-deadline", "3", "--deadline", "60"),
            "coreweave: no complete answer within 3 s (the per-provider deadline)",
        ),
        (
            ("--provider-deadline", "60", "--deadline", "3"),
            "coreweave: no complete answer within the price fetch's deadline of 3 s",
        ),
    ],
    ids=["provider-deadline", "stage-deadline"],
)
def test_a_dribbling_provider_fails_at_its_deadline_and_the_others_are_stored(
    engine: Engine, project_dir: Path, options: tuple[str, ...], reason: str
) -> None:
    with serve_fake_apis() as fake, dribbling_server(every_s=1.0) as slow:
        # coreweave's last good prices, from an earlier pull
        earlier = all_adapters(ROOT / "data/gpu_prices/nebius.toml", fake.base_urls())
        pull_prices(
            engine,
            [a for a in earlier if a.slug == "coreweave"],
            CATALOG,
            settings=PullSettings(ecb_url=None),
        )
        kept = active_offers(engine, "coreweave")
        assert kept > 0

        urls = fake_urls(fake, "lambda", "runpod") | {"coreweave": slow}
        command = pull_command(
            project_dir, "--provider", "lambda", "--provider", "runpod", "--provider", "coreweave"
        )
        began = time.monotonic()
        done = subprocess.run(
            [*command, *options],
            env=cli_env(engine, urls),
            capture_output=True,
            text=True,
            timeout=120,  # the 2.4 kB body alone takes 40 minutes at a byte a second
        )
        took = time.monotonic() - began

    assert done.returncode == 0, done.stderr
    assert took < 60, f"the pull took {took:.0f} s"
    latest = runs(engine)
    assert latest["coreweave"].status == "failed"
    assert reason in latest["coreweave"].error
    assert "last prices kept" in latest["coreweave"].error
    assert active_offers(engine, "coreweave") == kept  # its last good prices stay
    for provider in ("lambda", "runpod"):
        assert latest[provider].status == "ok"
        assert latest[provider].offers_stored > 0
        assert active_offers(engine, provider) == latest[provider].offers_stored
    assert reason in done.stdout
    with engine.connect() as connection:
        health = connection.execute(
            select(GpuProviderHealth.__table__).where(
                GpuProviderHealth.__table__.c.provider_slug == "coreweave"
            )
        ).one()
    assert health.consecutive_failures == 1  # the breaker counts it as a failure


def test_a_pull_killed_while_a_provider_dribbles_keeps_what_was_already_stored(
    engine: Engine, project_dir: Path
) -> None:
    with serve_fake_apis() as fake, dribbling_server(every_s=1.0) as slow:
        urls = fake_urls(fake, "lambda") | {"coreweave": slow}
        command = pull_command(project_dir, "--provider", "lambda", "--provider", "coreweave")
        process = subprocess.Popen(
            [*command, "--provider-deadline", "600", "--deadline", "900"],
            env=cli_env(engine, urls),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stored_lambda = None
            for _ in range(300):  # up to 30 s for lambda's prices to be stored
                latest = runs(engine)
                if "lambda" in latest and latest["lambda"].status == "ok":
                    stored_lambda = latest["lambda"]
                    break
                if process.poll() is not None:
                    raise AssertionError(f"the pull ended early: {process.stderr.read()}")
                time.sleep(0.1)
            assert stored_lambda is not None, "lambda's prices were not stored while waiting"
            assert process.poll() is None  # still waiting for coreweave: storing did not wait
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

    assert active_offers(engine, "lambda") == stored_lambda.offers_stored > 0
    assert active_offers(engine, "coreweave") == 0


def test_a_response_slower_than_its_deadline_is_cut_off_and_retried(engine: Engine) -> None:
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    # the first answer dribbles (a byte a second: 40 minutes for 2.4 kB), the
    # second comes whole
    with dribbling_server(every_s=1.0, slow_answers=1) as base_url:
        report = pull_prices(
            engine,
            [LambdaAdapter(base_url=base_url)],
            CATALOG,
            env={"LAMBDA_API_KEY": "k"},
            settings=PullSettings(
                ecb_url=None,
                response_deadline_s=1.5,
                retry=RetryPolicy(sleep=no_wait, jitter=lambda: 1.0),
            ),
        )
    result = report.results[0]
    assert result.status == "ok" and result.stored == 9
    assert len(sleeps) == 1  # one retry, after the cut-off


def test_retry_after_waits_count_against_the_provider_deadline(engine: Engine) -> None:
    always_busy = {"/api/v1/instance-types": lambda _r: (429, {"Retry-After": "100"}, b"")}
    with serve(always_busy) as server:
        began = time.monotonic()
        report = pull_prices(
            engine,
            [LambdaAdapter(base_url=server.base_url)],
            CATALOG,
            env={"LAMBDA_API_KEY": "k"},
            settings=PullSettings(ecb_url=None, provider_deadline_s=2),
        )
        took = time.monotonic() - began
    result = report.results[0]
    assert result.status == "failed" and result.deadline
    assert "lambda: no complete answer within 2 s (the per-provider deadline)" in result.message
    assert took < 30  # not the 100 s the provider asked for, nor 4 attempts of it
    assert report.timed_out == [result]


def test_at_the_stage_deadline_a_provider_still_waiting_for_a_slot_is_skipped(
    engine: Engine,
) -> None:
    with dribbling_server(every_s=1.0) as slow:
        report = pull_prices(
            engine,
            [LambdaAdapter(base_url=slow), RunPodAdapter(base_url=slow)],
            CATALOG,
            env={"LAMBDA_API_KEY": "k"},
            settings=PullSettings(ecb_url=None, max_concurrent_providers=1, stage_deadline_s=2),
        )
    fetching, waiting = report.results
    assert fetching.status == "failed"
    assert "within the price fetch's deadline of 2 s" in fetching.message
    assert waiting.status == "skipped"
    assert waiting.message == (
        "runpod: not started within the price fetch's deadline of 2 s; last prices kept"
    )
    assert report.timed_out == [fetching, waiting]
    with engine.connect() as connection:
        health = {
            row.provider_slug: row.consecutive_failures
            for row in connection.execute(select(GpuProviderHealth.__table__))
        }
    assert health == {"lambda": 1}  # a provider that never started is not counted against


# --------------------------------------------------------------------------- anomalies

A10 = "gpu_1x_a10"  # 0.75 USD/h in the fixture, in three regions


def lambda_snapshot(folder: Path, at: datetime, a10_cents: int = 75) -> Path:
    body = json.loads(LAMBDA_BODY)
    body["data"][A10]["instance_type"]["price_cents_per_hour"] = a10_cents
    response = RawResponse(
        "instance-types",
        "https://cloud.lambda.ai/api/v1/instance-types",
        200,
        "application/json",
        at,
        json.dumps(body),
    )
    snapshot.write_provider(folder, "lambda", [response])
    snapshot.write_manifest(folder, at.strftime("%Y%m%dT%H%M%SZ"), ["lambda"])
    return folder


class Pulls:
    """Replays of lambda's answer at set times (the time of a pull is its answer's)."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine, self.folder, self.count = engine, folder, 0

    def at(self, when: datetime, a10_cents: int = 75):
        self.count += 1
        folder = lambda_snapshot(self.folder / str(self.count), when, a10_cents)
        report = pull_prices(self.engine, [LambdaAdapter()], CATALOG, snapshot_dir=folder)
        return report.results[0]

    def a10_prices(self) -> set[Decimal]:
        with self.engine.connect() as connection:
            return set(
                connection.execute(
                    select(offers_t.c.price_per_gpu_usd).where(offers_t.c.instance_type == A10)
                ).scalars()
            )

    def a10_rows(self) -> list:
        table = GpuQuarantine.__table__
        with self.engine.connect() as connection:
            return connection.execute(
                select(table).where(table.c.reason_code == "anomaly").order_by(table.c.id)
            ).all()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_a_price_jump_seen_twice_a_minute_apart_stays_held_until_the_next_day(
    engine: Engine, tmp_path: Path
) -> None:
    pulls = Pulls(engine, tmp_path)
    pulls.at(at(20, 2))
    first = pulls.at(at(21, 2), a10_cents=7500)  # 100x: 75 USD/h, under the 100 USD/h ceiling
    again = pulls.at(at(21, 2, 1), a10_cents=7500)
    late = pulls.at(at(21, 23, 59), a10_cents=7500)  # 22 h later, but the same UTC day
    assert (first.held, again.held, late.held) == (3, 3, 3)
    assert again.confirmed == late.confirmed == 0
    assert pulls.a10_prices() == {Decimal("0.75")}  # the last accepted price stays published
    rows = pulls.a10_rows()
    assert len(rows) == 3 and {r.status for r in rows} == {"pending"}
    assert "first seen 2026-11-21 02:00 UTC" in rows[0].reason
    assert "at least 12 h later on a later UTC day" in rows[0].reason

    next_day = pulls.at(at(22, 2), a10_cents=7500)
    assert next_day.held == 0 and next_day.confirmed == 3
    assert pulls.a10_prices() == {Decimal("75")}
    rows = pulls.a10_rows()
    assert {r.status for r in rows} == {"accepted"}
    assert "confirmed by the pull of 2026-11-22 02:00 UTC" in rows[0].payload["decision"]


def test_the_next_day_is_not_enough_without_twelve_hours(engine: Engine, tmp_path: Path) -> None:
    pulls = Pulls(engine, tmp_path)
    pulls.at(at(20, 2))
    pulls.at(at(20, 23), a10_cents=7500)
    after_midnight = pulls.at(at(21, 1), a10_cents=7500)  # a later day, 2 h later
    assert after_midnight.held == 3 and after_midnight.confirmed == 0
    confirmed = pulls.at(at(21, 11), a10_cents=7500)  # 12 h after the first sighting
    assert confirmed.confirmed == 3 and pulls.a10_prices() == {Decimal("75")}


def test_a_different_held_value_restarts_the_confirmation_clock(
    engine: Engine, tmp_path: Path
) -> None:
    pulls = Pulls(engine, tmp_path)
    pulls.at(at(20, 2))
    pulls.at(at(21, 2), a10_cents=7500)
    moved = pulls.at(at(22, 2), a10_cents=6000)  # not the held 75 again: a new sighting
    assert moved.held == 3 and moved.confirmed == 0
    assert "first seen 2026-11-22 02:00 UTC" in pulls.a10_rows()[0].reason
    assert pulls.at(at(23, 2), a10_cents=6000).confirmed == 3


def test_a_return_to_the_last_accepted_price_is_stored_at_once_and_clears_the_held_move(
    engine: Engine, tmp_path: Path
) -> None:
    pulls = Pulls(engine, tmp_path)
    pulls.at(at(20, 2))
    pulls.at(at(21, 2), a10_cents=7500)
    back = pulls.at(at(21, 2, 1))  # a minute later the provider is right again
    assert back.held == 0 and back.cleared == 3 and back.stored == 9
    assert pulls.a10_prices() == {Decimal("0.75")}
    rows = pulls.a10_rows()
    assert {r.status for r in rows} == {"cleared"}
    assert "saw 0.75 USD/h, back at (or close to) an accepted price" in rows[0].payload["decision"]
    # The glitch again later: a new held move with its own clock, not silently dropped.
    again = pulls.at(at(22, 2), a10_cents=7500)
    assert again.held == 3
    assert [r.status for r in pulls.a10_rows()] == ["cleared"] * 3 + ["pending"] * 3


def test_a_return_after_a_confirmed_jump_is_not_held_back(engine: Engine, tmp_path: Path) -> None:
    pulls = Pulls(engine, tmp_path)
    pulls.at(at(20, 2))
    pulls.at(at(21, 2), a10_cents=7500)
    pulls.at(at(22, 2), a10_cents=7500)  # confirmed: 75 USD/h is published
    assert pulls.a10_prices() == {Decimal("75")}
    back = pulls.at(at(22, 8))  # the provider fixes its mistake: back to 0.75
    assert back.held == 0 and back.stored == 9
    assert pulls.a10_prices() == {Decimal("0.75")}
    with engine.connect() as connection:
        history = GpuPriceHistory.__table__
        days = connection.execute(
            select(history.c.day, history.c.price_per_gpu_usd)
            .join(offers_t, offers_t.c.id == history.c.offer_id)
            .where(offers_t.c.instance_type == A10, offers_t.c.region_code == "us-east-1")
            .order_by(history.c.day)
        ).all()
    assert [(str(d), p) for d, p in days] == [
        ("2026-11-20", Decimal("0.75")),
        ("2026-11-22", Decimal("0.75")),  # the day's row follows the published price
    ]


# --------------------------------------------------------------------------- storing


class UnknownCountryLambda(LambdaAdapter):
    """Lambda's answer, but with its regions in a country the store does not know."""

    def parse(self, responses: list[RawResponse]):
        offers = super().parse(responses)
        return [replace(o, region_country="QQ") for o in offers]


def test_a_provider_whose_prices_the_store_refuses_fails_alone(engine: Engine) -> None:
    report = pull_prices(
        engine,
        [UnknownCountryLambda(), RunPodAdapter()],
        CATALOG,
        snapshot_dir=ROOT / "data/demo/gpu-snapshot",
    )
    refused, good = report.results
    assert refused.status == "failed"
    assert refused.message.startswith("lambda: its prices could not be stored (")
    assert refused.message.endswith("); last prices kept")
    assert good.status == "ok" and good.stored > 0
    assert active_offers(engine, "runpod") == good.stored
    assert active_offers(engine, "lambda") == 0
    assert runs(engine)["lambda"].status == "failed"
