"""The checked-in project configuration (`sites.toml`) and the runtime environment.

The configuration describes *what* to build: the sites, their URLs, output folders and
page kinds, and where the project's data lives. It holds no secrets: those come only
from the environment, read once into :class:`Environment` and passed down explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from site_builder.datafiles import first_error, read_toml
from site_builder.errors import ConfigError

DEFAULT_CONFIG_NAME = "sites.toml"
SITE_NAMES = ("cloudgpus", "bestvpnserver")
SiteName = Literal["cloudgpus", "bestvpnserver"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityConfig(_Strict):
    """How much data a page needs: thinner data means no page (never a thin page)."""

    min_runs_per_server: Annotated[int, Field(ge=1)] = 10  # server pages, rankings
    min_servers: Annotated[int, Field(ge=1)] = 3  # provider x country, city, platform x country
    min_offers_per_region: Annotated[int, Field(ge=1)] = 2  # GPU region pages
    stale_after_days: Annotated[int, Field(ge=1)] = 3  # older data (vs the newest) is "stale"
    # bestvpnserver's figures cover the last `window_days` days with data: rollups are kept
    # forever, and a server measured only before the window has no page.
    window_days: Annotated[int, Field(ge=1)] = 30


class SiteConfig(_Strict):
    """One site built by the engine."""

    title: Annotated[str, Field(min_length=1)]
    base_url: str
    output_dir: Path
    netlify_site_id_env: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    page_kinds: Annotated[tuple[str, ...], Field(min_length=1)]
    description: str = ""
    functions_dir: Path | None = None  # Netlify Functions deployed with the site
    # minify-html on every page: about 5 % fewer bytes (3 % after the CDN's gzip) for about
    # 40 % more render time, so off unless asked for (docs/benchmarks.md)
    minify_html: bool = False
    # site search: a Pagefind index built after the pages, and a /search/ page (render/search.py)
    search: bool = False
    quality: QualityConfig = QualityConfig()
    # Editor-owned data files the site's pages read at build time, by name (relative to the
    # config file), e.g. bestvpnserver's `provider_facts`. Their bytes are inputs of the
    # build; a broken one is reported and its pages built without it (docs/pages.md).
    editor_data: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Path] = {}

    @field_validator("base_url")
    @classmethod
    def _absolute_https_without_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL, e.g. https://example.com")
        if value != value.lower():
            raise ValueError("must be lowercase (canonical URLs are lowercase)")
        if value.endswith("/"):
            raise ValueError("must not end with '/'")
        return value

    @field_validator("page_kinds")
    @classmethod
    def _no_duplicates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a page kind twice")
        return value


class PathsConfig(_Strict):
    """Where the project keeps its inputs; relative paths are relative to the config file."""

    templates_dir: Path = Path("templates")
    content_dir: Path = Path("content")
    database_file: Path = Path("data/site.db")
    archive_dir: Path = Path("data/archive")
    gpu_catalog: Path = Path("data/gpu_catalog.toml")
    nebius_prices: Path = Path("data/gpu_prices/nebius.toml")
    vpn_reference: Path = Path("data/vpn/reference.toml")
    vpn_server_flags: Path = Path("data/vpn/server_flags.toml")
    demo_gpu_snapshot: Path = Path("data/demo/gpu-snapshot")
    demo_server_lists: Path = Path("data/demo/server-lists")
    demo_measurements: Path = Path("data/demo/measurements")
    demo_probe_keys: Path = Path("data/demo/probe-keys.json")
    rejects_dir: Path = Path("data/rejects")
    freshness_rules: Path = Path("data/freshness.toml")  # editor-owned; see docs/operations.md


class ProjectConfig(_Strict):
    paths: PathsConfig = PathsConfig()
    sites: dict[SiteName, SiteConfig]

    @field_validator("sites")
    @classmethod
    def _at_least_one(cls, value: dict[str, SiteConfig]) -> dict[str, SiteConfig]:
        if not value:
            raise ValueError("defines no site")
        return value


@dataclass(frozen=True)
class Project:
    """A loaded configuration with every path made absolute."""

    config_file: Path
    root: Path
    config: ProjectConfig

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.root / relative

    @property
    def templates_dir(self) -> Path:
        return self.path(self.config.paths.templates_dir)

    @property
    def content_dir(self) -> Path:
        return self.path(self.config.paths.content_dir)

    def site(self, name: str) -> SiteConfig:
        return self.config.sites[name]  # type: ignore[index]

    def output_dir(self, name: str) -> Path:
        return self.path(self.site(name).output_dir)

    def state_file(self, name: str) -> Path:
        """The build state of a site: input keys of its pages, kept out of the output."""
        return self.path(Path(".build-state") / f"{name}.json")

    def select_sites(self, names: tuple[str, ...] | None) -> tuple[str, ...]:
        """The sites to work on: those named, or all configured ones, in config order."""
        if not names:
            return tuple(self.config.sites)
        unknown = [n for n in names if n not in self.config.sites]
        if unknown:
            known = ", ".join(self.config.sites)
            raise ConfigError(f"unknown site {unknown[0]!r}; configured sites: {known}")
        return tuple(n for n in self.config.sites if n in names)


def load_project(config_file: Path, page_kinds: Mapping[str, frozenset[str]]) -> Project:
    """Read and validate the configuration.

    `page_kinds` maps each site name to the page kinds its code provides, so a typo in
    `page_kinds` fails here, naming the file and key, instead of silently building less.
    """
    config_file = config_file.resolve()
    raw = read_toml(config_file, "configuration file", hint="pass --config PATH")
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{config_file}: {first_error(exc)}{more}") from None
    for site_name, site in config.sites.items():
        available = page_kinds.get(site_name, frozenset())
        for kind in site.page_kinds:
            if kind not in available:
                raise ConfigError(
                    f"{config_file}: sites.{site_name}.page_kinds: unknown page kind {kind!r};"
                    f" available: {', '.join(sorted(available))}"
                )
    return Project(config_file=config_file, root=config_file.parent, config=config)


@dataclass(frozen=True)
class Environment:
    """Secrets and deployment settings, read from the process environment only."""

    database_url: str | None = None
    netlify_auth_token: str | None = None
    netlify_api_url: str = "https://api.netlify.com/api/v1"
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_os(cls) -> Environment:
        return cls.from_mapping(os.environ)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Environment:
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            netlify_auth_token=env.get("NETLIFY_AUTH_TOKEN") or None,
            netlify_api_url=env.get("NETLIFY_API_URL") or "https://api.netlify.com/api/v1",
            values=dict(env),
        )

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None
