"""The build stage: page kinds yield pages; the engine renders, minifies and writes them.

Output is deterministic: the same store gives byte-identical files, and a file is only
rewritten when its bytes change, so unchanged pages never re-upload.

A build never touches the live output folder: it writes a staging tree beside it, which
`site_builder.check.promote.check_and_promote` makes live once every check passes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from site_builder import publish
from site_builder.config import Project
from site_builder.errors import SiteBuilderError
from site_builder.gcpause import frozen_heap, no_cyclic_gc
from site_builder.render.content import content_pages, guides_page, published
from site_builder.render.deployable import deployable_files
from site_builder.render.environment import make_environment
from site_builder.render.netlify_files import headers_file, indexnow_key_file, redirects_file
from site_builder.render.page import Page, output_path
from site_builder.render.parallel import (
    PageFacts,
    Renderer,
    RenderTarget,
    ShardedKind,
    ShardSource,
    pages_of,
    templates_compiled_beside,
)
from site_builder.render.search import index_files, search_page
from site_builder.render.sitemap import build_sitemaps, robots_txt
from site_builder.render.state import BuildState, digest, files_digest, page_bytes, page_key
from site_builder.render.writer import OutputWriter
from site_builder.sites import site_module

# The engine's own code is an input of every page: a new release re-renders everything.
CODE_DIGEST = files_digest(Path(__file__).resolve().parent.parent, suffix=".py")


@dataclass
class BuildReport:
    site: str
    pages_by_kind: Counter[str] = field(default_factory=Counter)
    rendered: int = 0  # pages whose inputs changed (or had no output yet)
    skipped: int = 0  # pages with unchanged inputs: not rendered at all
    written: int = 0  # files whose bytes changed
    unchanged: int = 0  # files rendered or produced again with the same bytes
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Where the build is: the staging tree, awaiting its check; or, when nothing changed
    # since the live build, the live tree itself (staged False: nothing to check or promote).
    output: Path | None = None
    staged: bool = False
    # What the build left out and why (a broken editor data file): reported, never fatal.
    problems: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(self.pages_by_kind.values())


def _kept_search_index(output: Path, writer: OutputWriter) -> set[str]:
    """The search index files staged from the live tree, kept through the stale sweep so
    the new index rewrites only the files whose bytes changed."""
    folder = output / "pagefind"
    if not folder.is_dir():
        return set()
    found = {p.relative_to(output).as_posix() for p in folder.rglob("*") if p.is_file()}
    writer.produced.update(found)
    return found


def web_manifest(title: str, description: str, assets: dict[str, str]) -> bytes:
    """The site's web app manifest: its name and the favicon (MDN's minimal members)."""
    manifest: dict[str, object] = {
        "name": title,
        "short_name": title,
        "description": description,
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
    }
    if "favicon.svg" in assets:
        manifest["icons"] = [
            {"src": assets["favicon.svg"], "sizes": "any", "type": "image/svg+xml"}
        ]
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def _file_digest(path: Path) -> str | None:
    """An editor data file's content digest (None when missing: the site reports that)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _assets(assets_dir: Path) -> dict[str, tuple[str, bytes]]:
    """Shared assets by name, each with its output path (a content hash in the name) and
    bytes (written once the build knows it is needed)."""
    found: dict[str, tuple[str, bytes]] = {}
    if not assets_dir.is_dir():
        return found
    for path in sorted(p for p in assets_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:10]
        relative = path.relative_to(assets_dir).as_posix()
        stem, dot, suffix = relative.rpartition(".")
        fingerprinted = f"assets/{stem}.{digest}.{suffix}" if dot else f"assets/{relative}.{digest}"
        found[relative] = (fingerprinted, data)
    return found


