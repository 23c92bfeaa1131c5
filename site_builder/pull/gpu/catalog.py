"""The checked-in GPU catalog: canonical models and each provider's names for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.datafiles import first_error, read_toml
from site_builder.errors import ConfigError

_SPACES = re.compile(r"\s+")


class GpuModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    vendor: str
    architecture: str
    vram_gb: int = Field(gt=0)
    memory_type: str
    form_factor: str
    interconnect: str
    aliases: dict[str, list[str]]


def _alias_key(raw_name: str) -> str:
    return _SPACES.sub(" ", raw_name.strip()).casefold()


@dataclass(frozen=True)
class GpuCatalog:
    models: tuple[GpuModelSpec, ...]
    _by_provider: dict[tuple[str, str], str]

    def resolve(self, provider: str, raw_name: str) -> str | None:
        """The catalog slug for a provider's GPU name, or None when the name is unknown."""
        key = _alias_key(raw_name)
        return self._by_provider.get((provider, key)) or self._by_provider.get(("any", key))


def load_catalog(path: Path) -> GpuCatalog:
    """Load and check the catalog: unique slugs, and no alias that names two models."""
    raw = read_toml(path, "GPU catalog")
    try:
        models = tuple(GpuModelSpec.model_validate(m) for m in raw.get("model", []))
    except ValidationError as exc:
        raise ConfigError(f"{path}: model {first_error(exc)}") from None
    by_provider: dict[tuple[str, str], str] = {}
    seen: set[str] = set()
    for model in models:
        if model.slug in seen:
            raise ConfigError(f"{path}: model slug {model.slug!r} appears twice")
        seen.add(model.slug)
        for provider, names in model.aliases.items():
            for name in names:
                key = (provider, _alias_key(name))
                if by_provider.get(key, model.slug) != model.slug:
                    raise ConfigError(
                        f"{path}: alias {name!r} ({provider}) names both"
                        f" {by_provider[key]!r} and {model.slug!r}"
                    )
                by_provider[key] = model.slug
    return GpuCatalog(models=models, _by_provider=by_provider)
