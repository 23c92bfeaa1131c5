"""The server inventory in the store: upsert, normalised places, the 30-day retire rule
(with and without `static`), the shrink guard, quarantine, and replaying the archive."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import VpnCity, VpnServer, VpnServerProtocol
from site_builder.db.models_servers import VpnServerListing, VpnServerListRun
from site_builder.pull.gpu import snapshot
from site_builder.pull.gpu.http import RetryPolicy
from site_builder.pull.measurements.flags import ServerFlags
from site_builder.pull.measurements.reference import load_reference
from site_builder.pull.measurements.status import refresh_status
from site_builder.pull.servers import ServerListReport, ServerPullSettings, pull_servers
from site_builder.pull.servers.providers import ServerListAdapter, all_adapters
from site_builder.sites.bestvpnserver.inventory import load_inventory
from site_builder.sites.bestvpnserver.queries import listed_servers
from tests.server_lists import FETCHED_AT, fixture_body, fixture_responses, serve_lists

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = load_reference(ROOT / "data/vpn/reference.toml")
servers_t = VpnServer.__table__
listings_t = VpnServerListing.__table__
runs_t = VpnServerListRun.__table__


def write_archive(
    folder: Path, at: datetime, slugs: list[str] | None = None, **bodies: dict[str, str]
) -> Path:
    """An archive as a live pull writes it, from the fixtures (`bodies[slug]` overrides)."""
    chosen = [a for a in all_adapters() if slugs is None or a.slug in slugs]
    for adapter in chosen:
        responses = fixture_responses(adapter, at, **bodies.get(adapter.slug, {}))
        snapshot.write_provider(folder, adapter.slug, responses)
    snapshot.write_manifest(folder, at.strftime("%Y%m%dT%H%M%SZ"), [a.slug for a in chosen])
    return folder


def replay(
    engine: Engine, folder: Path, flags: list[ServerFlags] | None = None
) -> ServerListReport:
    return pull_servers(engine, all_adapters(), REFERENCE, flags or [], snapshot_dir=folder)


def store_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                servers_t.c.provider_slug,
                servers_t.c.hostname,
                servers_t.c.ip,
                servers_t.c.country_code,
                VpnCity.__table__.c.name,
                servers_t.c.status,
                servers_t.c.first_seen_at,
                servers_t.c.last_seen_at,
                listings_t.c.protocols,
                listings_t.c.features,
                listings_t.c.ipv4,
                listings_t.c.ipv6,
                listings_t.c.listed_active,
            )
            .join(listings_t, listings_t.c.server_id == servers_t.c.id)
            .outerjoin(VpnCity.__table__, VpnCity.__table__.c.id == servers_t.c.city_id)
            .order_by(servers_t.c.provider_slug, servers_t.c.hostname)
        )
        return [
            tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for v in r)
            for r in rows
        ]


def server(engine: Engine, provider: str, hostname: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            select(servers_t, VpnCity.__table__.c.name.label("city"), listings_t.c.protocols)
            .join(listings_t, listings_t.c.server_id == servers_t.c.id)
            .outerjoin(VpnCity.__table__, VpnCity.__table__.c.id == servers_t.c.city_id)
            .where(servers_t.c.provider_slug == provider, servers_t.c.hostname == hostname)
        ).one()
        return dict(row._mapping)


def test_a_replay_stores_every_provider_with_normalised_places(
    engine: Engine, tmp_path: Path
) -> None:
    report = replay(engine, write_archive(tmp_path / "a", FETCHED_AT))
    assert report.count("ok") == 9, [r.reason for r in report.results]
    rows = store_rows(engine)
    assert len({r[0] for r in rows}) == 9
    us = server(engine, "mullvad", "us-nyc-wg-001")  # "USA", "New York, NY"
    assert (us["country_code"], us["city"]) == ("US", "New York")
    assert us["first_seen_at"] == us["last_seen_at"] == FETCHED_AT
    uk = server(engine, "protonvpn", "node-uk-060.protonvpn.net")  # "UK"
    assert uk["country_code"] == "GB"
    fra = server(engine, "surfshark", "de-fra.prod.surfshark.com")  # "Frankfurt am Main"
    assert fra["city"] == "Frankfurt"
    assert server(engine, "pia", "miami417")["city"] is None  # "US Florida": a state
    assert server(engine, "pia", "sydney428")["city"] == "Sydney"
    assert server(engine, "airvpn", "kitalpha")["city"] == "Toronto"  # "Toronto, Ontario"
    assert server(engine, "pia", "sydney428")["protocols"]["wireguard"] == {"ports": [1337]}
    with engine.connect() as connection:
        cities = {
            r.name: r.latitude
            for r in connection.execute(
                select(VpnCity.__table__).where(VpnCity.country_code == "SE")
            )
        }
        protocols = connection.execute(select(VpnServerProtocol.__table__)).all()
    assert cities["Gothenburg"] == pytest.approx(57.7089)  # geocoded from the table
    assert protocols


def test_replaying_the_same_archive_gives_the_same_store(engine: Engine, tmp_path: Path) -> None:
    folder = write_archive(tmp_path / "a", FETCHED_AT)
    replay(engine, folder)
    first = store_rows(engine)
    replay(engine, folder)
    assert store_rows(engine) == first


def test_a_server_absent_is_kept_then_retired_after_30_days_unless_static(
    engine: Engine, tmp_path: Path
) -> None:
    replay(engine, write_archive(tmp_path / "day0", FETCHED_AT, ["ivpn"]))
    stats = json.loads(fixture_body("ivpn", "stats"))
    stats["servers"] = [s for s in stats["servers"] if s["country"] != "Sweden"]  # se1, se2
    shorter = {"ivpn": {"stats": json.dumps(stats)}}
    static = [ServerFlags(provider="ivpn", hostname="se2.wg.ivpn.net", static=True)]

    replay(
        engine,
        write_archive(tmp_path / "day10", FETCHED_AT + timedelta(days=10), ["ivpn"], **shorter),
        static,
    )
    gone = server(engine, "ivpn", "se1.wg.ivpn.net")
    assert gone["status"] != "retired" and gone["last_seen_at"] == FETCHED_AT  # kept

    report = replay(
        engine,
        write_archive(tmp_path / "day31", FETCHED_AT + timedelta(days=31), ["ivpn"], **shorter),
        static,
    )
    assert report.results[0].retired == 3  # se1 (two hosts) and se2's OpenVPN host
    retired = server(engine, "ivpn", "se1.wg.ivpn.net")
    assert retired["status"] == "retired"
    assert retired["retired_at"] == FETCHED_AT + timedelta(days=31)
    assert server(engine, "ivpn", "se2.wg.ivpn.net")["status"] != "retired"  # static

    with engine.connect() as connection:  # its page goes; its rows stay
        shown = {s["hostname"] for s in load_inventory(connection, {}, [], 1).servers}
        assert "se1.wg.ivpn.net" not in shown and "se2.wg.ivpn.net" in shown
        assert "se1.wg.ivpn.net" not in {s["hostname"] for s in listed_servers(connection)}

    replay(engine, write_archive(tmp_path / "day40", FETCHED_AT + timedelta(days=40), ["ivpn"]))
    assert server(engine, "ivpn", "se1.wg.ivpn.net")["status"] == "unknown"  # listed again


def test_failed_pulls_never_retire(engine: Engine, tmp_path: Path) -> None:
    replay(engine, write_archive(tmp_path / "day0", FETCHED_AT, ["airvpn"]))
    settings = ServerPullSettings(
        provider_deadline_s=5, retry=RetryPolicy(attempts=1), request_timeout_s=2
    )
    with serve_lists([], {}) as down:  # every path answers 404
        report = pull_servers(
            engine,
            [a for a in all_adapters(base_urls={"airvpn": down.base_url}) if a.slug == "airvpn"],
            REFERENCE,
            [],
            settings=settings,
        )
    assert report.results[0].status == "failed" and "404" in report.results[0].reason
    assert all(r[5] != "retired" for r in store_rows(engine))


def test_a_list_shrinking_by_more_than_half_is_quarantined(engine: Engine, tmp_path: Path) -> None:
    replay(engine, write_archive(tmp_path / "day0", FETCHED_AT, ["nordvpn"]))
    before = store_rows(engine)
    data = json.loads(fixture_body("nordvpn", "servers"))
    data["servers"] = data["servers"][:8]
    report = replay(
        engine,
        write_archive(
            tmp_path / "day1",
            FETCHED_AT + timedelta(days=40),
            ["nordvpn"],
            nordvpn={"servers": json.dumps(data)},
        ),
    )
    result = report.results[0]
    assert result.status == "quarantined"
    assert "shrank from 24 to 8 servers" in result.reason
    assert store_rows(engine) == before  # nothing retired, nothing moved
    with engine.connect() as connection:
        statuses = connection.execute(select(runs_t.c.status).order_by(runs_t.c.id)).scalars().all()
    assert statuses == ["ok", "quarantined"]

    accepted = pull_servers(  # an editor checked: the provider really dropped them
        engine,
        all_adapters(),
        REFERENCE,
        [],
        snapshot_dir=tmp_path / "day1",
        accept_shrink=frozenset({"nordvpn"}),
    )
    assert accepted.results[0].status == "ok" and accepted.results[0].retired == 16


def test_html_and_unknown_countries_are_quarantined_naming_provider_and_value(
    engine: Engine, tmp_path: Path
) -> None:
    replay(engine, write_archive(tmp_path / "day0", FETCHED_AT, ["privado", "surfshark"]))
    before = store_rows(engine)
    privado = json.loads(fixture_body("privado", "servers"))
    privado["servers"][0]["country"] = "Atlantis"
    report = replay(
        engine,
        write_archive(
            tmp_path / "day1",
            FETCHED_AT + timedelta(days=1),
            ["privado", "surfshark"],
            privado={"servers": json.dumps(privado)},
            surfshark={"generic": "<html><body>Access denied</body></html>"},
        ),
    )
    reasons = {r.provider: r.reason for r in report.results}
    assert {r.status for r in report.results} == {"quarantined"}
    assert "privado: unknown country 'Atlantis'" in reasons["privado"]
    assert "surfshark: generic returned HTML" in reasons["surfshark"]
    assert store_rows(engine) == before


def test_a_live_pull_archives_what_it_fetched_and_the_archive_replays_the_same(
    engine: Engine, tmp_path: Path, database_url: str
) -> None:
    adapters = all_adapters()
    env = {"PROTONVPN_UID": "u", "PROTONVPN_SESSION_COOKIE": "c", "PROTONVPN_APP_VERSION": "v"}
    with serve_lists(adapters) as fake:
        live = [a.__class__(base_url=fake.base_url) for a in adapters]
        report = pull_servers(engine, live, REFERENCE, [], archive_root=tmp_path, env=env)
    assert report.count("ok") == 9
    first = store_rows(engine)
    (folder,) = (tmp_path / "servers").iterdir()
    replay(engine, folder)
    assert [r[:6] for r in store_rows(engine)] == [r[:6] for r in first]


def test_a_provider_without_credentials_is_skipped(engine: Engine) -> None:
    proton: list[ServerListAdapter] = [a for a in all_adapters() if a.slug == "protonvpn"]
    report = pull_servers(engine, proton, REFERENCE, [], env={})
    assert report.results[0].status == "skipped"
    assert "PROTONVPN_UID" in report.results[0].reason


def test_the_measurement_pull_leaves_listed_servers_to_the_list_pull(
    engine: Engine, tmp_path: Path
) -> None:
    """Probes silent for 40 days and no list pulled since: a listed server stays, since
    only a successful list may retire it."""
    replay(engine, write_archive(tmp_path / "day0", FETCHED_AT, ["privado"]))
    with engine.begin() as connection:
        changes = refresh_status(connection, FETCHED_AT + timedelta(days=40))
    assert changes["retired"] == 0
    assert all(r[5] != "retired" for r in store_rows(engine))


def test_a_live_html_answer_is_quarantined_and_kept_in_the_archive(
    engine: Engine, tmp_path: Path
) -> None:
    adapters = [a for a in all_adapters() if a.slug in ("privado", "airvpn")]
    login_wall = (200, "text/html; charset=utf-8", "<!doctype html><title>Just a moment</title>")
    refused = (403, "application/json", "{}")
    with serve_lists(
        adapters, {("privado", "servers"): login_wall, ("airvpn", "status"): refused}
    ) as fake:
        live = [a.__class__(base_url=fake.base_url) for a in adapters]
        report = pull_servers(engine, live, REFERENCE, [], archive_root=tmp_path)
    results = {r.provider: r for r in report.results}
    assert results["privado"].status == "quarantined"
    assert "privado: servers returned HTML" in results["privado"].reason
    assert results["airvpn"].status == "failed" and "403" in results["airvpn"].reason
    (folder,) = (tmp_path / "servers").iterdir()
    assert snapshot.read_provider(folder, "privado")[0].body.startswith("<!doctype html>")
    assert store_rows(engine) == []
