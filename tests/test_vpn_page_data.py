"""bestvpnserver's page data: medians, the lowest-latency rankings per probe, the window."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slugify import slugify
from sqlalchemy import Engine, insert

from site_builder.config import load_project
from site_builder.db.models import (
    Country,
    VpnMeasurementDaily,
    VpnProvider,
    VpnServer,
    VpnServerUptimeDaily,
)
from site_builder.sites import available_page_kinds
from site_builder.sites.bestvpnserver import load, queries
from site_builder.sites.bestvpnserver.model import (
    DailyRow,
    ProbeRun,
    latency_rankings,
    median,
    server_slug,
    server_stats,
    summary,
)

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 20, 6, tzinfo=UTC)


def run(server: int, probe: str, protocol: str, latency: float | None, ok: bool = True) -> ProbeRun:
    return ProbeRun(server, probe, protocol, AT, ok, latency, 50_000_000)


def test_median_matches_the_standard_library_and_skips_missing_values() -> None:
    for values in ([3.0], [2, 1], [5.5, None, 1.5, 9.0], [4, 1, 3, 2, None], [7, 7, 7]):
        present = [v for v in values if v is not None]
        assert median(values) == statistics.median(present)
    assert median([]) is None and median([None, None]) is None


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(0, 10**12),
            st.floats(0, 1e12, allow_nan=False, allow_infinity=False),
        ),
        min_size=60,
        max_size=300,
    )
)
def test_a_large_groups_median_equals_the_standard_librarys(values: list[float | None]) -> None:
    present = [v for v in values if v is not None]
    assert median(values) == (statistics.median(present) if present else None)


def test_a_large_groups_median_is_one_of_its_values_as_given() -> None:
    values = [*range(100, 0, -1), 0.5]  # ints and one float, 101 of them: the middle is 50
    assert median(values) == 50 and type(median(values)) is int


def test_latency_rankings_take_each_servers_best_protocol_per_probe_and_place() -> None:
    places = {
        1: ("germany", "providers/mullvad", "germany/berlin"),
        2: ("germany", "providers/nordvpn"),
        3: ("france", "providers/mullvad"),
    }
    runs = [  # ordered by probe, server, protocol, as the query streams them
        run(1, "fra", "openvpn", 30.0),
        run(1, "fra", "wireguard", 12.0),
        run(2, "fra", "wireguard", 9.0),
        run(3, "fra", "wireguard", 20.0),
        run(4, "fra", "wireguard", 1.0),  # not a listed server: ignored
        run(1, "nyc", "wireguard", None, ok=False),  # a failed run ranks nowhere
        run(2, "nyc", "wireguard", 80.0),
        run(3, "nyc", "openvpn", 70.0),
    ]
    rankings = latency_rankings(runs, places, min_servers=2, size=2)
    assert [(r.server_id, r.latency_ms) for r in rankings.top["fra"]] == [(2, 9.0), (1, 12.0)]
    assert [r.server_id for r in rankings.top["nyc"]] == [3, 2]
    fra = rankings.places["fra"]
    assert list(fra) == ["germany", "providers/mullvad"]  # sorted; thinner places left out
    assert [r.protocol for r in fra["germany"]] == ["wireguard", "wireguard"]
    assert [r.server_id for r in fra["providers/mullvad"]] == [1, 3]
    assert rankings.places["nyc"] == {}
    lonely = latency_rankings(runs[:2], places, min_servers=2, size=2)
    assert lonely.top == {} and lonely.places == {"fra": {}}


def test_group_chart_medians_equal_the_standard_librarys_day_by_day() -> None:
    import random
    from collections import defaultdict
    from datetime import date, timedelta

    from site_builder.sites.bestvpnserver import figures

    rng = random.Random(7)
    start = date(2026, 10, 20)
    series = {}
    for server in range(1, 41):
        first = start + timedelta(days=rng.randrange(10))
        days = [
            first + timedelta(days=d) for d in range(rng.randrange(1, 20)) if rng.random() > 0.2
        ]
        series[server * 3] = [
            (day, None if rng.random() < 0.1 else rng.uniform(1e6, 9e7), rng.uniform(5, 90))
            for day in days or [first]
        ]
    daily = figures.DailyFigures([*series, 999])  # 999: listed, never measured
    for server_id, points in series.items():
        for day, download, latency in points:
            daily.add(daily.columns[server_id], day, download, latency)
    daily.finish()
    for group in (list(series), list(series)[:1], list(series)[::2], list(series)[5:9]):
        by_day: dict[date, list[float]] = defaultdict(list)
        for server_id in group:
            for day, download, _ in series[server_id]:
                if download is not None:
                    by_day[day].append(download)
        expected = [(day, statistics.median(v)) for day, v in sorted(by_day.items())]
        assert daily.medians(group) == expected  # exactly, not roughly


def test_daily_series_come_back_whole_whatever_order_and_span_their_days_arrive_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pickle
    import random
    from datetime import date, timedelta

    from site_builder.sites.bestvpnserver import figures

    monkeypatch.setattr(figures, "_POINTS_PER_BLOCK", 7)  # the matrices grow many times
    rng = random.Random(11)
    series = {}
    for server_id in range(1, 30):
        first = date(2026, 1, 1) + timedelta(days=rng.randrange(-200, 200))
        days = sorted(
            {first + timedelta(days=rng.randrange(60)) for _ in range(rng.randrange(1, 9))}
        )
        series[server_id] = [
            (
                day,
                None if rng.random() < 0.2 else float(rng.randrange(10**6, 10**8)),
                None if rng.random() < 0.2 else rng.uniform(1, 200),
            )
            for day in days
        ]
    daily = figures.DailyFigures(list(series))
    points = [(server_id, point) for server_id, p in series.items() for point in p]
    rng.shuffle(points)
    for server_id, (day, download, latency) in points:
        daily.add(daily.columns[server_id], day, download, latency)
    daily.finish()
    for server_id, expected in series.items():
        got = daily.series(server_id)
        assert list(got) == expected  # a day with neither median is still a measured day
        assert len(got) == len(expected)
        assert list(pickle.loads(pickle.dumps(got))) == expected
        assert got.downloads_mbit() == [(d, v * 8 / 1e6) for d, v, _ in expected if v is not None]


def test_the_daily_rollup_query_selects_the_columns_server_stats_reads_by_position(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        assert tuple(queries.daily_rollups(connection).keys()) == DailyRow._fields


@pytest.mark.parametrize("as_text", [False, True], ids=["dates", "iso-text"])
def test_server_figures_from_daily_rows(as_text: bool) -> None:
    first, second = date(2026, 11, 19), date(2026, 11, 20)
    day_of = {first: first.isoformat(), second: second.isoformat()} if as_text else {}
    rows = [  # ordered by server, day, protocol, as the query streams them
        DailyRow(1, day_of.get(first, first), "openvpn", 4, 3, 40.0, 20_000_000, 5_000_000),
        DailyRow(1, day_of.get(first, first), "wireguard", 6, 6, 20.0, 60_000_000, 9_000_000),
        DailyRow(1, day_of.get(second, second), "wireguard", 10, 9, 10.0, 80_000_000, None),
        DailyRow(2, day_of.get(first, first), "wireguard", 2, 2, 5.0, None, None),  # not listed
    ]
    servers = [{"id": 1, "hostname": "de-fra-1.example.net", "provider_slug": "mullvad"}]
    measured = server_stats(servers, iter(rows), {1: 99.5})
    [server] = measured.stats
    assert server["url"] == "/servers/mullvad/de-fra-1-example-net/"
    assert (server["runs"], server["success_rate"]) == (20, 0.9)
    assert server["download_median_bps"] == 60_000_000
    assert server["upload_median_bps"] == 7_000_000  # the missing day is not a zero
    assert server["latency_median_ms"] == 20.0
    assert list(measured.daily.series(1)) == [
        (first, 40_000_000, 30.0),
        (second, 80_000_000, 10.0),
    ]
    assert measured.protocols.of(1) == {
        "openvpn": {"runs": 4, "download_median_bps": 20_000_000, "latency_median_ms": 40.0},
        "wireguard": {"runs": 16, "download_median_bps": 70_000_000, "latency_median_ms": 15.0},
    }
    assert (server["first_day"], server["last_day"], server["uptime_pct"]) == (first, second, 99.5)
    figures = measured.protocols.of(1)  # pages print a median as it is: 20000000, 70000000.0
    assert type(figures["openvpn"]["download_median_bps"]) is int  # one value
    assert type(figures["wireguard"]["download_median_bps"]) is float  # the mean of two
    assert measured.protocols.count("openvpn", measured.stats) == 1
    over = measured.protocols.over("openvpn", measured.stats)
    assert (over.runs, over.downloads, over.latencies) == ([4], [20_000_000], [40.0])
    view = over.view(0)
    assert (view["runs"], view["hostname"]) == (4, "de-fra-1.example.net")
    assert measured.protocols.over("ikev2", measured.stats).servers == []


def test_a_summary_over_a_protocol_counts_that_protocols_runs_and_medians_only() -> None:
    """A protocol page's figures: the protocol's runs and medians; the server's own success
    rate, upload and days (runs are not kept per protocol for those)."""
    day = date(2026, 11, 20)
    rows = [
        DailyRow(1, day, "openvpn", 4, 3, 40.0, 20_000_000, 5_000_000),
        DailyRow(1, day, "wireguard", 6, 6, 20.0, 60_000_000, 9_000_000),
        DailyRow(2, day, "openvpn", 2, 1, 50.0, 10_000_000, 1_000_000),
    ]
    servers = [
        {"id": 1, "hostname": "de-fra-1.example.net", "provider_slug": "mullvad"},
        {"id": 2, "hostname": "nl-ams-1.example.net", "provider_slug": "ivpn"},
    ]
    for server, country in zip(servers, ("DE", "NL"), strict=True):
        server["country_code"] = country
    measured = server_stats(servers, iter(rows), {})
    gate = load_project(ROOT / "sites.toml", available_page_kinds()).site("bestvpnserver").quality
    over = measured.protocols.over("openvpn", measured.stats)
    figures = summary(over, day, gate)
    assert figures["servers"] == 2 and figures["runs"] == 4 + 2
    assert figures["download_median_bps"] == 15_000_000  # of 20 and 10 Mbyte/s, not 60
    assert figures["latency_median_ms"] == 45.0
    assert figures["upload_median_bps"] == 4_000_000  # the servers' own: 7 and 1 Mbyte/s
    assert figures["success_rate"] == pytest.approx((9 / 10 * 4 + 1 / 2 * 2) / 6)
    assert (figures["countries"], figures["providers"]) == (2, 2)
    assert figures == summary([over.view(0), over.view(1)], day, gate)  # as views read


def test_the_latest_run_columns_are_a_probe_runs_fields_in_order() -> None:
    assert tuple(c.name for c in queries._PROBE_RUN_COLUMNS) == ProbeRun._fields


def test_figures_cover_the_window_of_days_up_to_the_newest_and_older_rollups_are_left_out(
    engine: Engine,
) -> None:
    """Rollups are kept forever; a server's figures (and whether it has a page at all) come
    from the last `window_days` days with data."""
    newest = date(2026, 11, 30)
    site = load_project(ROOT / "sites.toml", available_page_kinds()).site("bestvpnserver")
    site = site.model_copy(update={"quality": site.quality.model_copy(update={"window_days": 7})})
    with engine.begin() as connection:
        connection.execute(insert(Country), [{"code": "DE", "name": "Germany", "slug": "germany"}])
        connection.execute(
            insert(VpnProvider), [{"slug": "mullvad", "name": "Mullvad", "first_seen_at": AT}]
        )
        connection.execute(
            insert(VpnServer),
            [
                {
                    "id": server_id,
                    "provider_slug": "mullvad",
                    "hostname": f"de-fra-{server_id:03d}.mullvad.example",
                    "ip": f"192.0.2.{server_id}",
                    "country_code": "DE",
                    "status": "active",
                    "first_seen_at": AT,
                    "last_seen_at": AT,
                }
                for server_id in (1, 2)
            ],
        )

        def rollup(server_id: int, day: date, download: int) -> dict[str, object]:
            return {
                "server_id": server_id,
                "day": day,
                "protocol": "wireguard",
                "runs": 4,
                "successes": 4,
                "latency_median_ms": 20.0,
                "download_median_bps": download,
                "upload_median_bps": download // 2,
            }

        # server 1: 40 days, slow before the window and fast in it; server 2: only long ago
        days = [newest - timedelta(days=n) for n in range(40)]
        rows = [
            rollup(1, day, 900_000_000 if day > newest - timedelta(days=7) else 1) for day in days
        ]
        rows.append(rollup(2, newest - timedelta(days=20), 500_000_000))
        connection.execute(insert(VpnMeasurementDaily), rows)
        connection.execute(
            insert(VpnServerUptimeDaily),
            [
                {
                    "server_id": 1,
                    "day": day,
                    "uptime_pct": 100.0 if day > newest - timedelta(days=7) else 0.0,
                    "heartbeats": 288,
                    "down_minutes": 0,
                }
                for day in days
            ],
        )
    with engine.connect() as connection:
        data = load(connection, site, jobs=1)
    assert data is not None
    assert [s["id"] for s in data.stats] == [1]  # server 2 was not measured in the window
    server = data.stats[0]
    assert server["first_day"] == newest - timedelta(days=6)  # dates, though SQLite gives
    assert server["last_day"] == newest  # days as text
    assert type(server["first_day"]) is date and type(server["last_day"]) is date
    assert server["runs"] == 7 * 4
    assert server["download_median_bps"] == 900_000_000
    assert server["uptime_pct"] == 100.0
    assert len(data.daily.series(1)) == 7


@given(
    st.one_of(
        st.from_regex(r"[a-z0-9]{1,12}(?:[.-][a-z0-9]{1,12}){0,12}", fullmatch=True),
        st.text(alphabet="aZ09.-_ <>&é", max_size=130),
    )
)
def test_a_server_slug_is_what_slugify_makes_of_its_hostname(hostname: str) -> None:
    assert server_slug(hostname) == (slugify(hostname, max_length=120) or "server")
