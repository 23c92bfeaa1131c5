"""GPU spec-sheet figures (editor-owned `data/gpu_specs.toml`) and price per unit of
performance.

The file holds, per GPU model of the catalog, the figures its vendor publishes: dense
FP16/BF16 tensor TFLOPS, dense FP8 TFLOPS, FP32 TFLOPS, memory bandwidth and board power,
each entry citing its source. `parse_specs` is pure (TOML data -> typed records, or a
`ConfigError` naming the file and the entry); `read_specs` is the I/O edge the build calls,
and it never raises: a missing file means no figures, a broken one is a problem the build
reports while the pages are built without spec figures (a typo in an editor's file must not
take the price pages down with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from site_builder.config import Project, SiteConfig
from site_builder.datafiles import first_error, read_toml
from site_builder.errors import ConfigError
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.render.environment import day_text

Positive = Annotated[Decimal, Field(gt=0)]


class GpuSpec(BaseModel):
    """One model's spec-sheet figures. Every figure is optional: a figure the source does
    not print (or that we could not confirm) is left out, and the page shows nothing for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    bf16_tflops: Positive | None = None  # dense FP16/BF16 tensor (half NVIDIA's "*" figure)
    fp8_tflops: Positive | None = None  # dense FP8 tensor, where the GPU has FP8
    fp32_tflops: Positive | None = None  # non-tensor FP32
    memory_bandwidth_gbs: Positive | None = None  # GB/s (1 TB/s = 1,000 GB/s)
    tdp_w: Annotated[int, Field(gt=0)] | None = None  # maximum board power / TDP
    source: str  # the vendor's datasheet or product page
    source_title: Annotated[str, Field(min_length=1)]
    checked: date  # when an editor last compared the figures with the source
    evidence: str | None = None  # a secondary transcription actually read, if any
    note: str | None = None

    @field_validator(
        "bf16_tflops", "fp8_tflops", "fp32_tflops", "memory_bandwidth_gbs", mode="before"
    )
    @classmethod
    def _exact(cls, value: Any) -> Any:
        # TOML floats become Decimals through their shortest text ("989.5", never
        # 989.5000000000000142...): figures print as the editor typed them
        if isinstance(value, bool):
            raise ValueError("must be a number")
        return Decimal(str(value)) if isinstance(value, float | int) else value

    @field_validator("source", "evidence")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @property
    def transcribed_from(self) -> str:
        """The host the figures were read from (the evidence's, else the source's): the
        page says "as transcribed from" it, so a reader knows which copy was checked."""
        parts = (self.evidence or self.source).removeprefix("https://").split("/")
        # a repository is the evidence, not GitHub as a whole: github.com/owner/name
        return "/".join(parts[:3]) if parts[0] == "github.com" else parts[0]

    @property
    def has_figures(self) -> bool:
        return any(
            v is not None
            for v in (
                self.bf16_tflops,
                self.fp8_tflops,
                self.fp32_tflops,
                self.memory_bandwidth_gbs,
                self.tdp_w,
            )
        )


@dataclass(frozen=True)
class SpecsInput:
    """What the build hands the cloudgpus `load`: the figures by slug, and the problems
    found reading the file (each names the file and the entry)."""

    specs: dict[str, GpuSpec] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def parse_specs(raw: dict[str, Any], where: str, catalog: frozenset[str]) -> dict[str, GpuSpec]:
    """The `[[gpu]]` entries of a parsed specs file, by slug. A malformed entry, a slug not
    in the GPU catalog or a slug given twice is a ConfigError naming `where` and the entry."""
    unknown_keys = set(raw) - {"gpu"}
    if unknown_keys:
        raise ConfigError(f"{where}: unknown table {sorted(unknown_keys)[0]!r} (expected [[gpu]])")
    entries = raw.get("gpu", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: 'gpu' must be an array of tables ([[gpu]])")
    specs: dict[str, GpuSpec] = {}
    for number, entry in enumerate(entries, start=1):
        name = (
            f"gpu {entry.get('slug')!r}"
            if isinstance(entry, dict) and isinstance(entry.get("slug"), str)
            else f"gpu entry {number}"
        )
        try:
            spec = GpuSpec.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"{where}: {name}: {first_error(exc)}") from None
        if spec.slug not in catalog:
            raise ConfigError(
                f"{where}: {name}: not a GPU model of the catalog (data/gpu_catalog.toml)"
            )
        if spec.slug in specs:
            raise ConfigError(f"{where}: {name}: appears twice")
        if not spec.has_figures:
            raise ConfigError(f"{where}: {name}: gives no figure (leave the model out instead)")
        specs[spec.slug] = spec
    return specs


def read_specs(path: Path, catalog: frozenset[str]) -> SpecsInput:
    """The specs file at `path`, never raising: a missing or broken file is reported as a
    problem and contributes no figure at all (half a file's figures could mislead as much
    as a wrong one). A site that wants no figures names no file in `sites.toml`."""
    if not path.exists():
        return SpecsInput(
            problems=(f"{path}: GPU specs file not found; pages are built without spec figures",)
        )
    try:
        return SpecsInput(specs=parse_specs(read_toml(path, "GPU specs file"), str(path), catalog))
    except ConfigError as exc:
        return SpecsInput(problems=(f"{exc}; pages are built without spec figures",))


