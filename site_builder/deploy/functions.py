"""Functions bundled by Netlify's own bundler (zip-it-and-ship-it, from the npm registry).

A modern (v2) function zip has Netlify's bootstrap inside; it must not be hand-rolled. We run
the bundler, read its manifest.json and derive, as Netlify's Go client does, the deploy's
``functions`` map (name -> sha256 of the zip) and ``functions_config`` (routes from
``config.path``, build data, traffic rules such as the rate limit).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from site_builder.errors import SiteBuilderError

BUNDLER = Path("node_modules/.bin/zip-it-and-ship-it")


@dataclass(frozen=True)
class FunctionBundle:
    name: str
    zip_path: Path
    sha256: str
    runtime: str
    invocation_mode: str | None
    config: dict[str, Any]


def _config_entry(entry: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "routes": entry.get("routes", []),
        "excluded_routes": entry.get("excludedRoutes", []),
        "build_data": entry.get("buildData", {}),
    }
    for source, target in (
        ("displayName", "display_name"),
        ("generator", "generator"),
        ("priority", "priority"),
        ("trafficRules", "traffic_rules"),
        ("region", "region"),
    ):
        if entry.get(source) is not None:
            config[target] = entry[source]
    return config


def read_bundle_manifest(out_dir: Path) -> list[FunctionBundle]:
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SiteBuilderError(f"{out_dir}: no readable function bundle manifest: {exc}") from None
    bundles = []
    for entry in sorted(manifest.get("functions", []), key=lambda e: e["name"]):
        zip_path = Path(entry["path"])
        data = zip_path.read_bytes()
        bundles.append(
            FunctionBundle(
                name=entry["name"],
                zip_path=zip_path,
                sha256=hashlib.sha256(data).hexdigest(),
                runtime=entry.get("runtimeVersion") or entry.get("runtime") or "js",
                invocation_mode=entry.get("invocationMode"),
                config=_config_entry(entry),
            )
        )
    return bundles


def bundle_functions(
    functions_dir: Path, out_dir: Path, project_root: Path
) -> list[FunctionBundle]:
    """Bundle every function in `functions_dir` into zips in `out_dir`."""
    if not functions_dir.is_dir():
        raise SiteBuilderError(f"functions folder {functions_dir} not found (functions_dir)")
    bundler = project_root / BUNDLER
    if not bundler.exists():
        raise SiteBuilderError(
            "Netlify's function bundler is not installed: run `npm ci` in the project root"
        )
    node = shutil.which("node")
    if node is None:
        raise SiteBuilderError("bundling functions needs Node.js (node) on the PATH")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    result = subprocess.run(
        [node, str(bundler), str(functions_dir), str(out_dir)],
        capture_output=True,
        text=True,
        cwd=project_root,
        timeout=600,
    )
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SiteBuilderError(f"function bundling failed: {last[0]}")
    return read_bundle_manifest(out_dir)
