"""The S3 batch exchange against a real S3-protocol server on loopback (moto in server mode):
publish a spool, pull it back with `pull measurements --source s3://…`, faults included."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from site_builder.db.models import VpnIngestedBatch, VpnMeasurement
from site_builder.exchange.fetch import ExchangeSourceError
from site_builder.exchange.listing import Listing
from site_builder.exchange.publish import prune_exchange, prune_sent, publish_spool
from site_builder.exchange.s3 import make_client
from site_builder.exchange.settings import ExchangeSettings, parse_destination
from site_builder.probe.spool import pending, sent, spool_batch
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import sign
from tests.s3_server import CREDENTIALS, fault_proxy, make_bucket, moto_server, settings_for

ROOT = Path(__file__).resolve().parent.parent
RECORDS = (Path(__file__).parent / "fixtures/measurements/records.ndjson").read_bytes()
KEYS = {"fra": b"fra-test-secret", "nyc": b"nyc-test-secret"}
NOW = datetime(2026, 11, 21, tzinfo=UTC)
BUCKET = "probe-batches"
DESTINATION = f"s3://{BUCKET}/vpn/batches"


def batch_of(probe: str, day: int = 20) -> bytes:
    """The fixture batch as `probe` sent it on 2026-11-`day` (ids and dates changed)."""
    data = RECORDS.replace(b'"probe":"fra"', b'"probe":"%s"' % probe.encode())
    data = data.replace(b'"id":"fra-', b'"id":"%s-%d-' % (probe.encode(), day))
    return data.replace(b"2026-11-20T", b"2026-11-%02dT" % day)


def spool(folder: Path, probe: str, day: int = 20) -> Path:
    data = batch_of(probe, day)
    return spool_batch(folder, f"2026-11-{day:02d}-{probe}", data, sign(data, probe, KEYS[probe]))


def listing(endpoint: str, probe: str) -> Listing:
    client = make_client(settings_for(endpoint))
    key = f"vpn/batches/{probe}/index.json"
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return Listing.model_validate_json(body)


def pull(engine: Engine, endpoint: str):
    return pull_measurements(
        engine,
        DESTINATION,
        keys=KEYS,
        reference_file=ROOT / "data/vpn/reference.toml",
        now=NOW,
        exchange_settings=settings_for(endpoint),
    )


def stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(VpnIngestedBatch)).scalar_one(),
            connection.execute(select(func.count()).select_from(VpnMeasurement)).scalar_one(),
        )


def test_destination_and_settings_come_from_the_standard_variables() -> None:
    assert parse_destination("s3://my-bucket/a/b/").prefix == "a/b/"
    assert parse_destination("s3://my-bucket").prefix == ""
    settings = ExchangeSettings.from_env(
        {"AWS_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com", "AWS_REGION": "auto"}
    )
    assert settings.endpoint_url == "https://acct.r2.cloudflarestorage.com"
    assert settings.region == "auto"
    ours = ExchangeSettings.from_env(
        {"AWS_ENDPOINT_URL": "https://a.example", "SITE_BUILDER_S3_ENDPOINT_URL": "http://b:9000"}
    )
    assert ours.endpoint_url == "http://b:9000"


def test_published_batches_are_pulled_into_the_store_once(engine: Engine, tmp_path: Path) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        spool(tmp_path / "fra", "fra", 19)
        spool(tmp_path / "fra", "fra", 20)
        report = publish_spool(
            tmp_path / "fra", DESTINATION, probe="fra", settings=settings_for(endpoint), now=NOW
        )
        assert report.ok, report.error
        assert report.published == ["2026-11-19-fra.ndjson", "2026-11-20-fra.ndjson"]
        assert pending(tmp_path / "fra") == []
        assert len(sent(tmp_path / "fra")) == 2
        names = [entry.name for entry in listing(endpoint, "fra").batches]
        assert names == ["2026-11-19-fra.ndjson", "2026-11-20-fra.ndjson"]

        first = pull(engine, endpoint)
        assert first.count("ingested") == 2, [r.message for r in first.results]
        assert stored(engine) == (2, 6)
        second = pull(engine, endpoint)  # the store has both: nothing is even downloaded
        assert second.results == []
        assert stored(engine) == (2, 6)


def test_a_503_during_upload_is_retried_and_the_batch_arrives(
    engine: Engine, tmp_path: Path
) -> None:
    failures = {"left": 2}

    def slow_down_twice(method: str, path: str) -> tuple[int, str] | None:
        if method == "PUT" and path.endswith(".ndjson") and failures["left"]:
            failures["left"] -= 1
            return 503, "SlowDown"
        return None

    with moto_server() as endpoint, fault_proxy(endpoint, slow_down_twice) as proxy:
        make_bucket(endpoint, BUCKET)
        spool(tmp_path, "fra")
        report = publish_spool(
            tmp_path, DESTINATION, probe="fra", settings=settings_for(proxy.url), now=NOW
        )
        assert report.ok, report.error
        assert [s for _, p, s in proxy.seen if p.endswith(".ndjson")] == [503, 503, 200]
        assert pull(engine, endpoint).count("ingested") == 1


def test_an_endpoint_that_keeps_failing_leaves_the_batch_spooled_for_the_next_run(
    engine: Engine, tmp_path: Path
) -> None:
    broken = {"on": True}

    def down(method: str, path: str) -> tuple[int, str] | None:
        return (503, "ServiceUnavailable") if broken["on"] else None

    with moto_server() as endpoint, fault_proxy(endpoint, down) as proxy:
        make_bucket(endpoint, BUCKET)
        batch = spool(tmp_path, "fra")
        settings = settings_for(proxy.url, max_attempts=2)
        report = publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW)
        assert not report.ok
        assert "503" in (report.error or "")
        assert pending(tmp_path) == [batch]
        broken["on"] = False
        again = publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW)
        assert again.ok and again.published == [batch.name]
        assert pull(engine, endpoint).count("ingested") == 1


def test_a_failed_listing_write_keeps_the_uploaded_batch_pending(tmp_path: Path) -> None:
    def no_listing(method: str, path: str) -> tuple[int, str] | None:
        return (500, "InternalError") if method == "PUT" and "index.json" in path else None

    with moto_server() as endpoint, fault_proxy(endpoint, no_listing) as proxy:
        make_bucket(endpoint, BUCKET)
        batch = spool(tmp_path, "fra")
        settings = settings_for(proxy.url, max_attempts=2)
        report = publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW)
        assert "listing" in (report.error or "")
        assert pending(tmp_path) == [batch]  # uploaded but not listed: sent again next time


def test_an_unreachable_endpoint_is_reported_not_raised(tmp_path: Path) -> None:
    batch = spool(tmp_path, "fra")
    settings = settings_for("http://127.0.0.1:9", max_attempts=1)
    report = publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW)
    assert not report.ok and pending(tmp_path) == [batch]


def test_two_probes_publishing_at_once_both_arrive(engine: Engine, tmp_path: Path) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        for day in (18, 19, 20):
            spool(tmp_path / "fra", "fra", day)
            spool(tmp_path / "nyc", "nyc", day)
        reports = {}
        start = threading.Barrier(2)

        def publish(probe: str) -> None:
            start.wait()
            reports[probe] = publish_spool(
                tmp_path / probe,
                DESTINATION,
                probe=probe,
                settings=settings_for(endpoint),
                now=NOW,
            )

        threads = [threading.Thread(target=publish, args=(p,)) for p in ("fra", "nyc")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(r.ok for r in reports.values()), reports
        for probe in ("fra", "nyc"):
            assert len(listing(endpoint, probe).batches) == 3
        result = pull(engine, endpoint)
        assert result.count("ingested") == 6, [r.message for r in result.results]
        assert stored(engine) == (6, 18)


def test_a_batch_signed_by_another_producer_is_not_published(tmp_path: Path) -> None:
    spool(tmp_path, "nyc")
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        report = publish_spool(
            tmp_path, DESTINATION, probe="fra", settings=settings_for(endpoint), now=NOW
        )
    assert report.published == [] and "signed by 'nyc'" in (report.error or "")


def test_a_tampered_object_in_the_bucket_is_rejected(engine: Engine, tmp_path: Path) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        spool(tmp_path, "fra")
        publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings_for(endpoint), now=NOW)
        client = make_client(settings_for(endpoint))
        key = "vpn/batches/fra/2026-11-20-fra.ndjson"
        client.put_object(Bucket=BUCKET, Key=key, Body=batch_of("fra") + b"\n")
        result = pull(engine, endpoint)
        assert [r.status for r in result.results] == ["rejected"]
        assert "do not match the listed sha256" in result.results[0].message
        assert stored(engine) == (0, 0)


def test_a_missing_bucket_stops_the_pull_with_one_line(engine: Engine) -> None:
    with moto_server() as endpoint, pytest.raises(ExchangeSourceError, match="cannot list"):
        pull(engine, endpoint)


def test_retention_prunes_old_batches_in_the_bucket_and_the_spool(tmp_path: Path) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        settings = settings_for(endpoint)
        spool(tmp_path, "fra", 10)
        publish_spool(
            tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW - timedelta(days=40)
        )
        spool(tmp_path, "fra", 20)
        publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings, now=NOW)
        removed = prune_exchange(DESTINATION, probe="fra", keep_days=30, settings=settings, now=NOW)
        assert removed == ["2026-11-10-fra.ndjson"]
        assert [e.name for e in listing(endpoint, "fra").batches] == ["2026-11-20-fra.ndjson"]
        keys = [o["Key"] for o in make_client(settings).list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert "vpn/batches/fra/2026-11-10-fra.ndjson" not in keys
        assert "vpn/batches/fra/2026-11-10-fra.ndjson.sig" not in keys
        assert "vpn/batches/fra/2026-11-20-fra.ndjson" in keys
    old = tmp_path / "sent" / "2026-11-10-fra.ndjson"
    stamp = (NOW - timedelta(days=40)).timestamp()
    os.utime(old, (stamp, stamp))
    assert prune_sent(tmp_path, keep_days=30, now=NOW) == ["2026-11-10-fra.ndjson"]
    assert [p.name for p in sent(tmp_path)] == ["2026-11-20-fra.ndjson"]


def test_two_publishers_of_one_spool_send_each_batch_once(tmp_path: Path) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        for day in range(10, 20):
            spool(tmp_path, "fra", day)
        reports = []
        start = threading.Barrier(2)

        def publish() -> None:
            start.wait()
            reports.append(
                publish_spool(
                    tmp_path, DESTINATION, probe="fra", settings=settings_for(endpoint), now=NOW
                )
            )

        threads = [threading.Thread(target=publish) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        published = sorted(name for r in reports for name in r.published)
        assert published == [f"2026-11-{day}-fra.ndjson" for day in range(10, 20)]
        assert len(listing(endpoint, "fra").batches) == 10


def test_the_pull_command_reads_the_exchange(project_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from site_builder.cli import main

    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        # yesterday: recent enough for any max age, and never ahead of the clock (the
        # records run to 06:00, which today may not have reached)
        day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
        data = RECORDS.replace(b"2026-11-20T", day.encode() + b"T")
        spool_batch(tmp_path, f"{day}-fra", data, sign(data, "fra", KEYS["fra"]))
        publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings_for(endpoint))
        env = {
            **CREDENTIALS,
            "SITE_BUILDER_S3_ENDPOINT_URL": endpoint,
            "SITE_BUILDER_PROBE_KEYS": json.dumps({"fra": KEYS["fra"].decode()}),
            "DATABASE_URL": f"sqlite:///{project_dir / 'store.db'}",
        }
        arguments = ["--config", str(project_dir / "sites.toml")]
        upgrade = CliRunner().invoke(main, [*arguments, "db", "upgrade"], env=env)
        assert upgrade.exit_code == 0, upgrade.output
        command = [*arguments, "pull", "measurements", "--source", DESTINATION]
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 0, result.output
        assert "1 batches ingested" in result.output
        again = CliRunner().invoke(main, command, env=env)
        assert "0 batches ingested" in again.output
        missing = CliRunner().invoke(
            main, [*arguments, "pull", "measurements", "--source", "s3://no-such-bucket/x"], env=env
        )
        assert missing.exit_code == 1
        assert "s3://no-such-bucket/x: cannot list the exchange: NoSuchBucket" in missing.output


def test_a_folder_that_is_no_producer_id_is_skipped_not_followed(
    engine: Engine, tmp_path: Path
) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, BUCKET)
        spool(tmp_path, "fra")
        publish_spool(tmp_path, DESTINATION, probe="fra", settings=settings_for(endpoint), now=NOW)
        client = make_client(settings_for(endpoint))
        body = listing(endpoint, "fra").to_json()
        client.put_object(Bucket=BUCKET, Key="vpn/batches/../x/index.json", Body=body)
        client.put_object(Bucket=BUCKET, Key="vpn/batches/Not An Id/index.json", Body=body)
        result = pull(engine, endpoint)
        assert result.count("ingested") == 1
        failed = [r.message for r in result.results if r.status == "failed"]
        assert len(failed) >= 1 and all("is not a probe or agent id" in m for m in failed)