def build_site(
    engine: Engine,
    project: Project,
    site_name: str,
    *,
    indexnow_key: str | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build one site into its staging tree (with the IndexNow key file when a key is given);
    `site_builder.check.promote.check_and_promote` then checks it and makes it live.

    Pages whose inputs are unchanged since the live build are not rendered (their files are
    hard links to the live ones); the others are rendered on `jobs` processes (default:
    every core) as the page kinds yield them. When nothing changed at all, nothing is staged.
    """
    trees = publish.trees(project, site_name)
    with publish.site_lock(trees):
        return _build_site(engine, project, site_name, trees, indexnow_key, jobs, on_progress)


def _build_site(
    engine: Engine,
    project: Project,
    site_name: str,
    trees: publish.Trees,
    indexnow_key: str | None,
    jobs: int | None,
    on_progress: Callable[[int], None] | None,
) -> BuildReport:
    started = time.monotonic()
    site = project.site(site_name)
    # The site reads its editor data files from absolute paths; the templates' globals keep
    # the configured ones (an absolute path would leak into the output and the keys).
    configured_editor_data = {name: str(path) for name, path in site.editor_data.items()}
    site = site.model_copy(
        update={"editor_data": {n: project.path(p) for n, p in site.editor_data.items()}}
    )
    publish.recover(trees)  # a promotion cut short is finished before anything else
    publish.discard_staging(trees)  # what a killed, failed or unchecked build left
    output = trees.staging
    report = BuildReport(site=site_name, output=output, staged=True)
    asset_files = _assets(project.templates_dir / "shared" / "assets")
    asset_files |= _assets(project.templates_dir / site_name / "assets")
    assets = {name: "/" + path for name, (path, _) in asset_files.items()}

    def asset(name: str) -> str:
        try:
            return assets[name]
        except KeyError:
            raise SiteBuilderError(f"template asks for unknown asset {name!r}") from None

    content_dir = project.content_dir / site_name
    guides = published(content_dir)
    site_globals = {
        "name": site_name,
        **site.model_dump(mode="json"),
        "editor_data": configured_editor_data,
    }
    environment = make_environment(
        project.templates_dir, {"site": site_globals, "asset": asset, "guides": guides}
    )
    jobs = jobs or os.cpu_count() or 1
    with templates_compiled_beside(
        environment, ("shared/", f"{site_name}/"), forked=jobs > 1
    ) as templates_compiled:
        base_key = digest(
            [CODE_DIGEST, files_digest(project.templates_dir), site_globals, assets, guides]
        )
        state = BuildState.load(trees.state)  # the LIVE build's: what skipping trusts
        module = site_module(site_name)
        # Editor-owned data files a site reads besides the store (`SiteConfig.editor_data`:
        # cloudgpus' spec sheets, bestvpnserver's provider facts), read here at the edge and
        # handed to `load`. A broken one is reported on every build, skipped or not: it
        # stays broken (and its data left out) until an editor fixes it.
        editor_data = module.editor_data(project, site) if hasattr(module, "editor_data") else None
        report.problems.extend(getattr(editor_data, "problems", ()))
        with engine.connect() as connection:
            fingerprint = module.fingerprint(connection)
            # where the data comes from (a site may say; demo data gets a banner everywhere)
            origin = module.provenance(connection) if hasattr(module, "provenance") else None
        environment.globals["provenance"] = origin
        # the editor files' bytes, not the data read from them: an edit rebuilds the site
        editor_digests = [_file_digest(path) for path in site.editor_data.values()]
        site_key = digest(
            [base_key, fingerprint, files_digest(content_dir), indexnow_key, origin, editor_digests]
        )
        site_unchanged = (
            site_key == state.site_key  # only then is the live tree worth a walk
            and trees.live.is_dir()
            and state.site_unchanged(site_key, deployable_files(trees.live), trees.live)
        )
        if not site_unchanged:
            templates_compiled()  # before the workers fork: each inherits them compiled
    if site_unchanged:
        report.output, report.staged = trees.live, False
        report.pages_by_kind.update(state.kinds)
        report.skipped = report.pages
        report.unchanged = len(state.seal or ())
        report.seconds = time.monotonic() - started
        return report
    # Into an empty staging folder, every file is this build's: nothing stale to look for at
    # the end (a walk of every output folder, 0.1 s per 10,000 pages).
    fresh = publish.seed_staging(trees, state.seal) == 0
    writer = OutputWriter(output)
    for path, data in asset_files.values():
        writer.write(path, data)
    sitemap_entries = []
    urls: set[str] = set()

    def done(count: int, written: int) -> None:
        report.written += written
        report.unchanged += count - written
        if on_progress:
            on_progress(count)

    def claim(url: str, kind: str, indexable: bool, lastmod: datetime | None) -> None:
        if url in urls:
            raise SiteBuilderError(f"two pages claim {url} ({kind})")
        urls.add(url)
        writer.claim(output_path(url))
        report.pages_by_kind[kind] += 1
        if indexable:
            sitemap_entries.append((url, lastmod))

    def skipped() -> None:
        report.skipped += 1
        if on_progress:
            on_progress(1)

    def submit(page: Page) -> None:
        claim(page.url, page.kind, page.indexable, page.lastmod)
        pickled = page_bytes(page)
        if state.unchanged(page.url, page_key(pickled, base_key), target.folder):
            skipped()
            return
        report.rendered += 1
        renderer.submit(page, pickled)

    def built_in_worker(facts: list[PageFacts]) -> None:
        for fact in facts:
            claim(fact.url, fact.kind, fact.indexable, fact.lastmod)
            state.record(fact.url, fact.key)
            if fact.rendered:
                report.rendered += 1
                done(1, int(fact.written))
            else:
                skipped()

    target = RenderTarget(environment, output, site.base_url, site.minify_html)
    with engine.connect() as connection, no_cyclic_gc():
        # everything the pages need, read once
        data = (
            module.load(connection, site, jobs)
            if editor_data is None
            else module.load(connection, site, jobs, editor_data)
        )
    sharded = {k: v for k, v in module.PAGE_KINDS.items() if isinstance(v, ShardedKind)}
    split = module.SPLIT_KINDS
    source = (
        ShardSource(data, site, module.PAGE_KINDS, engine, base_key, state)
        if data is not None and (sharded or split)
        else None
    )
    with (
        frozen_heap(),
        Renderer(target, jobs, done, source=source, on_facts=built_in_worker) as renderer,
    ):
        kinds = [k for k in site.page_kinds if data is not None or k not in module.NEEDS_DATA]
        made_here = []  # the workers build sharded and split kinds while this process
        for kind in kinds:  # makes the others' pages
            if kind in sharded:
                renderer.submit_sharded(kind, sharded[kind].count(data))
            elif kind not in split or not renderer.submit_split(kind):
                made_here.append(kind)
        for kind in made_here:
            for page in pages_of(module.PAGE_KINDS[kind](data, site)):
                submit(page)
        # The data and static files need only the dataset: written while the workers still
        # render (the speed test's payloads alone are 36 MB).
        for path, content in module.data_files(data, site):
            writer.write(path, content)
        for path, content in module.static_files(site):
            writer.write(path, content)
        if data is not None and guides:
            renderer.finish()  # every generated URL is known before editors' pages claim theirs
            lastmods = []
            for page in content_pages(
                content_dir,
                site_name=site_name,
                blocks=module.blocks(environment),
                data=data,
                taken_urls=urls,
                templates=frozenset(environment.list_templates()),
            ):
                submit(page)
                lastmods.append(page.lastmod)
            submit(guides_page(guides, max((m for m in lastmods if m), default=None)))
        if site.search:
            submit(search_page(site.title))
        renderer.finish()
    not_found: Page = module.not_found_page(site)
    writer.claim(output_path(not_found.url))
    done(1, int(target.render(not_found)))
    for path, content in build_sitemaps(site.base_url, sitemap_entries).items():
        writer.write(path, content)
    writer.write("robots.txt", robots_txt(site.base_url))
    writer.write("site.webmanifest", web_manifest(site.title, site.description, assets))
    writer.write("_headers", headers_file())
    writer.write("_redirects", redirects_file(project.content_dir / site_name / "_redirects"))
    if indexnow_key:
        writer.write(*indexnow_key_file(indexnow_key))
    previous_index = _kept_search_index(output, writer) if site.search else set()
    report.removed = [] if fresh else writer.remove_stale()
    if site.search:  # over exactly this build's pages: stale ones are gone by now
        index = index_files(output)
        writer.produced.difference_update(previous_index)  # claimed again as written
        for path, content in index.items():
            writer.write(path, content)
        for path in sorted(previous_index - index.keys()):
            (output / path).unlink()
            report.removed.append(path)
    report.written += writer.written
    report.unchanged += writer.unchanged
    # Saved only after a complete build: its presence tells `check` the staging tree is whole.
    state.save(trees.staging_state, site_key, report.pages_by_kind, writer.produced)
    report.seconds = time.monotonic() - started
    return report
