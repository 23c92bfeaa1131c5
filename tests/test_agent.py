"""The server agent: real /proc sampling with short intervals, services, heartbeats through
spool → S3 exchange (moto on loopback) → `pull measurements --source s3://…` → store."""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from site_builder.agent.run import Agent, AgentConfig, agent_key, load_config
from site_builder.agent.sample import cpu_pct, net_pct, parse_meminfo, parse_stat, read
from site_builder.agent.services import Service, check, handshakes_recent, port_open
from site_builder.db.models import VpnHeartbeat, VpnIngestedBatch, VpnServer
from site_builder.errors import ConfigError
from site_builder.probe.spool import pending
from site_builder.pull.measurements import probe_keys_from_env, pull_measurements
from site_builder.pull.measurements.batch import BatchRejected, parse, sign, verify
from tests.s3_server import make_bucket, moto_server, settings_for

ROOT = Path(__file__).resolve().parent.parent
PROC = Path("/proc")
SECRET = b"agent-test-secret"
SERVER = {
    "provider": "mullvad",
    "provider_name": "Mullvad",
    "hostname": "de-fra-wg-001.mullvad.example",
    "ip": "198.51.100.10",
    "country": "DE",
    "city": "Frankfurt",
}
AGENT_ENTRY = """
[[agent]]
id = "mullvad-de-fra-wg-001"
provider = "mullvad"
hostname = "de-fra-wg-001.mullvad.example"
"""


def config(tmp_path: Path, **changes: object) -> AgentConfig:
    settings: dict = {
        "id": "mullvad-de-fra-wg-001",
        "server": SERVER,
        "spool": tmp_path / "spool",
        "sample_interval_s": 0.1,
        "heartbeat_interval_s": 1.0,
        "publish_interval_s": 2.0,
        "link_mbit_s": 100.0,
        **changes,
    }
    return AgentConfig(**settings)


def reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.toml"
    path.write_text((ROOT / "data/vpn/reference.toml").read_text() + AGENT_ENTRY)
    return path


def agents(tmp_path: Path) -> dict[str, tuple[str, str]]:
    return {"mullvad-de-fra-wg-001": ("mullvad", "de-fra-wg-001.mullvad.example")}


def test_cpu_memory_and_network_are_read_from_the_real_proc() -> None:
    first = read(PROC, 0.0)
    spin = datetime.now(UTC)
    while (datetime.now(UTC) - spin).total_seconds() < 0.3:  # keep one core busy
        pass
    second = read(PROC, 0.3)
    assert 0 < cpu_pct(first.cpu, second.cpu) <= 100
    assert 0 < second.ram_pct < 100
    assert "lo" in second.net_bytes
    assert 0 <= net_pct(first, second, link_mbit_s=1000, interfaces=("lo",)) <= 100


def test_the_documented_layouts_give_the_documented_figures() -> None:
    before = parse_stat("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n")
    after = parse_stat("cpu  200 0 200 1300 300 0 0 0 0 0\n")
    assert cpu_pct(before, after) == 20.0  # 200 busy ticks of 1,000
    meminfo = "MemTotal:       8000000 kB\nMemFree: 1000000 kB\nMemAvailable:   2000000 kB\n"
    assert parse_meminfo(meminfo) == 75.0
    old_kernel = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n"
    assert parse_meminfo(old_kernel) == 50.0


def test_a_full_link_in_one_direction_is_100_percent(tmp_path: Path) -> None:
    from site_builder.agent.sample import CpuTicks, Reading

    cpu = CpuTicks(0, 0)
    a = Reading(0.0, cpu, 0.0, {"eth0": (0, 0), "lo": (0, 0)})
    b = Reading(2.0, cpu, 0.0, {"eth0": (25_000_000, 1_000), "lo": (10**12, 10**12)})
    assert net_pct(a, b, link_mbit_s=100) == 100.0  # 12.5 MB/s = 100 Mbit/s; lo left out
    c = Reading(2.0, cpu, 0.0, {"eth0": (2_500_000, 0)})
    assert net_pct(a, c, link_mbit_s=100) == 10.0


