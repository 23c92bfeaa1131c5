"""The command line: documented commands, one-line errors, deploy without a token, serve."""

from __future__ import annotations

import threading
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from site_builder.cli import build_site, main
from site_builder.pull.measurements.batch import sign
from site_builder.serve import make_server

ROOT = Path(__file__).resolve().parent.parent


def all_commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [("build-site", build_site)]

    def walk(prefix: str, group: click.Group) -> None:
        for name, command in sorted(group.commands.items()):
            path = f"{prefix} {name}"
            found.append((path, command))
            if isinstance(command, click.Group):
                walk(path, command)

    found.append(("site-builder", main))
    walk("site-builder", main)
    return found


@pytest.mark.parametrize(
    ("path", "command"), all_commands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_explains_itself(path: str, command: click.Command) -> None:
    assert command.help and len(command.help.split()) >= 5, f"{path} has no useful --help"


def test_the_required_commands_exist() -> None:
    names = {path for path, _ in all_commands()}
    assert {
        "site-builder pull",
        "site-builder build",
        "site-builder check",
        "site-builder deploy",
        "site-builder serve",
        "site-builder db upgrade",
        "site-builder pull prices",
        "site-builder pull measurements",
    } <= names


def test_docs_cover_every_command() -> None:
    docs = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in (ROOT / "docs").glob("*.md")
    )
    missing = [path for path, _ in all_commands() if f"`{path}" not in docs]
    assert missing == [], f"undocumented commands: {missing}"


def test_a_bad_configuration_fails_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text("[sites.cloudgpus]\ntitle = 1\n")
    result = CliRunner().invoke(main, ["--config", str(config), "build"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith(f"error: {config}: sites.cloudgpus")
    assert "Traceback" not in result.output


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "--debug", "build"])
    assert result.exit_code == 1
    assert result.exception is not None and "configuration file not found" in str(result.exception)


def test_deploy_without_a_token_deploys_nothing_and_succeeds(project_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(project_dir / "sites.toml"), "deploy"],
        env={"NETLIFY_AUTH_TOKEN": ""},
    )
    assert result.exit_code == 0
    assert result.output.count("NETLIFY_AUTH_TOKEN is not set: nothing deployed") == 2


def test_pull_measurements_takes_signed_batches_with_keys_from_the_environment(
    project_dir: Path,
) -> None:
    records = (ROOT / "tests/fixtures/measurements/records.ndjson").read_bytes()
    batches = project_dir / "batches"
    batches.mkdir()
    for name in ("a.ndjson", "b.ndjson"):  # the same content twice: taken once
        (batches / name).write_bytes(records)
        (batches / f"{name}.sig").write_bytes(sign(records, "fra", b"fra-key"))
    command = [
        "--config",
        str(project_dir / "sites.toml"),
        "pull",
        "measurements",
        "--source",
        str(batches),
        "--jobs",
        "2",
        "--max-age-days",  # the fixture's records are of 2026-11-20, however old they get
        "36500",
    ]
    env = {"SITE_BUILDER_PROBE_KEYS": '{"fra": "fra-key"}', "DATABASE_URL": ""}
    upgrade = ["--config", str(project_dir / "sites.toml"), "db", "upgrade"]
    assert CliRunner().invoke(main, upgrade, env=env).exit_code == 0
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "1 batches ingested (5 records), 1 already taken, 0 rejected" in said
    again = " ".join(CliRunner().invoke(main, command, env=env).output.split())
    assert "0 batches ingested (0 records), 2 already taken, 0 rejected" in again


def test_serve_previews_the_output_like_the_cdn(tmp_path: Path) -> None:
    (tmp_path / "gpus/h100-sxm").mkdir(parents=True)
    (tmp_path / "gpus/h100-sxm/index.html").write_text("<h1>H100</h1>")
    (tmp_path / "404.html").write_text("<h1>Page not found</h1>")
    server = make_server(tmp_path, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = httpx.get(base + "/gpus/h100-sxm/")
        missing = httpx.get(base + "/gpus/nope/")
    finally:
        server.shutdown()
        server.server_close()
    assert page.status_code == 200 and "H100" in page.text
    assert missing.status_code == 404 and "Page not found" in missing.text
