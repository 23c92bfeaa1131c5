"""Signed probe batches: verified before parsing, all or nothing, idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from site_builder.db.models import (
    VpnHeartbeat,
    VpnIngestedBatch,
    VpnMeasurement,
    VpnServer,
    VpnStreamingCheck,
)
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import parse, sign
from site_builder.pull.measurements.rows import (
    batch_rows,
    copy_text,
    measurement_copy_blocks,
    with_server_ids,
)

ROOT = Path(__file__).resolve().parent.parent
RECORDS = (Path(__file__).parent / "fixtures/measurements/records.ndjson").read_bytes()
KEYS = {"fra": b"fra-test-secret", "nyc": b"nyc-test-secret"}
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def write_batch(
    folder: Path, name: str, data: bytes, probe: str = "fra", key: bytes | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    (folder / f"{name}.sig").write_bytes(sign(data, probe, key or KEYS[probe]))
    return path


def ingest(engine: Engine, source: Path, rejects: Path | None = None, keys=KEYS):
    return pull_measurements(
        engine,
        source,
        keys=keys,
        reference_file=ROOT / "data/vpn/reference.toml",
        rejects_dir=rejects,
        now=NOW,
    )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__tablename__: connection.execute(
                select(func.count()).select_from(model.__table__)
            ).scalar_one()
            for model in (
                VpnMeasurement,
                VpnStreamingCheck,
                VpnHeartbeat,
                VpnServer,
                VpnIngestedBatch,
            )
        }


def test_a_valid_batch_is_ingested_whole(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "b1.ndjson", RECORDS)
    report = ingest(engine, tmp_path / "in")
    assert [r.status for r in report.results] == ["ingested"]
    assert report.records == 5
    assert counts(engine) == {
        "vpn_measurements": 3,
        "vpn_streaming_checks": 1,
        "vpn_heartbeats": 1,
        "vpn_servers": 2,
        "vpn_ingested_batches": 1,
    }
    with engine.connect() as connection:
        first = connection.execute(
            select(VpnMeasurement.__table__).where(
                VpnMeasurement.__table__.c.id == "fra-202611200100-00001"
            )
        ).one()
    assert first.latency_ms == 4.5  # median of the samples
    assert first.jitter_ms == pytest.approx((0.5 + 0.6 + 0.6 + 0.5) / 4)
    assert first.download_bps == 39000711
    assert first.started_at == datetime(2026, 11, 20, 1, 0, 7, tzinfo=UTC)


def test_every_stored_value_reads_back_as_the_probe_sent_it(engine: Engine, tmp_path: Path) -> None:
    awkward = b'"error":"tab\\there, new\\nline, back\\\\slash \\\\N"'
    data = RECORDS.replace(b'"error":"handshake timeout"', awkward)
    two_samples = data.replace(b"[5.0,4.5,3.9,4.5,4.0]", b"[5.0,1e-05]")
    write_batch(tmp_path / "in", "b1.ndjson", two_samples)
    assert [r.status for r in ingest(engine, tmp_path / "in").results] == ["ingested"]
    table = VpnMeasurement.__table__
    with engine.connect() as connection:
        rows = {row.id: row for row in connection.execute(select(table))}
        beat = connection.execute(select(VpnHeartbeat.__table__)).one()
    failed = rows["fra-202611200100-00002"]
    assert failed.error == "tab\there, new\nline, back\\slash \\N"
    assert failed.connect_success is False and failed.latency_ms is None
    assert failed.latency_samples_ms is None and failed.download_bytes is None
    assert rows["fra-202611200100-00001"].latency_samples_ms == [5.0, 1e-05]
    summarized = rows["fra-202611200100-00003"]
    assert (summarized.latency_ms, summarized.jitter_ms) == (16.2, 1.4)
    assert summarized.latency_samples_ms is None and summarized.packet_loss == 0.01
    assert beat.services == {"wg": True, "ov": False}


def test_a_resent_batch_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "b1.ndjson", RECORDS)
    ingest(engine, tmp_path / "in")
    before = counts(engine)
    report = ingest(engine, tmp_path / "in")
    assert [r.status for r in report.results] == ["duplicate"]
    assert counts(engine) == before


def test_the_fast_measurement_encoder_writes_what_the_general_one_does() -> None:
    awkward = RECORDS.replace(b"handshake timeout", b"tab\\tnew\\nline back\\\\slash")
    batch = parse("b.ndjson", awkward, signed_probe="fra", known_probes={"fra"}, now=NOW)
    flat = batch_rows(batch, "b.ndjson", as_copy=False)
    rows = flat.measurements
    assert isinstance(rows, list) and len(rows) == 3
    index = {(server[0], server[2]): n for n, server in enumerate(flat.servers)}
    ids = [1000 + n for n in range(len(index))]  # as the store would number the servers
    general = copy_text(
        [(1000 + index[r[2], r[3]], flat.sha256, "fra", r[0], r[1], *r[4:]) for r in rows]
    )
    blocks = measurement_copy_blocks(rows, index, flat.sha256, "fra")
    fast = with_server_ids(blocks, ids)
    assert sorted(fast.splitlines()) == sorted(general.splitlines())  # grouped by server
    assert b"tab\\tnew\\nline back\\\\slash" in fast


def test_records_resent_in_a_new_batch_are_stored_once(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "a.ndjson", RECORDS)
    ingest(engine, tmp_path / "in")
    header, first, *rest = RECORDS.splitlines(keepends=True)
    new = first.replace(b"fra-202611200100-00001", b"fra-202611200100-00009")
    write_batch(tmp_path / "in", "b.ndjson", header + first + new + b"".join(rest))
    report = ingest(engine, tmp_path / "in")
    assert [(r.name, r.status) for r in report.results] == [
        ("a.ndjson", "duplicate"),
        ("b.ndjson", "ingested"),
    ]
    assert counts(engine)["vpn_measurements"] == 4  # the three re-sent ones are not doubled


def test_the_same_batch_twice_in_one_pull_is_taken_once(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "a.ndjson", RECORDS)
    write_batch(tmp_path / "in", "b.ndjson", RECORDS)
    report = ingest(engine, tmp_path / "in")
    assert [(r.name, r.status) for r in report.results] == [
        ("a.ndjson", "ingested"),
        ("b.ndjson", "duplicate"),
    ]
    assert counts(engine)["vpn_ingested_batches"] == 1


def test_a_tampered_batch_is_rejected_and_nothing_written(engine: Engine, tmp_path: Path) -> None:
    path = write_batch(tmp_path / "in", "b1.ndjson", RECORDS)
    path.write_bytes(RECORDS.replace(b"39000711", b"99000711"))  # after signing
    [result] = ingest(engine, tmp_path / "in").results
    assert result.status == "rejected"
    assert "bad signature for probe 'fra'" in result.message
    assert counts(engine)["vpn_measurements"] == 0


def test_a_batch_signed_with_the_wrong_key_is_rejected(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "b1.ndjson", RECORDS, key=b"not-the-key")
    [result] = ingest(engine, tmp_path / "in").results
    assert result.status == "rejected" and "bad signature" in result.message


def test_missing_signature_and_unknown_signer_are_rejected(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.ndjson").write_bytes(RECORDS)
    write_batch(folder, "b.ndjson", RECORDS)
    results = ingest(engine, folder, keys={"nyc": KEYS["nyc"]}).results
    assert "missing signature file" in results[0].message
    assert "no key configured for probe 'fra'" in results[1].message
    assert counts(engine)["vpn_ingested_batches"] == 0


def test_one_bad_line_among_thousands_rejects_the_batch_with_its_line_number(
    engine: Engine, tmp_path: Path
) -> None:
    header, *records = RECORDS.splitlines()
    template = json.loads(records[0])
    lines = [header]
    for n in range(2000):
        record = dict(template, id=f"fra-bulk-{n:05d}")
        if n == 1234:
            record["latency"] = {"samples_ms": [12.0, 10001.0]}  # over 10 s: out of range
        lines.append(json.dumps(record).encode())
    write_batch(tmp_path / "in", "big.ndjson", b"\n".join(lines) + b"\n")
    [result] = ingest(engine, tmp_path / "in", rejects=tmp_path / "rejects").results
    assert result.status == "rejected"
    assert "line 1236:" in result.message  # header is line 1, record n is line n + 2
    assert counts(engine)["vpn_measurements"] == 0
    report = (tmp_path / "rejects" / "big.ndjson.report.txt").read_text()
    assert report.startswith("line 1236: measurement.latency.samples_ms.1:")
    assert (tmp_path / "rejects" / "big.ndjson").exists()
    assert not (tmp_path / "in" / "big.ndjson").exists()


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'"bytes_per_s":39000711', b'"bytes_per_s":-5', "greater than or equal to 0"),
        (b'"packet_loss":0,', b'"packet_loss":1.5,', "less than or equal to 1"),
        (b'"2026-11-20T01:00:07Z"', b'"2026-12-25T01:00:07Z"', "is in the future"),
        (b'"2026-11-20T01:00:07Z"', b'"2026-11-20T01:00:07"', "needs a timezone"),
        (b'"probe":"fra","server"', b'"probe":"xyz","server"', "unknown probe 'xyz'"),
        (
            b'"protocol":"wireguard","started_at":"2026-11-20T01:00:07Z"',
            b'"protocol":"pptp","started_at":"2026-11-20T01:00:07Z"',
            "measurement.protocol",
        ),
        (b'"kind":"heartbeat"', b'"kind":"telemetry"', "does not match any of the expected tags"),
    ],
)
def test_out_of_range_values_reject_the_batch(
    engine: Engine, tmp_path: Path, old: bytes, new: bytes, reason: str
) -> None:
    assert old in RECORDS
    write_batch(tmp_path / "in", "b.ndjson", RECORDS.replace(old, new, 1))
    [result] = ingest(engine, tmp_path / "in").results
    assert result.status == "rejected"
    assert reason in result.message
    assert counts(engine)["vpn_ingested_batches"] == 0


def test_batches_from_an_http_listing_are_fetched_once(engine: Engine, tmp_path: Path) -> None:
    import hashlib

    from tests.local_http import serve

    good = RECORDS
    other = RECORDS.replace(b"fra-202611200100-00001", b"fra-202611200100-00009")
    files = {
        "/batches/a.ndjson": good,
        "/batches/a.ndjson.sig": sign(good, "fra", KEYS["fra"]),
        "/batches/b.ndjson": other,
        "/batches/b.ndjson.sig": sign(other, "fra", KEYS["fra"]),
    }
    listing = {
        "version": 1,
        "batches": [
            {"name": "a.ndjson", "sha256": hashlib.sha256(good).hexdigest()},
            {
                "name": "b.ndjson",
                "sha256": "0" * 64,
            },  # the listing says one thing, the file another
        ],
    }

    def static(body: bytes):
        return lambda request: (200, {}, body)

    routes = {path: static(body) for path, body in files.items()}
    routes["/batches/index.json"] = lambda r: (200, {}, json.dumps(listing).encode())
    with serve(routes) as server:
        url = server.base_url + "/batches/index.json"
        first = pull_measurements(
            engine, url, keys=KEYS, reference_file=ROOT / "data/vpn/reference.toml", now=NOW
        )
        downloads = [r.path for r in server.requests if r.path.endswith(".ndjson")]
        second = pull_measurements(
            engine, url, keys=KEYS, reference_file=ROOT / "data/vpn/reference.toml", now=NOW
        )
        downloads_again = [r.path for r in server.requests if r.path.endswith(".ndjson")][
            len(downloads) :
        ]
    statuses = {r.name: r.status for r in first.results}
    assert statuses == {"a.ndjson": "ingested", "b.ndjson": "rejected"}
    assert "do not match the listed sha256" in next(
        r.message for r in first.results if r.name == "b.ndjson"
    )
    assert counts(engine)["vpn_measurements"] == 3
    assert downloads_again == ["/batches/b.ndjson"]  # a.ndjson is known by its hash: not fetched
    assert [r.status for r in second.results] == ["rejected"]