def test_ports_and_processes_are_found_in_the_real_proc() -> None:
    own = (PROC / "self" / "comm").read_text().strip()
    assert check(Service("me", "openvpn", process=own))
    assert not check(Service("ov", "openvpn", process="no-such-daemon-x"))
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        tcp_port, udp_port = tcp.getsockname()[1], udp.getsockname()[1]
        assert port_open(PROC, tcp_port, "tcp")
        assert check(Service("ov", "openvpn", port=udp_port, transport="udp"))
    assert not port_open(PROC, tcp_port, "tcp")


def test_wireguard_and_systemd_checks_read_the_commands_answers() -> None:
    now = 1_800_000_000
    output = f"pubkeyA=\t{now - 100}\npubkeyB=\t0\n"
    assert handshakes_recent(output, now, 180)
    assert not handshakes_recent(output, now + 200, 180)
    wg = Service("wg", "wireguard", interface="wg0", max_handshake_age_s=180)
    assert check(wg, runner=lambda argv: (0, output), now_s=lambda: now)
    assert not check(wg, runner=lambda argv: (1, ""), now_s=lambda: now)  # no interface
    seen: list[list[str]] = []
    unit = Service("web", "systemd", unit="nginx.service")
    assert check(unit, runner=lambda argv: (seen.append(list(argv)), (0, ""))[1])
    assert seen == [["systemctl", "is-active", "--quiet", "nginx.service"]]
    # the real binaries, where this machine has them: a missing interface or unit is down
    assert not check(Service("wg", "wireguard", interface="sb-no-such-wg"))
    assert not check(Service("x", "systemd", unit="sb-no-such-unit.service"))


def test_heartbeats_from_real_samples_become_a_signed_valid_batch(tmp_path: Path) -> None:
    own = (PROC / "self" / "comm").read_text().strip()
    agent = Agent(config(tmp_path, services=(Service("me", "openvpn", process=own),)), SECRET)
    agent.run(max_heartbeats=2)
    [batch] = pending(tmp_path / "spool")
    data = batch.read_bytes()
    signature = batch.with_name(batch.name + ".sig").read_bytes()
    assert json.loads(signature)["agent"] == "mullvad-de-fra-wg-001"
    signer = verify(batch.name, data, signature, {"agent:mullvad-de-fra-wg-001": SECRET})
    parsed = parse(
        batch.name,
        data,
        signed_probe=signer,
        known_probes=set(),
        now=datetime.now(UTC),
        known_agents=agents(tmp_path),
    )
    assert len(parsed.heartbeats) == 2
    for beat in parsed.heartbeats:
        assert 0 <= beat.cpu_pct <= 100 and 0 < beat.ram_pct < 100
        assert beat.services == {"me": True}
    assert not (tmp_path / "spool" / "heartbeats.ndjson").exists()


def test_journaled_heartbeats_survive_a_restart(tmp_path: Path) -> None:
    first = Agent(config(tmp_path), SECRET)
    (tmp_path / "spool").mkdir()
    first.beat([(10.0, 50.0, 1.0), (20.0, 60.0, 3.0)])  # then the process dies: no flush
    with (tmp_path / "spool" / "heartbeats.ndjson").open("ab") as out:
        out.write(b'{"kind":"heartb')  # torn by the crash
    second = Agent(config(tmp_path), SECRET)
    second.run(max_heartbeats=1)
    before_restart, after_restart = pending(tmp_path / "spool")  # spooled first on start
    lines = [json.loads(line) for line in before_restart.read_bytes().splitlines()]
    assert lines[0]["version"] == 2 and lines[0]["agent"] == "mullvad-de-fra-wg-001"
    assert len(lines) == 2  # the header and the journaled heartbeat; the torn line is gone
    assert lines[1]["cpu_pct"] == 15.0 and lines[1]["ram_pct"] == 55.0
    assert len(after_restart.read_bytes().splitlines()) == 2


