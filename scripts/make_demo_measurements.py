"""Generate the demo probe batches: ``python scripts/make_demo_measurements.py [OUT] [--small]``.

`build-site --demo` does this by itself on first use; the generator is site_builder.demo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from site_builder.demo import generate
from site_builder.pull.measurements.reference import load_reference
from site_builder.pull.servers.archive import read_inventory

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0]) if args else ROOT / "data/demo/measurements"
    reference = load_reference(ROOT / "data/vpn/reference.toml")
    keys = json.loads((ROOT / "data/demo/probe-keys.json").read_text())
    inventory = read_inventory(ROOT / "data/demo/server-lists", reference)
    scale = "small" if "--small" in sys.argv else "full"
    files = generate(out, reference, keys, inventory, scale)
    print(f"wrote {len(files)} batches to {out}")
