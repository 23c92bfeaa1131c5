"""GPU spec sheets (data/gpu_specs.toml): the loader's errors, the price per unit of
performance, what the GPU pages show, and a broken file that costs its figures, not the build."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html

from site_builder.cli import build_site
from site_builder.errors import ConfigError
from site_builder.sites.cloudgpus.specs import (
    GpuSpec,
    paired_rows,
    parse_specs,
    per_pflops_hour,
    per_tbs_hour,
    read_specs,
    spec_sheet,
    value_for_money,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOG = frozenset(
    m["slug"] for m in tomllib.loads((ROOT / "data/gpu_catalog.toml").read_text())["model"]
)


def _entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "slug": "h100-sxm",
        "bf16_tflops": 989.5,
        "memory_bandwidth_gbs": 3350,
        "tdp_w": 700,
        "source": "https://example.com/h100.pdf",
        "source_title": "H100 datasheet",
        "checked": "2026-12-05",
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def _error(*entries: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_specs({"gpu": list(entries)}, "data/gpu_specs.toml", CATALOG)
    return str(caught.value)


def test_the_checked_in_file_is_valid_and_covers_catalog_models_only() -> None:
    specs = parse_specs(
        tomllib.loads((ROOT / "data/gpu_specs.toml").read_text()), "gpu_specs.toml", CATALOG
    )
    assert {"h100-sxm", "a100-80-sxm", "mi300x", "l40s"} <= specs.keys() <= CATALOG
    # dense figures: half of NVIDIA's asterisked 1,979 TFLOPS "with sparsity"
    assert specs["h100-sxm"].bf16_tflops == Decimal("989.5")
    assert all(s.source.startswith("https://") and s.source_title for s in specs.values())


def test_a_malformed_entry_is_named_with_its_file_and_slug() -> None:
    message = _error(_entry(), _entry(slug="l4", bf16_tflops="fast"))
    assert message.startswith("data/gpu_specs.toml: gpu 'l4': bf16_tflops")
    assert "gpu 'a100-80-sxm': tdp_w" in _error(_entry(slug="a100-80-sxm", tdp_w=-5))
    assert "source: must be an https:// URL" in _error(_entry(source="nvidia.com/h100"))
    assert "checked" in _error(_entry(checked=None))
    assert "unknown_field" in _error(_entry(unknown_field=1))
    assert "gpu entry 1" in _error({"bf16_tflops": 1})  # no slug: named by position


def test_a_slug_outside_the_catalog_or_given_twice_is_refused() -> None:
    assert "gpu 'h100-typo': not a GPU model of the catalog" in _error(_entry(slug="h100-typo"))
    assert "gpu 'h100-sxm': appears twice" in _error(_entry(), _entry())
    assert "gives no figure" in _error(
        _entry(bf16_tflops=None, memory_bandwidth_gbs=None, tdp_w=None)
    )


def test_read_specs_never_raises(tmp_path: Path) -> None:
    absent = read_specs(tmp_path / "absent.toml", CATALOG)
    assert absent.specs == {}
    # sites.toml names it, so a missing file is an editor's mistake worth a word
    assert absent.problems == (
        f"{tmp_path / 'absent.toml'}: GPU specs file not found;"
        " pages are built without spec figures",
    )
    broken = tmp_path / "gpu_specs.toml"
    broken.write_text('[[gpu]]\nslug = "h100-sxm"\nbf16_tflops = \n')
    found = read_specs(broken, CATALOG)
    assert found.specs == {}
    [problem] = found.problems
    assert str(broken) in problem and "invalid TOML" in problem
    assert "without spec figures" in problem


def test_price_per_pflops_hour_and_per_tbs_hour() -> None:
    # $2.00 an hour for 989.5 dense TFLOPS (0.9895 PFLOPS): $2.02 per PFLOPS-hour
    assert per_pflops_hour(Decimal("2.00"), Decimal("989.5")) == Decimal("2.02")
    assert per_pflops_hour(Decimal("0.75"), Decimal("121")) == Decimal("6.20")
    assert per_tbs_hour(Decimal("2.00"), Decimal("3350")) == Decimal("0.60")
    spec = GpuSpec.model_validate(_entry())
    on_demand = {"kinds": {"on_demand": {"min": Decimal("2.49")}, "spot": {"min": Decimal(1)}}}
    assert value_for_money(spec, on_demand) == {
        "pflops": Decimal("2.52"),
        "tbs": Decimal("0.74"),
    }
    # spot prices are another product: no on-demand price, no figure
    assert value_for_money(spec, {"kinds": {"spot": {"min": Decimal(1)}}}) == {}
    assert value_for_money(None, on_demand) == {}
    only_power = GpuSpec.model_validate(_entry(bf16_tflops=None, memory_bandwidth_gbs=None))
    assert value_for_money(only_power, on_demand) == {}


def test_the_spec_sheet_shows_only_the_figures_given() -> None:
    sheet = spec_sheet(
        GpuSpec.model_validate(_entry(evidence="https://github.com/x/y/blob/main/specs.md"))
    )
    assert [(r["label"], r["value"]) for r in sheet["rows"]] == [
        ("FP16/BF16 tensor (dense)", "989.5 TFLOPS"),
        ("Memory bandwidth", "3.35 TB/s"),
        ("Board power (TDP)", "700 W"),
    ]
    assert sheet["transcribed_from"] == "github.com/x/y" and sheet["checked_text"] == "5 Dec 2026"
    other = spec_sheet(GpuSpec.model_validate(_entry(slug="l4", fp8_tflops=242.5, tdp_w=None)))
    rows = paired_rows(sheet, other)
    assert [r["label"] for r in rows] == [
        "FP16/BF16 tensor (dense)",
        "FP8 tensor (dense)",
        "Memory bandwidth",
        "Board power (TDP)",
    ]
    assert rows[1] == {"label": "FP8 tensor (dense)", "a": "—", "b": "242.5 TFLOPS"}
    assert paired_rows(None, None) == []


# --- the built site ---------------------------------------------------------------------


def _build(project: Path) -> Any:
    return CliRunner().invoke(
        build_site,
        [
            "--config",
            str(project / "sites.toml"),
            "--site",
            "cloudgpus",
            "--demo",
            "--skip-deploy",
        ],
        env={"DATABASE_URL": f"sqlite:///{project / 'store.db'}"},
    )


@pytest.fixture
def cloudgpus(project_dir: Path) -> Iterator[Path]:
    result = _build(project_dir)
    assert result.exit_code == 0, result.output
    yield project_dir / "output/cloudgpus"


def _page(root: Path, url: str) -> html.HtmlElement:
    return html.fromstring((root / url.strip("/") / "index.html").read_bytes())


def _text(element: html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_gpu_pages_show_cited_figures_and_price_per_pflops_hour(cloudgpus: Path) -> None:
    specs = tomllib.loads((ROOT / "data/gpu_specs.toml").read_text())["gpu"]
    shown = [s for s in specs if (cloudgpus / "gpus" / s["slug"] / "index.html").exists()]
    assert shown, "the demo has offers for GPUs with spec sheets"
    with_bf16 = next(s for s in shown if "bf16_tflops" in s)
    page = _page(cloudgpus, f"/gpus/{with_bf16['slug']}/")
    [section] = page.xpath("//section[@id='spec-sheet']")
    text = _text(section)
    assert "FP16/BF16 tensor (dense)" in text
    assert f"{Decimal(str(with_bf16['bf16_tflops'])).normalize():,f} TFLOPS" in text
    [cite] = section.xpath(".//p[@class='note']/a")
    assert cite.get("href") == with_bf16["source"]
    assert "as transcribed from" in text and "checked" in text
    [price] = section.xpath(".//th[starts-with(., 'Price per PFLOPS-hour')]/../td")
    assert price.text_content().startswith("$")

    hub = _page(cloudgpus, "/gpus/")
    heads = [_text(th) for th in hub.xpath("//thead//th")]
    column = heads.index("$ / PFLOPS-hour")
    assert "pri" in hub.xpath("//thead//th")[column].get("class")
    cells = {_text(row.xpath("td")[0]): row.xpath("td")[column] for row in hub.xpath("//tbody/tr")}
    known = [c for c in cells.values() if c.get("data-sort")]
    assert known and all(c.get("class") == "num pri" for c in known)
    assert all(_text(c) == "—" for c in cells.values() if c.get("data-sort") is None)


def test_a_gpu_without_specs_shows_none(cloudgpus: Path) -> None:
    specced = {s["slug"] for s in tomllib.loads((ROOT / "data/gpu_specs.toml").read_text())["gpu"]}
    bare = sorted(p.name for p in (cloudgpus / "gpus").iterdir() if p.name not in specced)
    bare = [slug for slug in bare if (cloudgpus / "gpus" / slug / "index.html").exists()]
    assert bare, "the demo has offers for a GPU without a spec sheet"
    page = _page(cloudgpus, f"/gpus/{bare[0]}/")
    assert not page.xpath("//section[@id='spec-sheet']")
    assert "PFLOPS" not in _text(page)


def test_a_broken_specs_file_is_reported_and_the_site_builds_without_figures(
    cloudgpus: Path, project_dir: Path
) -> None:
    assert _page(cloudgpus, "/gpus/h100-sxm/").xpath("//section[@id='spec-sheet']")
    # built with figures first: the broken file below then takes them off again
    (project_dir / "data/gpu_specs.toml").write_text(
        '[[gpu]]\nslug = "h100-typo"\nbf16_tflops = 1\nsource = "https://x.test/"\n'
        'source_title = "x"\nchecked = 2026-12-05\n'
    )
    result = _build(project_dir)
    assert result.exit_code == 0, result.output
    assert "gpu 'h100-typo': not a GPU model of the catalog" in " ".join(result.output.split())
    root = project_dir / "output/cloudgpus"
    assert (root / "gpus/h100-sxm/index.html").exists()
    assert not _page(root, "/gpus/h100-sxm/").xpath("//section[@id='spec-sheet']")
    assert "PFLOPS" not in _text(_page(root, "/gpus/").xpath("//tbody")[0])
