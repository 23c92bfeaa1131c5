"""Provenance on the pages: where the figures come from, and demo output never mistaken
for measurements (a banner on every page built from demo batches)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import sign
from site_builder.sites.bestvpnserver import provenance

ROOT = Path(__file__).resolve().parent.parent
RECORDS = (Path(__file__).parent / "fixtures/measurements/records.ndjson").read_bytes()
KEYS = {"fra": b"fra-test-secret"}
BANNER = '<p class="demo-banner" role="note">'


def _pull(engine: Engine, folder: Path, *, demo: bool) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "b.ndjson").write_bytes(RECORDS)
    (folder / "b.ndjson.sig").write_bytes(sign(RECORDS, "fra", KEYS["fra"]))
    pull_measurements(
        engine,
        folder,
        keys=KEYS,
        reference_file=ROOT / "data/vpn/reference.toml",
        now=datetime(2026, 11, 21, tzinfo=UTC),
        demo=demo,
    )


def test_measured_batches_are_credited_and_not_called_demo(engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as connection:
        assert provenance(connection) is None  # nothing taken yet: nothing to credit
    _pull(engine, tmp_path / "real", demo=False)
    with engine.connect() as connection:
        origin = provenance(connection)
    assert origin == {
        "demo": False,
        "probes": ["fra"],
        "agents": 0,
        "batches": 1,
        "first": "2026-11-20",
        "last": "2026-11-20",
    }


def test_demo_batches_are_marked_as_demo(engine: Engine, tmp_path: Path) -> None:
    _pull(engine, tmp_path / "demo", demo=True)
    with engine.connect() as connection:
        assert provenance(connection)["demo"] is True


def test_every_page_built_from_demo_batches_says_so(built: Path) -> None:
    pages = sorted((built / "output" / "bestvpnserver").rglob("*.html"))
    assert len(pages) > 50
    without = [str(p) for p in pages if BANNER not in p.read_text(encoding="utf-8")]
    assert without == [], f"pages without the demo banner: {without[:5]}"
    home = (built / "output" / "bestvpnserver" / "index.html").read_text(encoding="utf-8")
    assert "Demo data: figures from" in home and "by probes ams, fra" in home
    for page in (built / "output" / "cloudgpus").rglob("*.html"):  # prices: no such data
        assert BANNER not in page.read_text(encoding="utf-8")
