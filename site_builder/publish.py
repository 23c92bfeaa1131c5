"""Atomic publishing: a build never changes the live output folder; a passing check does.

A site has three trees, side by side under its output folder's parent (``output/``):

- live, ``output/<site>/``: the last build that passed its check, as sealed by that check;
- staging, ``output/.staging/<site>/``: where a build writes. It starts as a hard-link copy
  of the live files that still hold their sealed content, so unchanged pages cost no write
  (the writer replaces a file through ``os.replace``: a linked live file is never changed
  in place). Its state goes to ``.build-state/<site>.staging.json`` once the build is
  complete; a killed or failed build leaves no state, and the next build discards it;
- previous, ``output/.previous/<site>/``: the old live tree, only while a promotion runs.

`check.promote.check_and_promote` checks the newest complete build (the staging one, if
any), and when every check passes seals it (each file's SHA-1, as Netlify's digest API
wants them) and promotes it: journal, live -> previous, staging -> live, staging state ->
live state, previous removed, journal removed. A process killed anywhere in between is finished by
`recover`, which every stage calls first. `deploy` publishes only a live tree whose files
still match its seal (`verify_seal`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from site_builder.config import Project
from site_builder.errors import SiteBuilderError
from site_builder.render.deployable import deployable_files
from site_builder.render.state import BuildState, SealEntry, entry_holds, save_seal, sha1_of


@dataclass(frozen=True)
class Trees:
    """Where one site's trees, states and promotion journal live."""

    site: str
    live: Path
    staging: Path
    previous: Path
    state: Path  # the live tree's state (with its seal)
    staging_state: Path  # a complete staging build's state (sealed just before promotion)
    journal: Path  # present only while a promotion runs

    @property
    def pending(self) -> bool:
        """A complete build waits in staging for its check."""
        return self.staging_state.is_file() and self.staging.is_dir()


def trees(project: Project, site: str) -> Trees:
    live = project.output_dir(site)
    state = project.state_file(site)
    return Trees(
        site=site,
        live=live,
        staging=live.parent / ".staging" / live.name,
        previous=live.parent / ".previous" / live.name,
        state=state,
        staging_state=state.with_name(f"{site}.staging.json"),
        journal=state.with_name(f"{site}.promoting"),
    )


@contextmanager
def site_lock(site_trees: Trees) -> Iterator[None]:
    """Hold the site's lock while building or promoting: two builds of one site would share
    (and discard) one staging tree. The lock goes with the process, however it ends."""
    path = site_trees.state.with_name(f"{site_trees.site}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SiteBuilderError(
                f"{site_trees.site}: another build or check of this site is running"
                f" (it holds {path}); wait for it to finish"
            ) from None
        yield


def recover_if_idle(site_trees: Trees) -> str | None:
    """`recover`, unless a build or check of the site is running (it recovers itself)."""
    try:
        with site_lock(site_trees):
            return recover(site_trees)
    except SiteBuilderError:
        return None


def newest_build(site_trees: Trees) -> tuple[Path, str]:
    """The newest complete build (for a preview) and which one it is."""
    if site_trees.pending:
        return site_trees.staging, "the newest build, not yet checked"
    return site_trees.live, "the live build"


def recover(site_trees: Trees) -> str | None:
    """Finish a promotion that was interrupted (its journal is still there); returns what
    was done. Safe to call at any time: without a journal it changes nothing, except that a
    live tree found missing beside a previous one (a crash between the two renames of an
    older promotion) is put back."""
    t = site_trees
    if not t.journal.exists():
        if not t.live.exists() and t.previous.is_dir():
            t.previous.rename(t.live)
            return f"{t.site}: restored {t.live} from {t.previous}"
        return None
    # The journal is written after the staging tree was sealed: roll forward.
    if t.staging.is_dir():
        if t.live.exists():
            _remove(t.previous)
            t.previous.parent.mkdir(parents=True, exist_ok=True)
            t.live.rename(t.previous)
        t.staging.rename(t.live)
    if t.staging_state.exists():
        os.replace(t.staging_state, t.state)
    _remove(t.previous)
    t.journal.unlink()
    _remove_if_empty(t.staging.parent, t.previous.parent)
    return f"{t.site}: finished publishing the checked build in {t.live}"


def discard_staging(site_trees: Trees) -> None:
    """Drop what a killed, failed or unchecked build left in staging (state first: without
    it, a staging tree is never taken for a complete build)."""
    site_trees.staging_state.unlink(missing_ok=True)
    _remove(site_trees.staging)
    _remove_if_empty(site_trees.staging.parent)


