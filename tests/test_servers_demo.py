"""The demo is a replay of the evidence-shaped server lists: `pull servers` from the CLI,
the demo archive in step with the fixtures, and the demo site naming real providers,
countries and cities."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from site_builder.cli import main
from site_builder.demo import generate
from site_builder.pull.gpu import snapshot
from site_builder.pull.measurements.reference import load_reference
from site_builder.pull.servers.archive import read_inventory
from site_builder.pull.servers.providers import all_adapters
from tests.server_lists import fixture_body

ROOT = Path(__file__).resolve().parent.parent
DEMO_LISTS = ROOT / "data/demo/server-lists"


def test_the_demo_archive_holds_the_fixtures_at_the_real_urls() -> None:
    """Run scripts/make_demo_server_lists.py after changing a fixture."""
    for adapter in all_adapters():
        responses = snapshot.read_provider(DEMO_LISTS, adapter.slug)
        assert [r.name for r in responses] == [name for name, _url in adapter.requests]
        for response, (name, url) in zip(responses, adapter.requests, strict=True):
            assert response.body == fixture_body(adapter.slug, name), adapter.slug
            assert response.url.startswith(url), response.url


def test_demo_batches_measure_the_listed_servers_deterministically(tmp_path: Path) -> None:
    reference = load_reference(ROOT / "data/vpn/reference.toml")
    keys = json.loads((ROOT / "data/demo/probe-keys.json").read_text())
    inventory = read_inventory(DEMO_LISTS, reference)
    first = generate(tmp_path / "a", reference, keys, inventory, "small")
    second = generate(tmp_path / "b", reference, keys, inventory, "small")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    hostnames = {s.hostname for s in inventory}
    reported = set()
    for path in first:
        for line in path.read_text().splitlines()[1:]:
            record = json.loads(line)
            if "server" in record:
                reported.add(record["server"]["hostname"])
    assert reported <= hostnames
    assert {"se-got-wg-001", "pl101.nordvpn.com", "alchiba"} <= reported
    assert "ams-001.vpn.privado.io" not in reported  # its list names no protocol
    assert "de-ber-wg-002" not in reported  # flagged inactive in Mullvad's list


def test_pull_servers_from_the_cli_replays_and_quarantines_loudly(
    project_dir: Path, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"}
    config = ["--config", str(project_dir / "sites.toml")]
    result = CliRunner().invoke(main, [*config, "db", "upgrade"], env=env)
    result = CliRunner().invoke(main, [*config, "pull", "servers", "--demo"], env=env)
    assert result.exit_code == 0, result.output
    assert "mullvad" in result.output and "quarantined" not in result.output

    broken = tmp_path / "broken"
    for adapter in all_adapters():
        responses = snapshot.read_provider(DEMO_LISTS, adapter.slug)
        if adapter.slug == "ivpn":
            data = json.loads(responses[0].body)
            data["servers"][0]["country"] = "Atlantis"
            responses = [
                responses[0].__class__(**{**responses[0].__dict__, "body": json.dumps(data)})
            ]
        snapshot.write_provider(broken, adapter.slug, responses)
    snapshot.write_manifest(broken, "20261021T020000Z", [a.slug for a in all_adapters()])
    result = CliRunner().invoke(
        main, [*config, "pull", "servers", "--from-snapshot", str(broken)], env=env
    )
    assert result.exit_code == 1
    assert "ivpn: unknown country 'Atlantis'" in result.output


def test_the_demo_site_shows_real_providers_countries_and_cities(built: Path) -> None:
    site = built / "output" / "bestvpnserver"
    providers = [p.name for p in (site / "providers").iterdir() if p.is_dir()]
    assert len(providers) >= 8
    assert {
        "mullvad",
        "nordvpn",
        "protonvpn",
        "surfshark",
        "pia",
        "windscribe",
        "ivpn",
        "airvpn",
    } <= set(providers)
    hub = (site / "providers/index.html").read_text()
    assert "PrivadoVPN" in hub and "Not yet measured" in hub
    mullvad = (site / "providers/mullvad/index.html").read_text()
    assert "Multi-hop" in mullvad and "RAM-only" in mullvad and "Owned hardware" in mullvad
    assert re.search(r"Sweden <span[^>]*>7", mullvad)
    assert "de-ber-wg-002" in mullvad and "not yet measured" in mullvad
    assert (site / "countries/sweden/gothenburg/index.html").is_file() or (
        "Gothenburg" in (site / "countries/sweden/index.html").read_text()
    )
    frankfurt = (site / "countries/germany/frankfurt/index.html").read_text()
    assert "Providers listing servers here" in frankfurt and "Surfshark" in frankfurt
    assert ".example" not in (site / "index.html").read_text()  # no invented hostnames
