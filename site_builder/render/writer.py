"""Writes output files only when their bytes change, and removes files no longer produced."""

from __future__ import annotations

import contextlib
import filecmp
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# A file's bytes: whole, or as chunks for files too large to hold at once (data files).
Content = bytes | Iterable[bytes]


def write_if_changed(target: str | os.PathLike[str], data: Content) -> bool:
    """Write `data` to `target` unless it already holds exactly these bytes (atomically:
    a reader never sees half a file). Returns whether the file was written. Chunks are
    streamed to a temporary file first, then compared with the target."""
    if not isinstance(data, bytes):
        return _write_chunks_if_changed(Path(target), data)
    # Plain `os` calls on strings, not pathlib's: this runs once per page, and pathlib's
    # wrappers were 40 % of the cost of writing a new page.
    path = os.fspath(target)
    folder = os.path.dirname(path)
    try:
        if os.stat(path).st_size == len(data):
            with open(path, "rb") as existing:
                if existing.read() == data:
                    return False
    except FileNotFoundError:
        # A new page, most often in a folder of its own (a full build makes thousands):
        # made here at once, rather than found missing by a failed open.
        _make_folder(folder)
    temporary = _temporary(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        out = os.open(temporary, flags, 0o666)
    except FileNotFoundError:  # its folder went away since the stat
        os.makedirs(folder, exist_ok=True)
        out = os.open(temporary, flags, 0o666)
    try:
        try:
            unwritten = memoryview(data)
            while unwritten:
                unwritten = unwritten[os.write(out, unwritten) :]
        finally:
            os.close(out)
        os.replace(temporary, path)
    except BaseException:  # a full disk leaves the old file whole, and no temporary
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return True


def _make_folder(folder: str) -> None:
    """`os.makedirs(folder, exist_ok=True)` with one system call when only the last folder
    is missing (makedirs checks every level first)."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def _temporary(path: str) -> str:
    """Beside the target, hidden, and this process's own (workers write side by side)."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}.tmp")


def _write_chunks_if_changed(target: Path, chunks: Iterable[bytes]) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(_temporary(os.fspath(target)))
    try:
        with temporary.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        if target.is_file() and filecmp.cmp(temporary, target, shallow=False):
            temporary.unlink()
            return False
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)  # a failed encoder leaves the old file whole
        raise
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

    def write(self, relative: str, data: Content) -> bool:
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
