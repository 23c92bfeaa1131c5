"""Alerts: bounded retries with backoff against real HTTP servers on loopback, once per
problem and UTC day (remembered in the store), a failed send kept for the next run and
never raised; the run history's pruning; the freshness rules file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from site_builder.db.maintain import prune_runs
from site_builder.db.models_runs import OpsAlert, OpsRun, OpsStep
from site_builder.errors import ConfigError
from site_builder.ops.alerts import AlertSettings, send_alerts, slack_body
from site_builder.ops.problems import Problem
from site_builder.ops.rules import FreshnessRules, load_rules
from site_builder.ops.runs import StepRecord, finish_run, record_step, start_run
from tests.local_http import Request, serve

NOW = datetime(2026, 12, 4, 3, 17, tzinfo=UTC)
STALE = Problem("stale", "stale:probe:fra", "probe Frankfurt probe: newest 3.0 days old")
BROKEN = Problem("provider_failed", "provider:lambda", "lambda: HTTP 500 from <api> & co")


def _answers(*statuses: int):  # type: ignore[no-untyped-def]
    queue = list(statuses)

    def handler(_: Request) -> tuple[int, dict[str, str], bytes]:
        return (queue.pop(0) if queue else 200), {}, b""

    return handler


def _settings(url: str, **kwargs: object) -> AlertSettings:
    return AlertSettings(webhook_url=url, webhook_secret="s3cret-signing", **kwargs)  # type: ignore[arg-type]


def test_a_failing_endpoint_is_retried_with_backoff_then_delivered(engine: Engine) -> None:
    slept: list[float] = []
    with serve({"/hook": _answers(503, 503)}) as server:
        outcomes = send_alerts(
            engine,
            [STALE],
            _settings(f"{server.base_url}/hook"),
            run_id=1,
            now=NOW,
            sleep=slept.append,
        )
    assert [o.sent for o in outcomes] == [True]
    assert len(server.requests) == 3
    assert slept == [1.0, 2.0]  # exponential, bounded by the attempts
    with engine.connect() as connection:
        row = connection.execute(select(OpsAlert.__table__)).one()
    assert (row.key, row.status, row.attempts, row.day) == (
        "webhook:stale:probe:fra",
        "sent",
        3,
        NOW.date(),
    )


def test_a_refused_alert_is_not_retried_recorded_failed_and_sent_by_the_next_run(
    engine: Engine,
) -> None:
    with serve({"/hook": _answers(400)}) as server:
        url = f"{server.base_url}/hook"
        first = send_alerts(
            engine, [STALE], _settings(url), run_id=1, now=NOW, sleep=lambda _: None
        )
        assert len(server.requests) == 1  # a 4xx is final
        assert [(o.sent, o.note) for o in first] == [(False, "HTTP 400 after 1 attempt(s)")]
        with engine.connect() as connection:
            assert connection.execute(select(OpsAlert.status)).scalars().all() == ["failed"]
        second = send_alerts(
            engine, [STALE], _settings(url), run_id=2, now=NOW, sleep=lambda _: None
        )
        third = send_alerts(
            engine, [STALE], _settings(url), run_id=3, now=NOW, sleep=lambda _: None
        )
    assert [o.sent for o in second] == [True]
    assert third == []  # sent today already
    assert len(server.requests) == 2


def test_an_unreachable_endpoint_never_raises(engine: Engine) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcomes = send_alerts(
        engine,
        [STALE, BROKEN],
        _settings(f"http://127.0.0.1:{port}/hook", timeout_s=2.0),
        run_id=1,
        now=NOW,
        sleep=lambda _: None,
    )
    assert [o.sent for o in outcomes] == [False, False]
    assert all(o.note == "ConnectError after 3 attempt(s)" for o in outcomes)


def test_one_alert_per_problem_and_day_and_again_the_next_day(engine: Engine) -> None:
    with serve({"/slack": _answers(), "/hook": _answers()}) as server:
        settings = AlertSettings(
            slack_url=f"{server.base_url}/slack", webhook_url=f"{server.base_url}/hook"
        )
        send_alerts(engine, [STALE, BROKEN, STALE], settings, run_id=1, now=NOW)
        send_alerts(engine, [STALE, BROKEN], settings, run_id=2, now=NOW + timedelta(hours=5))
        assert len(server.requests) == 4  # 2 problems x 2 endpoints, once
        send_alerts(engine, [STALE], settings, run_id=3, now=NOW + timedelta(days=1))
    assert len(server.requests) == 6
    # Slack's mrkdwn: outside text has &, < and > escaped
    slack = [json.loads(r.body) for r in server.requests if r.path == "/slack"]
    texts = [b["blocks"][0]["text"]["text"] for b in slack]
    assert any("HTTP 500 from &lt;api&gt; &amp; co" in t for t in texts)


def test_slack_body_has_a_fallback_text_and_blocks() -> None:
    body = slack_body(BROKEN, 7, "2026-12-04")
    assert body["text"].startswith("site_builder: A price provider failed: lambda")
    assert [b["type"] for b in body["blocks"]] == ["section", "context"]


def test_no_endpoint_sends_and_records_nothing(engine: Engine) -> None:
    assert send_alerts(engine, [STALE], AlertSettings(), run_id=1, now=NOW) == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OpsAlert)).scalar_one() == 0


def test_prune_runs_keeps_the_window_and_runs_still_marked_running(engine: Engine) -> None:
    old, recent = NOW - timedelta(days=200), NOW - timedelta(days=2)
    ids = []
    for started, finished in ((old, True), (old, False), (recent, True)):
        run_id = start_run(engine, "build-site", ["cloudgpus"], started)
        record_step(engine, run_id, StepRecord("build", "cloudgpus", "ok", started, 1.0))
        if finished:
            finish_run(engine, run_id, "ok", "", started)
        ids.append(run_id)
    with serve({"/hook": _answers()}) as server:
        send_alerts(engine, [STALE], _settings(f"{server.base_url}/hook"), run_id=1, now=old)
        send_alerts(engine, [STALE], _settings(f"{server.base_url}/hook"), run_id=1, now=recent)

    removed = prune_runs(engine, 180, now=NOW)

    assert removed == {"ops_steps": 1, "ops_runs": 1, "ops_alerts": 1}
    with engine.connect() as connection:
        assert connection.execute(select(OpsRun.id).order_by(OpsRun.id)).scalars().all() == ids[1:]
        assert connection.execute(select(func.count()).select_from(OpsStep)).scalar_one() == 2
        assert connection.execute(select(OpsAlert.day)).scalars().all() == [recent.date()]


def test_freshness_rules_defaults_overrides_and_errors(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "missing.toml") == FreshnessRules()
    rules_file = tmp_path / "freshness.toml"
    rules_file.write_text("[defaults]\nprobe_hours = 12\n[providers]\nnebius = 2160\n")
    rules = load_rules(rules_file)
    assert (rules.probe("fra"), rules.provider("nebius"), rules.provider("aws")) == (12, 2160, 36)
    rules_file.write_text("[defaults]\nprobe_hour = 12\n")
    with pytest.raises(ConfigError, match=r"freshness.toml: defaults.probe_hour: Extra inputs"):
        load_rules(rules_file)
    rules_file.write_text("[probes]\nfra = -1\n")
    with pytest.raises(ConfigError, match=r"probes.fra: Input should be greater than 0"):
        load_rules(rules_file)


def test_an_alert_that_cannot_be_sent_never_fails_the_build(project_dir: Path) -> None:
    (project_dir / "data/freshness.toml").write_text(
        "[defaults]\nprovider_hours = 100000\nprobe_hours = 100000\nagent_hours = 100000\n"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("build-site")),
            "--config",
            str(project_dir / "sites.toml"),
            "--demo",
            "--skip-deploy",
            "--site",
            "cloudgpus",
        ],
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{project_dir / 'store.db'}",
            "SITE_BUILDER_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The demo's first pull holds six unknown GPU names for review: the quarantine grew.
    assert "warning: alert not sent (webhook, ConnectError after 3 attempt(s)):" in result.stderr
    assert "price row(s) newly held for review" in result.stderr
