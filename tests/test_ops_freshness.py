"""Freshness of the VPN side's sources: each provider's server list (its newest *successful*
list, not its newest attempt), and the server agents, including a registered agent whose
server never sent a heartbeat. A failed or quarantined list is a problem of its own that
night. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from site_builder.db.models import Country, VpnProvider, VpnServer
from site_builder.db.models_agents import VpnAgent
from site_builder.db.models_servers import VpnServerListRun
from site_builder.ops.freshness import evaluate
from site_builder.ops.problems import _server_list_problems
from site_builder.ops.public import public_status
from site_builder.ops.rules import FreshnessRules

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _list_run(provider: str, status: str, at: datetime) -> dict[str, object]:
    return {
        "run_id": f"run-{provider}-{at:%d}",
        "provider_slug": provider,
        "source": "live",
        "listed_at": at,
        "status": status,
        "reason": "" if status == "ok" else f"{provider}: HTTP 503; the inventory is kept",
    }


def _seed(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            Country.__table__.insert(), [{"code": "SE", "name": "Sweden", "slug": "sweden"}]
        )
        connection.execute(
            VpnProvider.__table__.insert(),
            [
                {"slug": slug, "name": name, "website": "", "first_seen_at": NOW - 90 * DAY}
                for slug, name in (
                    ("mullvad", "Mullvad"),
                    ("ivpn", "IVPN"),
                    ("protonvpn", "Proton VPN"),
                )
            ],
        )
        connection.execute(
            VpnServerListRun.__table__.insert(),
            [
                # Mullvad: fine last night
                _list_run("mullvad", "ok", NOW - 5 * DAY),
                _list_run("mullvad", "ok", NOW - DAY),
                # IVPN: its list has failed for four nights; the last good one is 5 days old
                _list_run("ivpn", "ok", NOW - 5 * DAY),
                *(_list_run("ivpn", "failed", NOW - n * DAY) for n in (4, 3, 2, 1)),
                # Proton: no login, skipped; never checked
                _list_run("protonvpn", "skipped", NOW - DAY),
            ],
        )
        servers = [
            ("se-got-wg-001", NOW - timedelta(hours=2), "active"),
            ("se-sto-wg-002", NOW - 3 * DAY, "active"),
            ("se-mma-wg-003", NOW - 10 * DAY, "retired"),
        ]
        connection.execute(
            VpnServer.__table__.insert(),
            [
                {
                    "provider_slug": "mullvad",
                    "hostname": hostname,
                    "ip": f"198.51.100.{n}",
                    "country_code": "SE",
                    "status": status,
                    "first_seen_at": NOW - 30 * DAY,
                    "last_seen_at": NOW - DAY,
                    "last_heartbeat_at": heartbeat,
                }
                for n, (hostname, heartbeat, status) in enumerate(servers, start=1)
            ],
        )
        connection.execute(
            VpnAgent.__table__.insert(),
            [
                {"id": "a1", "provider_slug": "mullvad", "hostname": "se-got-wg-001"},
                # registered, but its server has never sent a heartbeat (nor been listed)
                {"id": "a4", "provider_slug": "mullvad", "hostname": "se-got-wg-004"},
                # registered for a retired server: not counted
                {"id": "a3", "provider_slug": "mullvad", "hostname": "se-mma-wg-003"},
            ],
        )


def test_a_list_failing_for_nights_goes_stale_and_a_skipped_one_is_not_checked(
    engine: Engine,
) -> None:
    _seed(engine)
    with engine.connect() as connection:
        checks = evaluate(connection, FreshnessRules(), [], NOW)
    lists = {c.key: c for c in checks if c.kind == "server_list"}
    assert set(lists) == {"mullvad", "ivpn"}
    assert not lists["mullvad"].stale
    assert lists["ivpn"].stale and lists["ivpn"].label == "IVPN"
    assert lists["ivpn"].newest_at == NOW - 5 * DAY  # the last good list, not the failures
    assert "newest 5.0 days old (rule: 84 h)" in lists["ivpn"].describe(NOW)

    # an editor's override and the ignore list apply to server lists too
    relaxed = FreshnessRules(server_lists={"ivpn": 24 * 7})
    ignoring = FreshnessRules(ignore_providers=("ivpn",))
    with engine.connect() as connection:
        assert not next(c for c in evaluate(connection, relaxed, [], NOW) if c.key == "ivpn").stale
        assert all(c.key != "ivpn" for c in evaluate(connection, ignoring, [], NOW))


def test_an_agent_that_never_reported_is_silent_and_named_first(engine: Engine) -> None:
    _seed(engine)
    with engine.connect() as connection:
        checks = evaluate(connection, FreshnessRules(), [], NOW)
    agents = next(c for c in checks if c.kind == "agents")
    # three counted: two servers that sent heartbeats and the registered one that never did;
    # the retired server's agent is not counted
    assert (agents.items, agents.stale_items, agents.stale) == (3, 2, True)
    assert agents.stale_names == ("se-got-wg-004 (never reported)", "se-sto-wg-002")
    assert agents.newest_at == NOW - timedelta(hours=2)
    assert "1 of 3 agents reporting" in agents.describe(NOW)


def test_the_public_status_names_the_stale_list_but_no_hostname(engine: Engine) -> None:
    from site_builder.ops.freshness import record

    _seed(engine)
    with engine.begin() as connection:
        record(connection, evaluate(connection, FreshnessRules(), [], NOW), NOW)
    with engine.connect() as connection:
        status = public_status(connection, ["server_list", "probe", "agents"])
    assert status is not None
    assert "VPN server list: IVPN" in status["stale"]
    assert "VPN server agents (1 of 3 reporting)" in status["stale"]
    assert "se-got" not in repr(status)


def test_a_failed_or_quarantined_list_is_a_problem_of_its_own() -> None:
    counts = {
        "providers": {
            "mullvad": {"status": "ok", "servers": 600},
            "ivpn": {"status": "failed", "message": "ivpn: HTTP 503; the inventory is kept"},
            "nordvpn": {
                "status": "quarantined",
                "message": "nordvpn: the list shrank from 6000 to 40 servers"
                " (`site-builder pull servers --accept-shrink nordvpn`)",
            },
            "protonvpn": {"status": "skipped", "message": "no login"},
        }
    }
    problems = _server_list_problems(counts)
    assert [(p.kind, p.key) for p in problems] == [
        ("server_list_failed", "server_list:ivpn"),
        ("server_list_failed", "server_list:nordvpn"),
    ]
    assert problems[0].message == "ivpn: HTTP 503; the inventory is kept (list failed)"
    assert "--accept-shrink nordvpn" in problems[1].message
    assert problems[1].message.endswith("; the inventory is kept (list quarantined)")
    assert problems[0].title == "A VPN server list failed"