def test_an_agent_vouches_only_for_its_own_servers_heartbeats() -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = f'{{"kind":"batch","version":2,"agent":"mullvad-de-fra-wg-001","created_at":"{now}"}}'
    other = {**SERVER, "hostname": "nl-ams-wg-002.mullvad.example"}
    beat = {"kind": "heartbeat", "at": now, "cpu_pct": 1, "ram_pct": 2, "net_pct": 3}
    lines = [
        header,
        json.dumps({**beat, "server": other, "services": {}}),
        json.dumps({**beat, "server": SERVER, "services": {}, "at": now}),
    ]
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(BatchRejected, match="in the batch of agent") as error:
        parse(
            "b",
            data,
            signed_probe="agent:mullvad-de-fra-wg-001",
            known_probes={"fra"},
            now=datetime.now(UTC),
            known_agents={"mullvad-de-fra-wg-001": ("mullvad", SERVER["hostname"])},
        )
    assert [line for line, _ in error.value.problems] == [2]
    # a probe's key cannot sign an agent's batch (and the other way round)
    keys = {"fra": SECRET, "agent:mullvad-de-fra-wg-001": b"other"}
    assert verify("b", data, sign(data, "fra", SECRET), keys) == "fra"
    with pytest.raises(BatchRejected, match="differs from signer"):
        parse(
            "b",
            data,
            signed_probe="fra",
            known_probes={"fra"},
            now=datetime.now(UTC),
            known_agents={"mullvad-de-fra-wg-001": ("mullvad", SERVER["hostname"])},
        )


def test_agent_configuration_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(
        'id = "mullvad-de-fra-wg-001"\nspool = "/tmp/x"\nlink_mbit_s = 1000\n'
        '[server]\nprovider = "mullvad"\nhostname = "h.example"\nip = "1.2.3.4"\ncountry = "UK"\n'
        '[[service]]\nname = "wg"\nkind = "wireguard"\ninterface = "wg0"\n'
    )
    with pytest.raises(ConfigError, match="country"):
        load_config(path)
    path.write_text(path.read_text().replace('"UK"', '"GB"'))
    loaded = load_config(path)
    assert loaded.services[0].interface == "wg0" and loaded.sample_interval_s == 30.0


def test_heartbeats_travel_through_the_exchange_into_the_store(
    engine: Engine, tmp_path: Path
) -> None:
    with moto_server() as endpoint:
        make_bucket(endpoint, "probe-batches")
        destination = "s3://probe-batches/vpn"
        agent = Agent(
            config(tmp_path, destination=destination, publish_interval_s=1.0),
            SECRET,
            exchange=settings_for(endpoint),
        )
        stop = threading.Event()
        agent.run(stop, max_heartbeats=3)
        assert agent.published >= 1 and pending(tmp_path / "spool") == []
        keys = probe_keys_from_env(
            {"SITE_BUILDER_AGENT_KEYS": json.dumps({"mullvad-de-fra-wg-001": SECRET.decode()})}
        )
        report = pull_measurements(
            engine,
            destination,
            keys=keys,
            reference_file=reference(tmp_path),
            exchange_settings=settings_for(endpoint),
        )
        assert report.count("rejected") == 0, [r.message for r in report.results]
        assert report.count("ingested") >= 1
    with engine.connect() as connection:
        beats = connection.execute(select(VpnHeartbeat.at)).scalars().all()
        batches = connection.execute(
            select(VpnIngestedBatch.agent_id, VpnIngestedBatch.probe_id)
        ).all()
        status = connection.execute(select(VpnServer.status)).scalar_one()
    assert len(beats) == 3
    assert set(batches) == {("mullvad-de-fra-wg-001", None)}
    assert status == "active"


def test_the_shipped_unit_and_example_configuration_fit_the_command(tmp_path: Path) -> None:
    unit = (ROOT / "scripts/systemd/site-builder-agent.service").read_text()
    assert "agent run --config /etc/site-builder/agent.toml" in unit
    assert "LoadCredential=agent-key:" in unit
    example = load_config(ROOT / "scripts/systemd/agent.example.toml")
    assert [s.kind for s in example.services] == ["wireguard", "openvpn", "systemd"]
    assert example.spool == Path("/var/lib/site-builder-agent")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "agent-key").write_bytes(b"from-systemd\n")
    assert agent_key(example, {"CREDENTIALS_DIRECTORY": str(credentials)}) == b"from-systemd"
    assert agent_key(example, {"SITE_BUILDER_AGENT_KEY": "from-env"}) == b"from-env"
    with pytest.raises(ConfigError, match="no agent key"):
        agent_key(example, {})


