"""The deploy stage: publish a site's output folder with Netlify's digest deploy API.

Flow (docs/deploy.md): refuse a tree no passing check sealed -> hash every file (and
compare with the seal) -> create the deploy with path->sha1 (and the
functions' sha256) -> wait until Netlify has worked out which hashes it lacks -> upload one
file per required hash -> wait for `ready`. A failure cancels the deploy; running again
creates a new one, and Netlify asks only for the hashes it still does not have.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from site_builder import publish
from site_builder.config import Environment, Project
from site_builder.db.models import SiteDeploy
from site_builder.deploy.client import NetlifyClient, NetlifyError, RetryPolicy
from site_builder.deploy.functions import FunctionBundle, bundle_functions
from site_builder.deploy.indexnow import DEFAULT_ENDPOINT, IndexNowResult, changed_urls, submit
from site_builder.deploy.manifest import Manifest, build_manifest, last_manifest, upload_path
from site_builder.errors import SiteBuilderError

SYNC_FILE_LIMIT = 100  # above this, create the deploy with async: true (as Netlify's CLI does)
READY_STATES = {"prepared", "uploading", "uploaded", "ready"}
DEFAULT_TIMEOUT_S = 20 * 60


@dataclass
class DeployOptions:
    draft: bool = False
    concurrency: int = 8
    timeout_s: float = DEFAULT_TIMEOUT_S
    poll_interval_s: float = 1.0
    request_timeout_s: float = 60.0
    indexnow: bool = False
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    progress: Callable[[str, int, int], None] | None = None  # (phase, done, total)


@dataclass
class DeployResult:
    site: str
    deployed: bool
    message: str
    deploy_id: str | None = None
    url: str | None = None
    files: int = 0
    uploaded_files: int = 0
    uploaded_bytes: int = 0
    uploaded_functions: int = 0
    indexnow: IndexNowResult | None = None


def site_id_for(project: Project, env: Environment, site_name: str) -> str:
    variable = project.site(site_name).netlify_site_id_env
    site_id = env.get(variable)
    if not site_id:
        raise SiteBuilderError(f"{site_name}: set {variable} to the Netlify site id to deploy")
    return site_id


def _client(env: Environment, options: DeployOptions) -> NetlifyClient:
    assert env.netlify_auth_token
    return NetlifyClient(
        env.netlify_api_url,
        env.netlify_auth_token,
        policy=options.policy,
        timeout_s=options.request_timeout_s,
    )


def _wait_for(
    client: NetlifyClient,
    site_id: str,
    deploy: dict[str, Any],
    done: set[str],
    options: DeployOptions,
) -> dict[str, Any]:
    deadline = time.monotonic() + options.timeout_s
    while deploy.get("state") not in done:
        if deploy.get("state") == "error":
            raise NetlifyError(
                f"deploy {deploy['id']} failed: {deploy.get('error_message') or 'error'}"
            )
        if time.monotonic() > deadline:
            raise NetlifyError(
                f"deploy {deploy['id']} still {deploy.get('state')} after {options.timeout_s:.0f} s"
            )
        options.policy.sleep(options.poll_interval_s)
        deploy = client.get_deploy(site_id, deploy["id"])
    return deploy


def _upload_files(
    client: NetlifyClient,
    deploy_id: str,
    output: Path,
    manifest: Manifest,
    required: list[str],
    options: DeployOptions,
) -> tuple[int, int]:
    """Upload one file per required hash; returns (files, bytes)."""
    unknown = [sha for sha in required if sha not in manifest.by_sha]
    if unknown:
        raise NetlifyError(f"Netlify asked for {len(unknown)} hashes this deploy does not have")
    total = sum(manifest.sizes[manifest.by_sha[sha][0]] for sha in required)
    sent = [0]

    stop = threading.Event()  # set by the first failure: queued uploads then send nothing

    def upload(sha: str) -> int:
        if stop.is_set():
            return 0
        try:
            return send(sha)
        except BaseException:
            stop.set()
            raise

    def send(sha: str) -> int:
        path = manifest.by_sha[sha][0]
        data = (output / manifest.on_disk[path]).read_bytes()
        if hashlib.sha1(data, usedforsecurity=False).hexdigest() != sha:
            raise SiteBuilderError(f"{path} changed after it was hashed: rebuild, then deploy")
        client.upload_file(deploy_id, upload_path(path), data)
        sent[0] += len(data)
        if options.progress:
            options.progress("uploaded bytes", sent[0], total)
        return len(data)

    pool = ThreadPoolExecutor(max_workers=options.concurrency)
    try:
        futures = [pool.submit(upload, sha) for sha in required]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception()), None)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # nothing queued starts after a failure
            raise failed.exception()  # type: ignore[misc]
        sizes = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return len(sizes), sum(sizes)


def deploy_site(
    engine: Engine,
    project: Project,
    env: Environment,
    site_name: str,
    options: DeployOptions | None = None,
) -> DeployResult:
    options = options or DeployOptions()
    if not env.netlify_auth_token:
        return DeployResult(site_name, False, "NETLIFY_AUTH_TOKEN is not set: nothing deployed")
    site = project.site(site_name)
    site_id = site_id_for(project, env, site_name)
    site_trees = publish.trees(project, site_name)
    publish.recover_if_idle(site_trees)
    output = site_trees.live
    if not (output / "index.html").is_file():
        raise SiteBuilderError(f"{site_name}: {output} holds no built site; build it first")
    publish.refuse_unpublishable(site_trees)  # before any request
    client = _client(env, options)
    try:
        if not options.draft:
            published = client.get_site(site_id).get("published_deploy") or {}
            if published.get("locked"):
                raise SiteBuilderError(
                    f"{site_name}: production deploys are locked on Netlify (auto publishing is"
                    " stopped); unlock the published deploy in Netlify, or deploy with --draft"
                )
        report = options.progress
        manifest = build_manifest(
            output, (lambda done, total: report("files hashed", done, total)) if report else None
        )
        # What would travel is exactly what the check passed (the hashes are needed anyway).
        publish.verify_seal(
            site_trees, {manifest.on_disk[path]: sha for path, sha in manifest.files.items()}
        )
        functions: list[FunctionBundle] = []
        if site.functions_dir is not None:
            functions = bundle_functions(
                project.path(site.functions_dir),
                project.root / ".netlify" / "functions-bundle" / site_name,
                project.root,
            )
        body: dict[str, Any] = {
            "files": manifest.files,
            "draft": options.draft,
            "async": len(manifest.files) > SYNC_FILE_LIMIT,
        }
        if functions:
            body["functions"] = {f.name: f.sha256 for f in functions}
            body["functions_config"] = {f.name: f.config for f in functions}
        title = f"site_builder {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        deploy = client.create_deploy(site_id, body, title)
        try:
            deploy = _wait_for(client, site_id, deploy, READY_STATES, options)
            required = list(dict.fromkeys(deploy.get("required") or []))
            files, sent_bytes = _upload_files(
                client, deploy["id"], output, manifest, required, options
            )
            wanted = set(deploy.get("required_functions") or [])
            uploaded_functions = 0
            for bundle in functions:
                if bundle.sha256 in wanted:
                    client.upload_function(
                        deploy["id"],
                        bundle.name,
                        bundle.zip_path.read_bytes(),
                        bundle.runtime,
                        bundle.invocation_mode,
                    )
                    uploaded_functions += 1
            deploy = _wait_for(client, site_id, deploy, {"ready"}, options)
        except BaseException:
            with contextlib.suppress(Exception):  # the original failure is the one to report
                client.cancel_deploy(deploy["id"])
            raise
        previous = last_manifest(engine, site_name)
        url = (
            deploy.get("deploy_ssl_url")
            if options.draft
            else (deploy.get("ssl_url") or deploy.get("url"))
        )
        with engine.begin() as connection:
            connection.execute(
                SiteDeploy.__table__.insert().values(
                    site=site_name,
                    deploy_id=deploy["id"],
                    created_at=datetime.now(UTC),
                    draft=options.draft,
                    url=url or "",
                    files=len(manifest.files),
                    uploaded_files=files,
                    uploaded_bytes=sent_bytes,
                    manifest=manifest.files,
                )
            )
        result = DeployResult(
            site_name,
            True,
            f"{'draft ' if options.draft else ''}deploy {deploy['id']} is ready: {url}",
            deploy_id=deploy["id"],
            url=url,
            files=len(manifest.files),
            uploaded_files=files,
            uploaded_bytes=sent_bytes,
            uploaded_functions=uploaded_functions,
        )
        key = env.get("INDEXNOW_KEY")
        if options.indexnow and key and not options.draft:
            urls = changed_urls(previous, manifest.files, site.base_url)
            result.indexnow = submit(
                urls,
                base_url=site.base_url,
                key=key,
                endpoint=env.get("INDEXNOW_ENDPOINT") or DEFAULT_ENDPOINT,
            )
        return result
    finally:
        client.close()


def list_deploys(
    project: Project, env: Environment, site_name: str, limit: int = 20
) -> list[dict[str, Any]]:
    if not env.netlify_auth_token:
        raise SiteBuilderError("set NETLIFY_AUTH_TOKEN to list deploys")
    client = _client(env, DeployOptions())
    try:
        return client.list_deploys(site_id_for(project, env, site_name), per_page=limit)
    finally:
        client.close()


def rollback(
    project: Project, env: Environment, site_name: str, deploy_id: str | None = None
) -> str:
    """Publish the previous deploy (or the given one); returns what was done."""
    if not env.netlify_auth_token:
        raise SiteBuilderError("set NETLIFY_AUTH_TOKEN to roll back")
    site_id = site_id_for(project, env, site_name)
    client = _client(env, DeployOptions())
    try:
        if deploy_id:
            client.restore_deploy(site_id, deploy_id)
            return f"{site_name}: published deploy {deploy_id}"
        client.rollback(site_id)
        return f"{site_name}: rolled back to the previous deploy"
    finally:
        client.close()
