"""The deploy manifest: every output file's path and SHA-1, as Netlify's digest API wants it."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from site_builder.errors import SiteBuilderError


@dataclass
class Manifest:
    files: dict[str, str] = field(default_factory=dict)  # "/path" -> sha1
    sizes: dict[str, int] = field(default_factory=dict)
    on_disk: dict[str, str] = field(default_factory=dict)  # "/path" -> relative file as stored
    by_sha: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())


def _skipped(relative: str) -> bool:
    """Files Netlify's clients never deploy: dotfiles (but .well-known) and macOS litter."""
    for part in relative.split("/"):
        if part.startswith(".") and part != ".well-known":
            return True
        if part.startswith("__MACOSX"):
            return True
    return False


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


def sha1_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha1(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def build_manifest(root: Path, workers: int = 8) -> Manifest:
    """Hash every deployable file under `root` (threads: hashlib releases the GIL)."""
    relatives = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            relative = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            if not _skipped(relative):
                relatives.append(relative)
    paths = [deploy_path(r) for r in relatives]
    lowered: dict[str, str] = {}
    for path in paths:
        if path in lowered:
            raise SiteBuilderError(f"{path} and {lowered[path]} differ only in Unicode form")
        lowered[path] = path
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashes = list(pool.map(lambda r: sha1_file(root / r), relatives))
    manifest = Manifest()
    for path, relative, (sha, size) in zip(paths, relatives, hashes, strict=True):
        manifest.files[path] = sha
        manifest.sizes[path] = size
        manifest.on_disk[path] = relative
        manifest.by_sha.setdefault(sha, []).append(path)
    return manifest
