"""The deploy manifest: every output file's path and SHA-1, as Netlify's digest API wants it."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, select

from site_builder.db.models import SiteDeploy
from site_builder.errors import SiteBuilderError
from site_builder.render.deployable import deployable_files


@dataclass
class Manifest:
    files: dict[str, str] = field(default_factory=dict)  # "/path" -> sha1
    sizes: dict[str, int] = field(default_factory=dict)
    on_disk: dict[str, str] = field(default_factory=dict)  # "/path" -> relative file as stored
    by_sha: dict[str, list[str]] = field(default_factory=dict)


def deploy_path(relative: str) -> str:
    """The manifest path for an output-relative file: POSIX, NFC, leading '/', validated."""
    path = "/" + unicodedata.normalize("NFC", relative)
    if "#" in path or "?" in path:
        raise SiteBuilderError(f"{relative}: file names cannot contain # or ? on Netlify")
    if path != path.lower():
        raise SiteBuilderError(
            f"{relative}: upper-case file name; Netlify lowercases URLs, so publish lowercase only"
        )
    return path


def upload_path(path: str) -> str:
    """The percent-encoded form used in upload URLs (UTF-8, '/' kept)."""
    return quote(path.lstrip("/"), safe="/")


LARGE_FILE = 8 << 20  # read larger files in chunks, smaller ones in one call


def sha1_file(path: Path) -> tuple[str, int]:
    size = path.stat().st_size
    if size <= LARGE_FILE:
        data = path.read_bytes()
        return hashlib.sha1(data, usedforsecurity=False).hexdigest(), len(data)
    digest = hashlib.sha1(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def build_manifest(root: Path, progress: Callable[[int, int], None] | None = None) -> Manifest:
    """Hash every deployable file under `root`, in one thread.

    Measured on this project's 2-core machine (docs/benchmarks.md): for pages of a few KB,
    per-file thread tasks made hashing 3x slower and per-thread batches 1.5x slower than a
    plain loop, which runs at the speed of a bare read+sha1 baseline.
    """
    relatives = deployable_files(root)
    paths = [deploy_path(r) for r in relatives]
    if len(set(paths)) != len(paths):
        seen: set[str] = set()
        for path in paths:
            if path in seen:
                raise SiteBuilderError(f"two files normalize to {path} (Unicode forms differ)")
            seen.add(path)
    manifest = Manifest()
    for index, (path, relative) in enumerate(zip(paths, relatives, strict=True), start=1):
        if progress and (index % 1000 == 0 or index == len(paths)):
            progress(index, len(paths))
        sha, size = sha1_file(root / relative)
        manifest.files[path] = sha
        manifest.sizes[path] = size
        manifest.on_disk[path] = relative
        manifest.by_sha.setdefault(sha, []).append(path)
    return manifest


def last_manifest(engine: Engine, site: str) -> dict[str, str] | None:
    """The manifest of the site's last successful production deploy."""
    table = SiteDeploy.__table__
    with engine.connect() as connection:
        row = connection.execute(
            select(table.c.manifest)
            .where(table.c.site == site, table.c.draft.is_(False))
            .order_by(table.c.created_at.desc(), table.c.id.desc())
            .limit(1)
        ).first()
    return dict(row.manifest) if row else None