def editor_data(project: Project, site: SiteConfig) -> SpecsInput:
    """The build's edge: the specs file named in `sites.toml`
    (`[sites.cloudgpus.editor_data] gpu_specs`), checked against the GPU catalog."""
    path = site.editor_data.get("gpu_specs")
    if path is None:
        return SpecsInput()
    try:
        catalog_path = project.path(project.config.paths.gpu_catalog)
        catalog = frozenset(m.slug for m in load_catalog(catalog_path).models)
    except ConfigError as exc:
        return SpecsInput(problems=(f"{exc}; pages are built without spec figures",))
    return read_specs(path, catalog)


CENT = Decimal("0.01")


def per_pflops_hour(price_per_gpu_hour: Decimal, tflops: Decimal) -> Decimal:
    """US dollars per PFLOPS-hour: an hour of one GPU at `price_per_gpu_hour` buys
    `tflops`/1,000 PFLOPS for that hour. Rounded to the cent (half up)."""
    return (price_per_gpu_hour * 1000 / tflops).quantize(CENT, rounding=ROUND_HALF_UP)


def per_tbs_hour(price_per_gpu_hour: Decimal, bandwidth_gbs: Decimal) -> Decimal:
    """US dollars per TB/s of memory bandwidth for an hour (memory-bound work such as LLM
    decoding scales with bandwidth, not FLOPS)."""
    return (price_per_gpu_hour * 1000 / bandwidth_gbs).quantize(CENT, rounding=ROUND_HALF_UP)


def value_for_money(spec: GpuSpec | None, figures: dict[str, Any]) -> dict[str, Decimal]:
    """Price per unit of performance from the lowest on-demand price per GPU-hour (a
    `common.figures` result): "pflops" and "tbs", each only where both inputs are known.
    Spot and reserved prices never enter: they are not the same product."""
    on_demand = figures["kinds"].get("on_demand")
    if spec is None or on_demand is None:
        return {}
    low: Decimal = on_demand["min"]
    found: dict[str, Decimal] = {}
    if spec.bf16_tflops is not None:
        found["pflops"] = per_pflops_hour(low, spec.bf16_tflops)
    if spec.memory_bandwidth_gbs is not None:
        found["tbs"] = per_tbs_hour(low, spec.memory_bandwidth_gbs)
    return found


def _number(value: Decimal) -> str:
    """989.5, 2,250, 362.05: as the source prints it, thousands separated."""
    return f"{value.normalize():,f}"


# The spec sheet's rows, in the order pages show them.
LABELS = (
    "FP16/BF16 tensor (dense)",
    "FP8 tensor (dense)",
    "FP32",
    "Memory bandwidth",
    "Board power (TDP)",
)


def spec_sheet(spec: GpuSpec) -> dict[str, Any]:
    """A GPU page's "Spec sheet": the figures as label/text rows (only those the file
    gives, in a fixed order) and the citation."""
    rows = []
    if spec.bf16_tflops is not None:
        rows.append((LABELS[0], f"{_number(spec.bf16_tflops)} TFLOPS"))
    if spec.fp8_tflops is not None:
        rows.append((LABELS[1], f"{_number(spec.fp8_tflops)} TFLOPS"))
    if spec.fp32_tflops is not None:
        rows.append((LABELS[2], f"{_number(spec.fp32_tflops)} TFLOPS"))
    if spec.memory_bandwidth_gbs is not None:
        gbs = spec.memory_bandwidth_gbs
        rows.append(
            (
                LABELS[3],
                f"{_number(gbs / 1000)} TB/s" if gbs >= 1000 else f"{_number(gbs)} GB/s",
            )
        )
    if spec.tdp_w is not None:
        rows.append((LABELS[4], f"{spec.tdp_w:,} W"))
    return {
        "rows": [{"label": label, "value": value} for label, value in rows],
        "source": spec.source,
        "source_title": spec.source_title,
        "transcribed_from": spec.transcribed_from,
        "checked": spec.checked.isoformat(),
        "checked_text": day_text(spec.checked),
        "note": spec.note,
    }


def paired_rows(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[dict[str, str]]:
    """Two spec sheets (`spec_sheet`, or None) as rows of a side-by-side table: every
    figure either sheet gives, in the sheets' order; "—" where one side lacks it."""
    found: dict[str, dict[str, str]] = {}
    for side, sheet in (("a", a), ("b", b)):
        for row in (sheet or {}).get("rows", ()):
            found.setdefault(row["label"], {"label": row["label"], "a": "—", "b": "—"})
            found[row["label"]][side] = row["value"]
    order = {label: i for i, label in enumerate(LABELS)}
    return sorted(found.values(), key=lambda r: order[r["label"]])
