"""Archives of raw provider responses: written on every live pull, replayed by --from-snapshot.

Layout of one archive (one pull run)::

    <dir>/manifest.json          {"format": 1, "run_id": ..., "providers": {slug: file}}
    <dir>/<provider>.json.gz     {"provider": slug, "responses": [RawResponse as JSON]}

Files are gzip-compressed with a zero mtime, so archiving the same responses twice gives
byte-identical files.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from site_builder.errors import DataError
from site_builder.pull.gpu.offer import RawResponse

FORMAT = 1


def write_provider(archive_dir: Path, provider: str, responses: list[RawResponse]) -> Path:
    archive_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "provider": provider,
        "responses": [{**asdict(r), "fetched_at": r.fetched_at.isoformat()} for r in responses],
    }
    data = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode()
    path = archive_dir / f"{provider}.json.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


def write_manifest(archive_dir: Path, run_id: str, providers: list[str]) -> None:
    manifest = {
        "format": FORMAT,
        "run_id": run_id,
        "providers": {p: f"{p}.json.gz" for p in sorted(providers)},
    }
    (archive_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def read_manifest(archive_dir: Path) -> dict[str, object]:
    path = archive_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{archive_dir}: not a price snapshot (no manifest.json)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON: {exc}") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("providers"), dict):
        raise DataError(f"{path}: unsupported snapshot format {manifest.get('format')!r}")
    return manifest


def read_provider(archive_dir: Path, provider: str) -> list[RawResponse]:
    manifest = read_manifest(archive_dir)
    providers = manifest["providers"]
    assert isinstance(providers, dict)
    if provider not in providers:
        raise DataError(f"{archive_dir}: snapshot has no responses for {provider!r}")
    path = archive_dir / str(providers[provider])
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
        return [
            RawResponse(
                name=r["name"],
                url=r["url"],
                status=int(r["status"]),
                content_type=r["content_type"],
                fetched_at=datetime.fromisoformat(r["fetched_at"]),
                body=r["body"],
                request_body=r.get("request_body", ""),
            )
            for r in document["responses"]
        ]
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: unreadable snapshot file: {exc}") from None
