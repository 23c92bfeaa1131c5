"""Reading the project's checked-in TOML files, with errors that name file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from site_builder.errors import ConfigError


def read_toml(path: Path, what: str, hint: str = "") -> dict[str, Any]:
    """Parse a TOML file; a missing, unreadable or malformed file is a ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found{f' ({hint})' if hint else ''}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def first_error(exc: ValidationError) -> str:
    """'dotted.key: message' for pydantic's first error."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{location}: {message}" if location else message
