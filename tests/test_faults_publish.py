"""Atomic publishing against the real CLI: real processes, real signals, a fake Netlify.

A build writes a staging tree beside the live output; only a passing check seals it and
swaps it in; deploy publishes only a sealed tree that is unchanged since its check.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder import publish
from site_builder.config import load_project
from site_builder.render.state import save_seal
from site_builder.sites import available_page_kinds
from tests.fake_netlify import TOKEN, FakeNetlify, fake_netlify

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # this venv's console scripts
GUIDE = "best-gpu-for-llm-training"


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def environment(project: Path, fake: FakeNetlify | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NETLIFY_", "DATABASE_URL", "INDEXNOW"))
    }
    env["DATABASE_URL"] = f"sqlite:///{project / 'store.db'}"
    env["SITE_BUILDER_DEMO_SCALE"] = "small"
    env["COLUMNS"] = "400"  # long paths on one line
    if fake is not None:
        env |= {
            "NETLIFY_AUTH_TOKEN": TOKEN,
            "NETLIFY_API_URL": fake.base_url,
            "NETLIFY_SITE_ID_CLOUDGPUS": "site-cg",
        }
    return env


def cli(project: Path) -> list[str]:
    return [str(BIN / "site-builder"), "--config", str(project / "sites.toml")]


def run(
    project: Path, *args: str, fake: FakeNetlify | None = None, command: str = "site-builder"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command), "--config", str(project / "sites.toml"), *args],
        env=environment(project, fake),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project with cloudgpus built, checked and live (built once per module)."""
    project = tmp_path_factory.mktemp("publish") / "project"
    project.mkdir()
    config = (ROOT / "sites.toml").read_text()
    (project / "sites.toml").write_text(
        config.replace("min_runs_per_server = 10", "min_runs_per_server = 3")
    )
    for folder in ("templates", "content"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copytree(
        ROOT / "data",
        project / "data",
        ignore=shutil.ignore_patterns("site.db*", "archive", "rejects", "measurements"),
    )
    done = run(project, "--demo", "--skip-deploy", "--site", "cloudgpus", command="build-site")
    assert done.returncode == 0, done.stdout + done.stderr
    return project


@pytest.fixture
def project(base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(base, copy, symlinks=True)
    return copy


@pytest.fixture
def fake() -> Iterator[FakeNetlify]:
    with fake_netlify() as server:
        server.add_site("site-cg", "cloudgpus")
        yield server


def live(project: Path) -> Path:
    return project / "output/cloudgpus"


def staging(project: Path) -> Path:
    return project / "output/.staging/cloudgpus"


def slow_every_page(project: Path) -> None:
    """A template change that re-renders every page, each a few milliseconds slower, so a
    build is surely caught while its pages are being written."""
    footer = project / "templates/cloudgpus/_footer.html"
    footer.write_text(
        footer.read_text() + "{% for i in range(40000) %}{% endfor %}<p>Prices in USD.</p>\n"
    )


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_until(condition, timeout_s: float, interval_s: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()


def newly_written(path: Path) -> bool:
    """A staging file the build wrote itself (not a hard link to the live tree)."""
    try:
        return path.stat().st_nlink == 1
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_leaves_the_live_output_and_its_workers_die(
    project: Path, fake: FakeNetlify, signum: signal.Signals
) -> None:
    before = tree_hashes(live(project))
    slow_every_page(project)
    build = subprocess.Popen(
        [*cli(project), "build", "--site", "cloudgpus", "--jobs", "2"],
        env=environment(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # The home page is rendered first; then hundreds more follow for about a second.
        assert wait_until(lambda: newly_written(staging(project) / "index.html"), 60)
        workers = children_of(build.pid)
        assert build.poll() is None, "the build ended before it could be killed"
        build.send_signal(signum)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)
    assert workers, "the build had no worker processes to watch"
    # Workers die with their parent (they would otherwise go on writing and hold the store).
    assert wait_until(lambda: not any(alive(pid) for pid in workers), 10, 0.05), workers
    written = [p for p in staging(project).rglob("*.html") if newly_written(p)]
    assert written  # the build was killed mid-way: some new pages were written, in staging
    assert tree_hashes(live(project)) == before  # and the live output is byte-for-byte intact

    checked = run(project, "check", "--site", "cloudgpus")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "checked the live build" in checked.stdout
    deployed = run(project, "deploy", "--site", "cloudgpus", fake=fake)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    published = fake.published_files("site-cg")
    assert {p.lstrip("/"): hashlib.sha1(b).hexdigest() for p, b in published.items()} == before

    # The next build discards the half-written tree and finishes; check makes it live.
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    assert run(project, "check", "--site", "cloudgpus").returncode == 0
    assert "Prices in USD." in (live(project) / "index.html").read_text()
    assert not (project / "output/.staging").exists()


def test_a_failed_build_leaves_the_live_output_and_is_never_deployed(
    project: Path, fake: FakeNetlify
) -> None:
    before = tree_hashes(live(project))
    slow_every_page(project)
    collision = project / "content/cloudgpus/collides.md"
    guide = (project / f"content/cloudgpus/{GUIDE}.md").read_text()
    collision.write_text(guide.replace(f"slug: {GUIDE}", "slug: gpus"))
    failed = run(project, "build", "--site", "cloudgpus")
    assert failed.returncode == 1
    assert "collides.md" in failed.stderr and "gpus" in failed.stderr
    assert any(newly_written(p) for p in staging(project).rglob("*.html"))  # got far
    assert tree_hashes(live(project)) == before

    nightly = run(project, "--skip-pull", "--site", "cloudgpus", fake=fake, command="build-site")
    assert nightly.returncode == 1
    assert tree_hashes(live(project)) == before
    assert [r for r in fake.requests if r[0] != "GET"] == []  # nothing was deployed

    # A standalone deploy publishes the last checked build, never the failed one's pages.
    deployed = run(project, "deploy", "--site", "cloudgpus", fake=fake)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    published = fake.published_files("site-cg")
    assert {p.lstrip("/"): hashlib.sha1(b).hexdigest() for p, b in published.items()} == before


def test_deploy_refuses_a_build_no_check_has_sealed(project: Path, fake: FakeNetlify) -> None:
    footer = project / "templates/cloudgpus/_footer.html"
    footer.write_text(footer.read_text() + "<p>Prices in USD.</p>\n")
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    refused = run(project, "deploy", "--site", "cloudgpus", fake=fake)
    assert refused.returncode == 1
    assert "has not passed `site-builder check`" in refused.stderr
    skipped = run(
        project, "--skip-pull", "--skip-check", "--site", "cloudgpus", fake=fake,
        command="build-site",
    )  # fmt: skip
    assert skipped.returncode == 1
    assert "has not passed `site-builder check`" in skipped.stdout + skipped.stderr
    assert [r for r in fake.requests if r[0] != "GET"] == []

    checked = run(project, "check", "--site", "cloudgpus")
    assert checked.returncode == 0 and "now live" in checked.stdout, checked.stdout
    assert run(project, "deploy", "--site", "cloudgpus", fake=fake).returncode == 0
    assert b"Prices in USD." in fake.published_files("site-cg")["/index.html"]

    # A live file changed after its check: refused, and the next build repairs it.
    page = live(project) / "gpus/h100-sxm/index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace(b"</main>", b"<p>edited by hand</p></main>"))
    refused = run(project, "deploy", "--site", "cloudgpus", fake=fake)
    assert refused.returncode == 1
    assert "was not sealed by a passing `site-builder check` (or changed since)" in refused.stderr
    assert "gpus/h100-sxm/index.html" in refused.stderr
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    assert run(project, "check", "--site", "cloudgpus").returncode == 0
    assert page.read_bytes() == good
    assert run(project, "deploy", "--site", "cloudgpus", fake=fake).returncode == 0


def test_the_skip_test_compares_content_not_size(project: Path) -> None:
    page = live(project) / "gpus/h100-sxm/index.html"
    good = page.read_bytes()
    same_size = good.replace(b"<title>", b"<titlE>", 1)
    assert len(same_size) == len(good) and same_size != good
    with page.open("r+b") as handle:  # in place: same inode, same size
        handle.write(same_size)
    built = run(project, "build", "--site", "cloudgpus")
    assert built.returncode == 0, built.stderr
    assert (staging(project) / "gpus/h100-sxm/index.html").read_bytes() == good
    assert run(project, "check", "--site", "cloudgpus").returncode == 0
    assert page.read_bytes() == good


def test_pages_of_inputs_that_went_away_disappear(project: Path, fake: FakeNetlify) -> None:
    guide = project / f"content/cloudgpus/{GUIDE}.md"
    text = guide.read_text()
    extra = project / "content/cloudgpus/h100-buying-notes.md"
    extra.write_text(text.replace(f"slug: {GUIDE}", "slug: h100-buying-notes"))
    # A build with the new page completes but is never checked ...
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    assert (staging(project) / "h100-buying-notes/index.html").is_file()
    # ... the inputs return to the live build's: nothing to build, nothing of it published.
    extra.unlink()
    again = run(project, "build", "--site", "cloudgpus")
    assert again.returncode == 0 and "built in" not in again.stdout
    assert not staging(project).exists()
    assert run(project, "check", "--site", "cloudgpus").returncode == 0
    assert run(project, "deploy", "--site", "cloudgpus", fake=fake).returncode == 0
    assert "/h100-buying-notes/index.html" not in fake.published_files("site-cg")

    # A page whose input is removed from the live build is gone after the next build.
    guide.unlink()
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    checked = run(project, "check", "--site", "cloudgpus", "--force")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (live(project) / GUIDE).exists()
    sitemap = "".join(p.read_text() for p in (live(project) / "sitemaps").rglob("*.xml"))
    assert f"/{GUIDE}/" not in sitemap


def test_an_interrupted_promotion_is_finished_by_the_next_command(project: Path) -> None:
    footer = project / "templates/cloudgpus/_footer.html"
    footer.write_text(footer.read_text() + "<p>Prices in USD.</p>\n")
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    config = load_project(project / "sites.toml", available_page_kinds())
    trees = publish.trees(config, "cloudgpus")
    new = tree_hashes(trees.staging)
    # What `promote` does, cut off after its first rename (as a SIGKILL there would).
    save_seal(trees.staging_state, publish.seal_of(trees.staging))
    trees.journal.write_text("promoting\n")
    trees.previous.parent.mkdir(parents=True, exist_ok=True)
    trees.live.rename(trees.previous)
    assert not trees.live.exists()

    served = run(project, "check", "--site", "cloudgpus")
    assert served.returncode == 0, served.stdout + served.stderr
    assert "finished publishing the checked build" in served.stdout
    assert tree_hashes(trees.live) == new
    assert not trees.previous.exists() and not trees.journal.exists()
    assert not trees.staging.exists() and not trees.staging_state.exists()


def test_serve_previews_the_newest_complete_build(project: Path) -> None:
    footer = project / "templates/cloudgpus/_footer.html"
    footer.write_text(footer.read_text() + "<p>Prices in USD.</p>\n")
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    server = subprocess.Popen(
        [*cli(project), "serve", "--site", "cloudgpus", "--port", str(free_port())],
        env=environment(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert "(the newest build, not yet checked)" in line, line
    assert "output/.staging/cloudgpus" in line, line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_build_never_writes_through_to_the_live_files_it_links(project: Path) -> None:
    """Staging starts as hard links to the live files: every write path (pages, chunked
    data files, sitemaps) must replace a file, never change it in place."""
    from decimal import Decimal

    from sqlalchemy import update

    from site_builder.db import make_engine
    from site_builder.db.models import GpuOffer

    before = tree_hashes(live(project))
    engine = make_engine(f"sqlite:///{project / 'store.db'}")
    offers = GpuOffer.__table__
    with engine.begin() as connection:
        connection.execute(
            update(offers).values(price_per_gpu_usd=offers.c.price_per_gpu_usd + Decimal("0.10"))
        )
    engine.dispose()
    assert run(project, "build", "--site", "cloudgpus").returncode == 0
    staged = tree_hashes(staging(project))
    changed = {p for p in staged if staged[p] != before.get(p)}
    assert any(p.startswith(("api/", "data/")) for p in changed), sorted(changed)[:5]
    assert any(p.endswith(".html") for p in changed)
    assert tree_hashes(live(project)) == before  # nothing written through a hard link
    assert run(project, "check", "--site", "cloudgpus").returncode == 0
    assert tree_hashes(live(project)) == staged


def test_a_second_build_or_check_of_a_site_is_refused_while_one_runs(project: Path) -> None:
    """Two builds of one site would share one staging tree: the second is refused."""
    import fcntl

    lock = project / ".build-state/cloudgpus.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as a running build holds it
        refused = run(project, "build", "--site", "cloudgpus")
        checked = run(project, "check", "--site", "cloudgpus")
    assert refused.returncode == 1 and checked.returncode == 1
    assert "another build or check of this site is running" in refused.stderr
    assert "another build or check of this site is running" in checked.stderr
    assert run(project, "build", "--site", "cloudgpus").returncode == 0  # released
