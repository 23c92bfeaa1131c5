"""A probe node's configuration (a TOML file) and its secrets.

    id = "fra"                                   # the probe id in data/vpn/reference.toml
    spool = "/var/spool/site-builder-probe"
    secrets = "/etc/site-builder/probe-secrets"  # probe.key and one file per tunnel secret
    streaming_checks = "/etc/site-builder/streaming_checks.toml"   # optional

    [steps]                                      # all optional
    connect_timeout_s = 20
    latency_count = 20
    transfer_seconds = 10

    [[target]]
    provider = "mullvad"
    hostname = "se-sto-wg-001"
    ip = "185.65.134.1"
    country = "SE"
    city = "Stockholm"
    protocol = "wireguard"          # or openvpn-udp, openvpn-tcp
    profile = "profiles/se-sto-wg-001.conf"   # wg-quick .conf (no key) or the .ovpn
    secret = "mullvad-wg"           # WireGuard private key, or OpenVPN "user\\npassword"
    speed_server = "http://10.64.0.1:8080/"   # a LibreSpeed backend reached through the tunnel

Secrets are read only from the secrets folder (``<secrets>/<name>``, the probe's HMAC key
in ``<secrets>/probe.key``) or the environment (``SITE_BUILDER_PROBE_KEY`` and
``SITE_BUILDER_SECRET_<NAME>``, the name upper-cased with ``-`` as ``_``). They are never
logged, never written to a batch, and reach the tunnel tools only as 0600 files in a
private temporary folder removed after the tunnel.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.datafiles import first_error, read_toml
from site_builder.errors import ConfigError

PROBE_KEY_ENV = "SITE_BUILDER_PROBE_KEY"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Steps(_Strict):
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 20.0
    latency_count: Annotated[int, Field(ge=1, le=1000)] = 20
    latency_interval_s: Annotated[float, Field(ge=0.01, le=5)] = 0.2
    transfer_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    download_warmup_s: Annotated[float, Field(ge=0, le=30)] = 1.5
    upload_warmup_s: Annotated[float, Field(ge=0, le=30)] = 3.0
    streams: Annotated[int, Field(ge=1, le=32)] = 4
    step_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    fetch_timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0


class Target(_Strict):
    provider: str
    provider_name: str | None = None
    hostname: str
    ip: str
    country: str
    city: str | None = None
    protocol: Literal["wireguard", "openvpn-udp", "openvpn-tcp"]
    profile: Path
    secret: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")]
    speed_server: str | None = None
    latency_target: str | None = None  # default: the speed server's host
    streaming: bool = True

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.hostname} {self.protocol}"


class ProbeConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    spool: Path
    secrets: Path | None = None
    streaming_checks: Path | None = None
    netns_prefix: Annotated[str, Field(pattern=r"^[a-z0-9]{1,12}-$")] = "sbp-"
    outer_netns: str | None = None  # where tunnels' sockets live (tests); None: the host
    steps: Steps = Steps()
    target: list[Target] = []


def load_config(path: Path) -> ProbeConfig:
    raw = read_toml(path, "probe configuration")
    try:
        config = ProbeConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {first_error(exc)}") from None
    base = path.parent

    def here(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else base / p)

    targets = [t.model_copy(update={"profile": here(t.profile)}) for t in config.target]
    return config.model_copy(
        update={
            "spool": here(config.spool),
            "secrets": here(config.secrets),
            "streaming_checks": here(config.streaming_checks),
            "target": targets,
        }
    )


def secret(config: ProbeConfig, name: str, env: Mapping[str, str | None]) -> str:
    """A tunnel secret by name: ``<secrets>/<name>``, else the environment."""
    if config.secrets is not None and (config.secrets / name).is_file():
        return (config.secrets / name).read_text().strip()
    value = env.get("SITE_BUILDER_SECRET_" + name.upper().replace("-", "_").replace(".", "_"))
    if not value:
        raise ConfigError(f"no secret {name!r}: put it in the secrets folder or the environment")
    return value


def probe_key(config: ProbeConfig, env: Mapping[str, str | None]) -> bytes:
    """The probe's batch-signing key: ``<secrets>/probe.key``, else SITE_BUILDER_PROBE_KEY."""
    if config.secrets is not None and (config.secrets / "probe.key").is_file():
        key = (config.secrets / "probe.key").read_bytes().strip()
    else:
        key = (env.get(PROBE_KEY_ENV) or "").encode()
    if not key:
        raise ConfigError(
            f"no probe key: put probe.key in the secrets folder or set {PROBE_KEY_ENV}"
        )
    return key
