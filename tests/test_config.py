"""The configuration: a bad file fails naming the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.config import (
    Environment,
    PathsConfig,
    ProjectConfig,
    SiteConfig,
    load_project,
)
from site_builder.errors import ConfigError
from site_builder.sites import available_page_kinds

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "sites.toml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text)
    return path


def load(path: Path):
    return load_project(path, available_page_kinds())


def test_checked_in_configuration_is_valid() -> None:
    project = load(ROOT / "sites.toml")
    assert project.select_sites(None) == ("cloudgpus", "bestvpnserver")
    assert project.output_dir("cloudgpus") == ROOT / "output" / "cloudgpus"
    assert project.site("bestvpnserver").netlify_site_id_env == "NETLIFY_SITE_ID_BESTVPNSERVER"


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sites.toml: configuration file not found"):
        load(tmp_path / "sites.toml")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[sites.cloudgpus\n")
    with pytest.raises(ConfigError, match=rf"{path}: invalid TOML"):
        load(path)


def test_bad_base_url_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('"https://cloudgpus.io"', '"cloudgpus.io"'))
    with pytest.raises(ConfigError) as error:
        load(path)
    assert str(path) in str(error.value)
    assert "sites.cloudgpus.base_url" in str(error.value)
    assert "absolute http(s) URL" in str(error.value)


def test_uppercase_or_trailing_slash_base_url_is_refused(tmp_path: Path) -> None:
    for bad in ('"https://CloudGPUs.io"', '"https://cloudgpus.io/"'):
        with pytest.raises(ConfigError, match=r"sites\.cloudgpus\.base_url"):
            load(write(tmp_path, GOOD.replace('"https://cloudgpus.io"', bad)))


def test_unknown_page_kind_lists_the_available_ones(tmp_path: Path) -> None:
    config = GOOD.replace('page_kinds = ["home", "gpu"', 'page_kinds = ["home", "gpus"')
    assert config != GOOD
    path = write(tmp_path, config)
    with pytest.raises(
        ConfigError,
        match=r"sites.cloudgpus.page_kinds: unknown page kind 'gpus'; available: about,"
        r" calculator, changes, compare, country, gpu, gpu_compare, home, provider, region",
    ):
        load(path)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace('title = "CloudGPUs"', 'title = "CloudGPUs"\ntitel = "typo"')
    )
    with pytest.raises(ConfigError, match=r"sites.cloudgpus.titel: Extra inputs are not permitted"):
        load(path)


def test_unknown_site_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("[sites.bestvpnserver]", "[sites.bestvpn]"))
    with pytest.raises(ConfigError, match=r"sites.bestvpn"):
        load(path)


def test_site_selection(tmp_path: Path) -> None:
    project = load(ROOT / "sites.toml")
    assert project.select_sites(("bestvpnserver",)) == ("bestvpnserver",)
    with pytest.raises(
        ConfigError, match="unknown site 'nope'; configured sites: cloudgpus, bestvpnserver"
    ):
        project.select_sites(("nope",))


def test_secrets_come_from_the_environment_only() -> None:
    env = Environment.from_mapping({"NETLIFY_AUTH_TOKEN": "t0k", "DATABASE_URL": ""})
    assert env.netlify_auth_token == "t0k"
    assert env.database_url is None  # empty means unset: SQLite default
    fields = {*SiteConfig.model_fields, *PathsConfig.model_fields, *ProjectConfig.model_fields}
    assert not [f for f in fields if any(w in f for w in ("token", "secret", "password"))]
