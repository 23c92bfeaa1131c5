"""The build state: per page, the key of everything it was rendered from.

A page's input key hashes its template set, the site's globals (configuration, asset URLs,
the guides menu) and the page itself (URL, title, description, SEO facts and context). An
unchanged key, with its output file still in place, means the page is not rendered again.
The state lives beside the project (``.build-state/<site>.json``), never in the output.

Above the pages, a site key hashes the same globals, the site's data fingerprint (cheap
queries, see each site's ``fingerprint``), the editors' files and the IndexNow key: when it
is unchanged and the live tree still holds exactly what its check sealed (content, not
sizes), the whole site is skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from site_builder.render.page import Page, output_path

FORMAT = 2  # 2: the seal of the checked tree replaced the sizes of its files


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"cannot key a {type(value).__name__}")


def digest(value: Any) -> str:
    """A stable digest of plain data (JSON-encoded, keys sorted)."""
    text = json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def rows_digest(rows: Iterable[Sequence[Any]], batch: int = 1_000) -> str:
    """A stable digest of a stream of rows, read a batch at a time: a large table's rows
    are never all in memory (every VPN server's, 70 MB at 100,000 servers, was the build's
    first high-water mark)."""
    hasher = hashlib.blake2b(digest_size=16)
    rows = iter(rows)
    while chunk := [list(row) for row in islice(rows, batch)]:
        hasher.update(json.dumps(chunk, default=_default, separators=(",", ":")).encode())
    return hasher.hexdigest()


def page_bytes(page: Page) -> bytes:
    """A page's inputs as bytes: pickle is several times faster than JSON on large contexts,
    and the page kinds build their contexts deterministically (same data, same insertion
    order), so equal inputs give equal bytes."""
    return pickle.dumps(page, protocol=5)


def files_digest(folder: Path, suffix: str = "") -> str:
    """One hash over every file in a folder (templates and assets, editors' content, the
    code itself), optionally only those ending in `suffix`: any change re-renders every page."""
    hasher = hashlib.blake2b(digest_size=16)
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob(f"*{suffix}") if p.is_file()):
            hasher.update(path.relative_to(folder).as_posix().encode() + b"\0")
            hasher.update(path.read_bytes() + b"\0")
    return hasher.hexdigest()


def page_key(page_bytes: bytes, base_key: str) -> str:
    """The key of a page given as its pickle (made once: the same bytes go to a worker)."""
    return hashlib.blake2b(base_key.encode() + page_bytes, digest_size=16).hexdigest()


# A sealed file: [sha1, size, mtime_ns, inode]. The build trusts the stored sha1 while the
# file's size, mtime and inode are those recorded (a rewrite through os.replace gets a new
# inode, an edit in place a new mtime) and hashes the file again otherwise: the skip test
# compares content at about the cost of the stat it always made.
SealEntry = list[Any]


def stat_signature(path: str) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_ino


def sha1_of(path: str) -> str:
    digest_ = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest_.update(chunk)
    return digest_.hexdigest()


def entry_holds(folder: str, relative: str, entry: SealEntry) -> bool:
    """Whether the file `folder + relative` still holds the sealed content."""
    path = folder + relative
    try:
        if tuple(entry[1:4]) == stat_signature(path):
            return True
        return sha1_of(path) == entry[0]
    except (FileNotFoundError, NotADirectoryError):
        return False


class BuildState:
    """The last complete build of a site: its page keys, site key and pages by kind, and the
    seal a passing check gave its tree (None until then). Saved beside the project, for the
    live tree (``.build-state/<site>.json``) and for a staging build awaiting its check."""

    def __init__(
        self,
        keys: Mapping[str, str],
        site_key: str = "",
        kinds: Mapping[str, int] | None = None,
        seal: Mapping[str, SealEntry] | None = None,
        outputs: Iterable[str] = (),
    ) -> None:
        self.previous = dict(keys)
        self.current: dict[str, str] = {}
        self.site_key = site_key  # of the last complete build
        self.kinds = dict(kinds or {})  # its pages by kind
        self.seal = dict(seal) if seal is not None else None  # every file, as checked
        self.outputs = list(outputs)  # every file the build claimed (tests hold it to that)

    @classmethod
    def load(cls, path: Path) -> BuildState:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("format") == FORMAT:
                return cls(
                    document["pages"],
                    document["site_key"],
                    document["kinds"],
                    document["seal"],
                    document["outputs"],
                )
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass  # no usable state: every page is rendered
        return cls({})

    def site_unchanged(self, site_key: str, files: Iterable[str], root: Path) -> bool:
        """Same inputs as the last complete build, and its sealed tree (whose deployable
        files are `files`) still holds exactly the sealed content, nothing more or less."""
        if not self.site_key or site_key != self.site_key or self.seal is None:
            return False
        seal = self.seal
        count = 0
        folder = str(root) + os.sep  # strings, not Paths: this runs for every output file
        for relative in files:
            entry = seal.get(relative)
            if entry is None or not entry_holds(folder, relative, entry):
                return False
            count += 1
        return count == len(seal)

    def is_current(self, url: str, key: str, folder: str) -> bool:
        """The last build rendered this page from the same inputs, and its file is there
        (under `folder`, the output folder as a string ending in a separator: this runs for
        every page, and the file's path is made only when the key matches)."""
        return self.previous.get(url) == key and os.path.isfile(folder + output_path(url))

    def unchanged(self, url: str, key: str, folder: str) -> bool:
        self.record(url, key)
        return self.is_current(url, key, folder)

    def record(self, url: str, key: str) -> None:
        """The key a page of this build has (it is saved with the build)."""
        self.current[url] = key

    def save(
        self, path: Path, site_key: str, kinds: Mapping[str, int], produced: Iterable[str] = ()
    ) -> None:
        """Save this build's keys and files (unsealed: the check seals them with its tree)."""
        _write(
            path,
            {
                "format": FORMAT,
                "site_key": site_key,
                "kinds": dict(kinds),
                "pages": self.current,
                "outputs": sorted(produced),
                "seal": None,
            },
        )


def save_seal(path: Path, seal: Mapping[str, SealEntry] | None) -> None:
    """Record (or, with None, withdraw) the seal of the tree whose state is at `path`."""
    document = json.loads(path.read_text(encoding="utf-8"))
    document["seal"] = dict(seal) if seal is not None else None
    _write(path, document)


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    # No indent: with one, json writes in Python, not C (most of the time of a save).
    temporary.write_text(json.dumps(document, sort_keys=True, separators=(",", ":")))
    os.replace(temporary, path)
