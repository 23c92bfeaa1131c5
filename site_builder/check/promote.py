"""Check a site's newest complete build and, when every check passes, make it live.

The checks themselves are in this package; the trees, the seal and the promotion in
`site_builder.publish` (which imports nothing of the check stage, so the render stage can
use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from site_builder.check import CheckReport, run_checks
from site_builder.check.guard import DEFAULT_MAX_PAGE_LOSS, html_pages
from site_builder.config import Project
from site_builder.deploy.manifest import last_manifest
from site_builder.errors import CheckFailed
from site_builder.publish import Trees, live_sealed, promote, recover, site_lock, trees


@dataclass
class CheckOutcome:
    report: CheckReport
    checked: Path  # the tree that was checked
    promoted: bool  # a staging build passed and is now live
    sealed: bool  # the live tree is sealed (deployable)
    note: str | None = None  # what `recover` did, if anything


def check_and_promote(
    engine: Engine,
    project: Project,
    env: Mapping[str, str],
    site: str,
    *,
    force: bool = False,
    max_page_loss: float = DEFAULT_MAX_PAGE_LOSS,
) -> CheckOutcome:
    """Check the site's newest complete build and, if every check passes, promote it.

    The newest complete build is the staging one when a build finished there, else the live
    tree (re-checked as it is; it stays sealed only if unchanged since its own check).
    """
    t = trees(project, site)
    with site_lock(t):
        return _check_and_promote(engine, project, env, t, force, max_page_loss)


def _check_and_promote(
    engine: Engine,
    project: Project,
    env: Mapping[str, str],
    t: Trees,
    force: bool,
    max_page_loss: float,
) -> CheckOutcome:
    site = t.site
    note = recover(t)
    root = t.staging if t.pending else t.live
    if not (root / "index.html").is_file():
        raise CheckFailed(f"{site}: {root} holds no built site; run `site-builder build` first")
    previous = last_manifest(engine, site)
    report = run_checks(
        site,
        root,
        project.site(site).base_url,
        env=env,
        project_root=project.root,
        content_dir=project.content_dir / site,
        previous_pages=html_pages(set(previous)) if previous else None,
        max_page_loss=max_page_loss,
        force=force,
    )
    promoted = False
    if not report.failed and root == t.staging:
        promote(t)
        promoted = True
    return CheckOutcome(report, root, promoted, live_sealed(t), note)
