"""The build state: per page, the key of everything it was rendered from.

A page's input key hashes its template set, the site's globals (configuration, asset URLs,
the guides menu) and the page itself (URL, title, description, SEO facts and context). An
unchanged key, with its output file still in place, means the page is not rendered again.
The state lives beside the project (``.build-state/<site>.json``), never in the output.

Above the pages, a site key hashes the same globals, the site's data fingerprint (cheap
queries, see each site's ``fingerprint``), the editors' files and the IndexNow key: when it
is unchanged and every file of the last build is in place, the whole site is skipped.
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

from site_builder.build.page import Page, output_path

FORMAT = 1


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


class BuildState:
    def __init__(
        self,
        path: Path,
        keys: Mapping[str, str],
        site_key: str = "",
        outputs: Mapping[str, int] | None = None,
        kinds: Mapping[str, int] | None = None,
    ) -> None:
        self.path = path
        self.previous = dict(keys)
        self.current: dict[str, str] = {}
        self.site_key = site_key  # of the last complete build
        self.outputs = dict(outputs or {})  # every file it produced, with its size
        self.kinds = dict(kinds or {})  # its pages by kind

    @classmethod
    def load(cls, path: Path) -> BuildState:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("format") == FORMAT:
                return cls(
                    path,
                    document["pages"],
                    document["site_key"],
                    document["outputs"],
                    document["kinds"],
                )
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass  # no usable state: every page is rendered
        return cls(path, {})

    def site_unchanged(self, site_key: str, root: Path) -> bool:
        """Same inputs as the last complete build, and its output still all in place."""
        if not self.site_key or site_key != self.site_key:
            return False
        folder = str(root) + os.sep  # strings, not Paths: this stats every output file
        for relative, size in self.outputs.items():
            try:
                if os.stat(folder + relative).st_size != size:
                    return False
            except FileNotFoundError:
                return False
        return True

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

    def save(self, site_key: str, root: Path, produced: set[str], kinds: Mapping[str, int]) -> None:
        folder = str(root) + os.sep
        outputs = {relative: os.stat(folder + relative).st_size for relative in sorted(produced)}
        document = {
            "format": FORMAT,
            "site_key": site_key,
            "kinds": dict(kinds),
            "outputs": outputs,
            "pages": self.current,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        # No indent: with one, json writes in Python, not C (most of the time of a save).
        temporary.write_text(json.dumps(document, sort_keys=True, separators=(",", ":")))
        os.replace(temporary, self.path)
