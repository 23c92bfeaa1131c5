"""Editor flags for servers (data/vpn/server_flags.toml): the file is the source of truth."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, update

from site_builder.datafiles import first_error, read_toml
from site_builder.db.models import VpnServer
from site_builder.errors import ConfigError

servers = VpnServer.__table__
DEFAULTS = {"gaming": False, "streaming": False, "paid": True, "enabled": True, "static": False}


class ServerFlags(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str
    hostname: str
    gaming: bool = False
    streaming: bool = False
    paid: bool = True
    enabled: bool = True
    static: bool = False


def load_flags(path: Path) -> list[ServerFlags]:
    if not path.is_file():
        return []
    raw = read_toml(path, "server flags")
    try:
        entries = [ServerFlags.model_validate(e) for e in raw.get("server", [])]
    except ValidationError as exc:
        raise ConfigError(f"{path}: server.{first_error(exc)}") from None
    seen = set()
    for entry in entries:
        key = (entry.provider, entry.hostname.lower())
        if key in seen:
            raise ConfigError(f"{path}: {entry.provider}/{entry.hostname} is listed twice")
        seen.add(key)
    return entries


def apply_flags(connection: Connection, flags: list[ServerFlags]) -> list[str]:
    """Reset all servers to the defaults, then apply the file; returns entries matching none."""
    connection.execute(update(servers).values(DEFAULTS))
    unmatched = []
    for entry in flags:
        values = entry.model_dump(exclude={"provider", "hostname"})
        matched = connection.execute(
            update(servers)
            .where(
                servers.c.provider_slug == entry.provider,
                servers.c.hostname == entry.hostname.lower(),
            )
            .values(values)
        ).rowcount
        if not matched:
            unmatched.append(f"{entry.provider}/{entry.hostname}")
    return unmatched
