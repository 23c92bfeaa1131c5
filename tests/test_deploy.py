"""Deploying by digest against a faithful local fake of Netlify's API (tests/fake_netlify.py)."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from site_builder.cli import build_site, main
from site_builder.config import Environment, load_project
from site_builder.db import make_engine
from site_builder.db.models import GpuOffer
from site_builder.deploy import DeployOptions, deploy_site
from site_builder.deploy.client import NetlifyError, RetryPolicy
from site_builder.deploy.manifest import build_manifest
from site_builder.errors import SiteBuilderError
from site_builder.sites import available_page_kinds
from tests.fake_netlify import TOKEN, FakeNetlify, fake_netlify
from tests.local_http import serve

ROOT = Path(__file__).resolve().parent.parent
HAS_BUNDLER = (ROOT / "node_modules/.bin/zip-it-and-ship-it").exists() and shutil.which("node")


@pytest.fixture
def fake() -> Iterator[FakeNetlify]:
    with fake_netlify() as server:
        server.add_site("site-cg", "cloudgpus")
        server.add_site("site-vpn", "bestvpnserver")
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def env_for(fake: FakeNetlify, **extra: str) -> Environment:
    return Environment.from_mapping(
        {
            "NETLIFY_AUTH_TOKEN": TOKEN,
            "NETLIFY_API_URL": fake.base_url,
            "NETLIFY_SITE_ID_CLOUDGPUS": "site-cg",
            "NETLIFY_SITE_ID_BESTVPNSERVER": "site-vpn",
            **extra,
        }
    )


def deploy(project_dir: Path, fake: FakeNetlify, site: str = "cloudgpus", **options):
    project = load_project(project_dir / "sites.toml", available_page_kinds())
    engine = make_engine(f"sqlite:///{project_dir / 'store.db'}")
    sleeps = Sleeps()
    options.setdefault("policy", RetryPolicy(sleep=sleeps))
    try:
        result = deploy_site(
            engine,
            project,
            env_for(fake, **options.pop("env", {})),
            site,
            DeployOptions(poll_interval_s=0, **options),
        )
    finally:
        engine.dispose()
    return result, sleeps


def reseal(project_dir: Path, site: str = "cloudgpus") -> None:
    """Seal a live tree a test changed on purpose (deploy refuses a changed tree otherwise)."""
    from site_builder.publish import seal_live

    seal_live(load_project(project_dir / "sites.toml", available_page_kinds()), site)


def distinct_shas(output: Path) -> set[str]:
    return set(build_manifest(output).by_sha)


def test_first_deploy_uploads_each_distinct_file_once_and_publishes_it(
    built: Path, fake: FakeNetlify
) -> None:
    output = built / "output/cloudgpus"
    css = next((output / "assets").glob("site.*.css"))
    shutil.copy(css, output / "assets" / "copy-of-site.css")  # same bytes, second path
    reseal(built)
    result, _ = deploy(built, fake)
    assert result.deployed and result.url == "https://cloudgpus.netlify.app"
    shas = [sha for _, _, sha in fake.uploads]
    assert len(shas) == len(set(shas)) == len(distinct_shas(output))
    assert result.files == len(list(p for p in output.rglob("*") if p.is_file()))
    published = fake.published_files("site-cg")
    assert published["/index.html"] == (output / "index.html").read_bytes()
    assert published["/assets/copy-of-site.css"] == css.read_bytes()
    assert "/_headers" in published and "/_redirects" in published


def test_an_unchanged_second_deploy_uploads_nothing(built: Path, fake: FakeNetlify) -> None:
    deploy(built, fake)
    before = len(fake.uploads)
    result, _ = deploy(built, fake)
    assert result.deployed and result.uploaded_files == 0
    assert len(fake.uploads) == before
    assert fake.sites["site-cg"].published == result.deploy_id


def test_after_a_price_change_only_changed_files_upload(built: Path, fake: FakeNetlify) -> None:
    deploy(built, fake)
    output = built / "output/cloudgpus"
    before = build_manifest(output).files
    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    with engine.begin() as connection:
        offers = GpuOffer.__table__
        connection.execute(
            update(offers)
            .where(offers.c.instance_type == "gpu_1x_gh200")
            .values(
                instance_price_usd=offers.c.instance_price_usd + Decimal("0.10"),
                price_per_gpu_usd=offers.c.price_per_gpu_usd + Decimal("0.10"),
            )
        )
    engine.dispose()
    rebuilt = CliRunner().invoke(
        build_site,
        [
            "--config",
            str(built / "sites.toml"),
            "--skip-pull",
            "--skip-deploy",
            "--site",
            "cloudgpus",
        ],
        env={"DATABASE_URL": f"sqlite:///{built / 'store.db'}"},
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    after = build_manifest(output).files
    changed = {p for p in after if before.get(p) != after[p]}
    assert "/gpus/gh200/index.html" in changed and len(changed) < len(after) / 2
    uploads_before = len(fake.uploads)
    result, _ = deploy(built, fake)
    assert {path for _, path, _ in fake.uploads[uploads_before:]} == changed
    assert result.uploaded_files == len(changed)


def test_async_deploys_wait_for_prepared(built: Path, fake: FakeNetlify, monkeypatch) -> None:
    monkeypatch.setattr("site_builder.deploy.SYNC_FILE_LIMIT", 5)
    result, _ = deploy(built, fake)
    assert result.deployed
    polls = [path for method, path in fake.requests if method == "GET" and "/deploys/" in path]
    assert len(polls) >= fake.prepare_polls + 1


def test_an_interrupted_deploy_completes_on_rerun_without_resending(
    built: Path, fake: FakeNetlify
) -> None:
    fake.fail_uploads_after = 5
    with pytest.raises(NetlifyError, match="simulated crash"):
        deploy(built, fake, concurrency=1)
    first_deploy = next(iter(fake.deploys.values()))
    assert first_deploy["state"] == "canceled"
    sent_first = {sha for _, _, sha in fake.uploads}
    assert len(sent_first) == 5
    fake.fail_uploads_after = None
    result, _ = deploy(built, fake)
    sent_second = [sha for deploy_id, _, sha in fake.uploads if deploy_id == result.deploy_id]
    assert not sent_first & set(sent_second)  # nothing that arrived is sent again
    assert sent_first | set(sent_second) == distinct_shas(built / "output/cloudgpus")
    assert fake.sites["site-cg"].published == result.deploy_id


def test_rate_limits_server_errors_and_timeouts_are_retried(built: Path, fake: FakeNetlify) -> None:
    fake.inject("POST", r"/sites/site-cg/deploys$", "502")
    fake.inject("PUT", r"/files/", "429", times=2)
    fake.inject("PUT", r"/files/", "408")
    fake.inject("GET", r"/deploys/", "502")
    fake.slow_s = 1.0
    fake.inject("PUT", r"/files/index\.html", "slow")
    result, sleeps = deploy(built, fake, request_timeout_s=0.5, concurrency=2)
    assert result.deployed
    assert fake.sites["site-cg"].published == result.deploy_id
    assert sum(1 for s in sleeps if s >= 1.0) >= 2  # waited for X-RateLimit-Reset
    assert len(sleeps) >= 6
    assert len(fake.deploys) == 1  # retries never create a second deploy


def test_400_is_not_retried_and_the_deploy_is_cancelled(built: Path, fake: FakeNetlify) -> None:
    fake.inject("PUT", r"/files/", "400")
    with pytest.raises(NetlifyError, match="400 injected failure"):
        deploy(built, fake, concurrency=1)
    puts = [path for method, path in fake.requests if method == "PUT"]
    assert len(puts) == 1
    assert next(iter(fake.deploys.values()))["state"] == "canceled"


def test_a_wrong_token_is_a_credentials_error(built: Path, fake: FakeNetlify) -> None:
    project = load_project(built / "sites.toml", available_page_kinds())
    env = Environment.from_mapping(
        {
            "NETLIFY_AUTH_TOKEN": "wrong",
            "NETLIFY_API_URL": fake.base_url,
            "NETLIFY_SITE_ID_CLOUDGPUS": "site-cg",
        }
    )
    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    with pytest.raises(NetlifyError, match="Netlify refused the token"):
        deploy_site(
            engine, project, env, "cloudgpus", DeployOptions(policy=RetryPolicy(sleep=Sleeps()))
        )


def test_a_locked_site_is_refused_but_a_draft_still_works(built: Path, fake: FakeNetlify) -> None:
    first, _ = deploy(built, fake)
    fake.sites["site-cg"].locked = True
    with pytest.raises(SiteBuilderError, match="production deploys are locked"):
        deploy(built, fake)
    draft, _ = deploy(built, fake, draft=True)
    assert draft.deployed and draft.url == f"https://{draft.deploy_id}--cloudgpus.netlify.app"
    assert fake.sites["site-cg"].published == first.deploy_id


@pytest.mark.parametrize(
    ("name", "message"),
    [("Upper.html", "upper-case"), ("a#b.txt", "# or ?"), ("what?.txt", "# or ?")],
)
def test_bad_file_names_are_refused_before_any_request(
    built: Path, fake: FakeNetlify, name, message
) -> None:
    (built / "output/cloudgpus" / name).write_text("x")
    with pytest.raises(SiteBuilderError, match=message):
        deploy(built, fake)
    assert [r for r in fake.requests if r[0] != "GET"] == []


def test_unicode_names_are_nfc_and_percent_encoded(built: Path, fake: FakeNetlify) -> None:
    decomposed = unicodedata.normalize("NFD", "café-ü.txt")
    (built / "output/cloudgpus" / decomposed).write_text("bonjour")
    reseal(built)
    result, _ = deploy(built, fake)
    assert result.deployed
    assert fake.published_files("site-cg")["/café-ü.txt"] == b"bonjour"


@pytest.mark.skipif(not HAS_BUNDLER, reason="needs `npm ci` (Netlify's function bundler) and node")
def test_the_tools_function_is_bundled_and_uploaded_once(built: Path, fake: FakeNetlify) -> None:
    result, _ = deploy(built, fake, site="bestvpnserver")
    assert result.uploaded_functions == 1
    [(deploy_id, name, _retry, query)] = fake.function_uploads
    assert (
        name == "tools"
        and query["runtime"] == ["nodejs24.x"]
        and query["invocation_mode"] == ["stream"]
    )
    config = fake.deploys[deploy_id]["_functions_config"]["tools"]
    assert config["routes"][0]["pattern"] == "/api/tools/*"
    assert config["traffic_rules"]["action"]["type"] == "rate_limit"
    again, _ = deploy(built, fake, site="bestvpnserver")
    assert again.uploaded_functions == 0 and len(fake.function_uploads) == 1


def test_deploy_list_and_rollback_from_the_cli(built: Path, fake: FakeNetlify) -> None:
    first, _ = deploy(built, fake)
    (built / "output/cloudgpus/robots.txt").write_text("User-agent: *\nAllow: /\n")
    reseal(built)
    second, _ = deploy(built, fake)
    env = {
        "NETLIFY_AUTH_TOKEN": TOKEN,
        "NETLIFY_API_URL": fake.base_url,
        "NETLIFY_SITE_ID_CLOUDGPUS": "site-cg",
        "DATABASE_URL": f"sqlite:///{built / 'store.db'}",
    }
    config = ["--config", str(built / "sites.toml")]
    listing = CliRunner().invoke(main, [*config, "deploy", "list", "--site", "cloudgpus"], env=env)
    assert listing.exit_code == 0, listing.output
    assert first.deploy_id in listing.output and second.deploy_id in listing.output
    rolled = CliRunner().invoke(
        main, [*config, "deploy", "rollback", "--site", "cloudgpus"], env=env
    )
    assert rolled.exit_code == 0, rolled.output
    assert "rolled back to the previous deploy" in rolled.output
    assert fake.sites["site-cg"].published == first.deploy_id


def test_indexnow_gets_only_the_changed_urls(built: Path, fake: FakeNetlify) -> None:
    received = []

    def indexnow(request):
        received.append(request)
        return 202, {}, b""

    key = "a1b2c3d4e5f6a7b8"
    rebuilt = CliRunner().invoke(
        build_site,
        ["--config", str(built / "sites.toml"), "--skip-pull", "--skip-deploy"],
        env={"DATABASE_URL": f"sqlite:///{built / 'store.db'}", "INDEXNOW_KEY": key},
    )
    assert rebuilt.exit_code == 0
    assert (built / f"output/cloudgpus/{key}.txt").read_text() == key
    with serve({"/indexnow": indexnow}) as server:
        extra = {"INDEXNOW_KEY": key, "INDEXNOW_ENDPOINT": server.base_url + "/indexnow"}
        deploy(built, fake, indexnow=True, env=extra)
        page = built / "output/cloudgpus/gpus/a10/index.html"
        page.write_bytes(page.read_bytes().replace(b"</main>", b"<p>changed</p></main>"))
        reseal(built)
        result, _ = deploy(built, fake, indexnow=True, env=extra)
    import json

    last = json.loads(received[-1].body)
    assert last["urlList"] == ["https://cloudgpus.io/gpus/a10/"]
    assert last["key"] == key and last["keyLocation"] == f"https://cloudgpus.io/{key}.txt"
    assert last["host"] == "cloudgpus.io"
    assert result.indexnow is not None and result.indexnow.failures == []


def test_a_file_changed_after_hashing_stops_the_deploy(built: Path, fake: FakeNetlify) -> None:
    page = built / "output/cloudgpus/index.html"

    def tamper(phase: str, done: int, total: int) -> None:
        if phase == "files hashed" and done == total:
            page.write_text(page.read_text() + "<!-- late edit -->")

    with pytest.raises(SiteBuilderError, match="changed after it was hashed"):
        deploy(built, fake, progress=tamper, concurrency=1)
    assert next(iter(fake.deploys.values()))["state"] == "canceled"


def test_a_sha_mismatch_is_422_and_not_retried(built: Path, fake: FakeNetlify) -> None:
    from site_builder.deploy.client import NetlifyClient

    client = NetlifyClient(fake.base_url, TOKEN, policy=RetryPolicy(sleep=Sleeps()))
    created = client.create_deploy("site-cg", {"files": {"/a.txt": "a" * 40}}, "t")
    with pytest.raises(NetlifyError, match=r"422 Uploaded file /a\.txt did not match deploy"):
        client.upload_file(created["id"], "a.txt", b"other bytes")
    with pytest.raises(NetlifyError, match=r"422 Missing entry in deploy for /b\.txt"):
        client.upload_file(created["id"], "b.txt", b"x")
    assert client.retries == 0
    client.close()


def test_indexnow_batches_hold_at_most_10000_urls() -> None:
    from site_builder.deploy.indexnow import submit

    sizes = []

    def indexnow(request):
        import json

        sizes.append(len(json.loads(request.body)["urlList"]))
        return 200, {}, b""

    with serve({"/indexnow": indexnow}) as server:
        urls = [f"https://cloudgpus.io/p/{n}/" for n in range(25_001)]
        result = submit(
            urls,
            base_url="https://cloudgpus.io",
            key="k" * 8,
            endpoint=server.base_url + "/indexnow",
        )
    assert sizes == [10_000, 10_000, 5_001] and result.failures == []


def test_db_maintain_empties_old_manifests_but_keeps_the_guards_baseline(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from site_builder.db.maintain import prune_manifests
    from site_builder.db.models import SiteDeploy
    from site_builder.deploy import last_manifest

    table = SiteDeploy.__table__
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for night in range(6):  # one production deploy, then five drafts, then another site
            connection.execute(
                table.insert().values(
                    site="cloudgpus",
                    deploy_id=f"d{night}",
                    created_at=start + timedelta(days=night),
                    draft=night > 0,
                    files=1,
                    uploaded_files=1,
                    uploaded_bytes=10,
                    manifest={"/index.html": f"{night:040d}"},
                )
            )
        connection.execute(
            table.insert().values(
                site="bestvpnserver",
                deploy_id="v0",
                created_at=start,
                files=1,
                uploaded_files=1,
                uploaded_bytes=10,
                manifest={"/index.html": "f" * 40},
            )
        )
    assert prune_manifests(engine, keep=2) == 3  # d1, d2, d3 (d0 is the last production)
    assert prune_manifests(engine, keep=2) == 0  # nothing left to empty
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.deploy_id, table.c.manifest)).all()
    kept = {deploy_id for deploy_id, manifest in rows if manifest}
    assert kept == {"d0", "d4", "d5", "v0"} and len(rows) == 7  # rows and figures stay
    assert last_manifest(engine, "cloudgpus") == {"/index.html": "0" * 40}
