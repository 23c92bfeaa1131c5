"""Writes output files only when their bytes change, and removes files no longer produced."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def write_if_changed(target: Path, data: bytes) -> bool:
    """Write `data` to `target` unless it already holds exactly these bytes (atomically:
    a reader never sees half a file). Returns whether the file was written."""
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return True


@dataclass
class OutputWriter:
    root: Path
    written: int = 0
    unchanged: int = 0
    produced: set[str] = field(default_factory=set)

    def claim(self, relative: str) -> None:
        """Mark a file as produced by this build (written here or by a render worker)."""
        if relative in self.produced:
            raise ValueError(f"two outputs claim the same file: {relative}")
        self.produced.add(relative)

    def write(self, relative: str, data: bytes) -> bool:
        """Write `data` to root/relative unless the file already holds exactly these bytes."""
        self.claim(relative)
        if write_if_changed(self.root / relative, data):
            self.written += 1
            return True
        self.unchanged += 1
        return False

    def remove_stale(self) -> list[str]:
        """Delete files under root that this build did not produce, and the folders they
        leave empty; returns their paths. One scandir pass (it tells files from folders
        without a stat): this walks every output file of every build."""
        removed: list[str] = []
        self._remove_stale_in(str(self.root), "", removed)
        return sorted(removed)

    def _remove_stale_in(self, directory: str, prefix: str, removed: list[str]) -> bool:
        """Clear `directory` (whose paths start with `prefix`) of stale files; returns
        whether it is left empty."""
        kept = 0
        with os.scandir(directory) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if self._remove_stale_in(entry.path, relative + "/", removed):
                        os.rmdir(entry.path)
                    else:
                        kept += 1
                elif relative in self.produced:
                    kept += 1
                else:
                    os.remove(entry.path)
                    removed.append(relative)
        return kept == 0