def seed_staging(site_trees: Trees, seal: Mapping[str, SealEntry] | None) -> int:
    """Make the staging tree a hard-link copy of the live files that still hold their sealed
    content (a file changed since, or an unsealed tree, is not copied: its page is rendered
    again). Returns how many files were linked."""
    staging = site_trees.staging
    staging.mkdir(parents=True, exist_ok=True)
    if not seal:
        return 0
    live = str(site_trees.live) + os.sep
    target = str(staging) + os.sep
    made: set[str] = set()
    linked = 0
    for relative, entry in seal.items():
        if not entry_holds(live, relative, entry):
            continue
        folder = os.path.dirname(relative)
        if folder and folder not in made:
            os.makedirs(target + folder, exist_ok=True)
            made.add(folder)
        os.link(live + relative, target + relative)
        linked += 1
    return linked


def seal_of(root: Path) -> dict[str, SealEntry]:
    """Every deployable file under `root` with its SHA-1 and the stat that vouches for it."""
    seal: dict[str, SealEntry] = {}
    folder = str(root) + os.sep
    for relative in deployable_files(root):
        path = folder + relative
        status = os.stat(path)
        seal[relative] = [sha1_of(path), status.st_size, status.st_mtime_ns, status.st_ino]
    return seal


def promote(site_trees: Trees) -> None:
    """Seal the staging tree and make it the live one (see the module's docstring)."""
    t = site_trees
    if not t.pending:
        raise SiteBuilderError(f"{t.site}: no complete build in {t.staging} to publish")
    save_seal(t.staging_state, seal_of(t.staging))
    _remove(t.previous)  # a leftover of a crash before its journal was written
    t.journal.write_text(f"promoting {t.staging} to {t.live}\n", encoding="utf-8")
    recover(t)


def seal_live(project: Project, site: str) -> None:
    """Seal the live tree as it is now, unchecked. For tests and tools that change a live
    tree on purpose; the commands never call it (they seal only what `check` passed)."""
    t = trees(project, site)
    state = BuildState.load(t.state)
    if not state.site_key and state.seal is None:  # no usable state: start one
        state.save(t.state, "", {})
    save_seal(t.state, seal_of(t.live))


def live_sealed(site_trees: Trees) -> bool:
    """Whether the live tree holds exactly what its check sealed (a stat per file; a file
    whose stat changed is hashed again)."""
    seal = BuildState.load(site_trees.state).seal
    if seal is None or not site_trees.live.is_dir():
        return False
    folder = str(site_trees.live) + os.sep
    files = deployable_files(site_trees.live)
    return len(files) == len(seal) and all(
        relative in seal and entry_holds(folder, relative, seal[relative]) for relative in files
    )


def refuse_unpublishable(site_trees: Trees) -> None:
    """Stop a deploy before any request when the live tree cannot be published: never
    sealed, or a newer complete build has not passed its check."""
    t = site_trees
    if t.pending:
        raise SiteBuilderError(
            f"{t.site}: the newest build ({t.staging}) has not passed `site-builder check`"
            " (it failed, or was skipped with --skip-check): deploy publishes only checked"
            " builds; run `site-builder check` (or build and check again) first"
        )
    if BuildState.load(t.state).seal is None:
        raise SiteBuilderError(_unsealed(t))


def verify_seal(site_trees: Trees, files: Mapping[str, str]) -> None:
    """Refuse a live tree whose files (relative path -> SHA-1, hashed by the deploy) differ
    from its seal; the seal is then withdrawn, so the next build renders the tree again
    rather than skipping it as unchanged."""
    t = site_trees
    seal = BuildState.load(t.state).seal
    if seal is None:
        raise SiteBuilderError(_unsealed(t))
    sealed = {relative: entry[0] for relative, entry in seal.items()}
    if sealed == dict(files):
        return
    differ = sorted(
        {r for r in sealed.keys() | files.keys() if sealed.get(r) != files.get(r)}
    )
    save_seal(t.state, None)
    raise SiteBuilderError(
        _unsealed(t) + f"; {len(differ):,} file(s) differ from the sealed build,"
        f" e.g. {', '.join(differ[:3])}"
    )


def _unsealed(t: Trees) -> str:
    return (
        f"{t.live} was not sealed by a passing `site-builder check` (or changed since):"
        " run `site-builder build` and `site-builder check` first"
    )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _remove_if_empty(*folders: Path) -> None:
    """Tidy `output/.staging/` and `output/.previous/` away once no site uses them."""
    for folder in folders:
        with contextlib.suppress(OSError):  # missing, or another site's tree is in it
            folder.rmdir()