def test_an_agents_batch_satisfies_the_published_version_2_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((ROOT / "docs/schemas/probe-batch-v2.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    agent = Agent(config(tmp_path), SECRET)
    agent.run(max_heartbeats=1)
    lines = pending(tmp_path / "spool")[0].read_bytes().splitlines()
    for line in lines:
        validator.validate(json.loads(line))
    # a header naming both a probe and an agent passes the schema (JSON Schema has no
    # "exactly one of" for optional fields here) but not the code
    both = (json.dumps({**json.loads(lines[0]), "probe": "fra"}) + "\n").encode()
    with pytest.raises(BatchRejected, match="exactly one of probe and agent"):
        parse("b", both, signed_probe="fra", known_probes={"fra"}, now=datetime.now(UTC))


def test_the_agent_command_stops_cleanly_on_sigterm_with_its_heartbeats_spooled(
    tmp_path: Path,
) -> None:
    import signal
    import subprocess
    import sys
    import time

    spool_dir = tmp_path / "spool"
    path = tmp_path / "agent.toml"
    path.write_text(
        f'id = "mullvad-de-fra-wg-001"\nspool = "{spool_dir}"\n'
        "sample_interval_s = 0.1\nheartbeat_interval_s = 1\npublish_interval_s = 60\n"
        "[server]\n" + "".join(f'{k} = "{v}"\n' for k, v in SERVER.items())
    )
    env = {**os.environ, "SITE_BUILDER_AGENT_KEY": SECRET.decode()}
    executable = Path(sys.executable).parent / "site-builder"  # the installed command
    process = subprocess.Popen(
        [str(executable), "agent", "run", "--config", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        journal = spool_dir / "heartbeats.ndjson"
        while time.monotonic() < deadline and not journal.exists():
            time.sleep(0.1)
        assert journal.exists(), "no heartbeat within 30 s"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "heartbeats" in output
    [batch] = pending(spool_dir)  # what was journaled went into the spool on the way out
    assert b'"kind":"heartbeat"' in batch.read_bytes()
    assert not journal.exists()


def test_agent_entries_in_the_reference_data_are_checked(tmp_path: Path) -> None:
    from site_builder.pull.measurements.reference import known_agents, load_reference

    path = reference(tmp_path)
    assert known_agents(load_reference(path)) == agents(tmp_path)
    path.write_text(path.read_text() + '\n[[agent]]\nid = "fra"\nprovider = "x"\nhostname = "h"\n')
    with pytest.raises(ConfigError, match="also a probe id"):
        load_reference(path)
    path.write_text(path.read_text().replace('id = "fra"\nprovider = "x"\n', 'id = "y"\n'))
    with pytest.raises(ConfigError, match="needs id, provider and hostname"):
        load_reference(path)


def test_a_streamed_agent_batch_is_checked_and_stored_like_a_whole_one(
    engine: Engine, tmp_path: Path
) -> None:
    agent = Agent(config(tmp_path), SECRET)
    agent.run(max_heartbeats=2)
    folder = tmp_path / "spool" / "pending"
    keys = {"agent:mullvad-de-fra-wg-001": SECRET}
    report = pull_measurements(
        engine,
        folder,
        keys=keys,
        reference_file=reference(tmp_path),
        stream_above_mb=0.000001,  # every batch is streamed (stream.py), not prepared whole
    )
    assert report.count("ingested") == 1, [r.message for r in report.results]
    with engine.connect() as connection:
        assert len(connection.execute(select(VpnHeartbeat.at)).all()) == 2
        assert connection.execute(select(VpnIngestedBatch.agent_id)).scalar_one() == (
            "mullvad-de-fra-wg-001"
        )
