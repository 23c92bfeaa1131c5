"""Which files of an output tree a deploy publishes: the rule Netlify's own clients follow.

The render stage (is a tree empty?), publishing (what a seal covers) and deploy (what is
hashed and uploaded) all need the same answer, so it lives here, importing nothing.
"""

from __future__ import annotations

import os
from pathlib import Path


def _skipped(relative: str) -> bool:
    """Files Netlify's clients never deploy: dotfiles (but .well-known) and macOS litter."""
    for part in relative.split("/"):
        if part.startswith(".") and part != ".well-known":
            return True
        if part.startswith("__MACOSX"):
            return True
    return False


def deployable_files(root: Path) -> list[str]:
    """Deployable files under root as sorted POSIX relative paths (scandir: no relpath cost).
    The seal of a checked tree covers exactly these files (site_builder/publish.py)."""
    found: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if _skipped(relative):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append((relative + "/", entry.path))
                elif entry.is_file():
                    found.append(relative)
    return sorted(found)
