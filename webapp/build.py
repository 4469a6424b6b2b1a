"""The build id: names the code, templates, static files, translations and frameworks a process serves.

A page's ETag includes it, so after a deploy that changes any of them a browser's kept page is never
answered 304 again. Computed once per app (a few megabytes hashed at the first request that asks).
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from flask import Flask, current_app

ROOT = Path(__file__).resolve().parent.parent
# what a rendered page is made of: the code that computes it, the templates, the static files it
# links (their contents, so a changed script or stylesheet counts), the catalogs and the frameworks
PARTS = ("webapp", "scoring", "assessments", "templates")
SKIP_SUFFIXES = {".pyc", ".mo"}  # derived from files that are hashed (.py, .po)


def compute(root: Path = ROOT) -> str:
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    digest = hashlib.sha256(version.encode())
    for part in PARTS:
        for path in sorted((root / part).rglob("*")):
            if path.is_file() and path.suffix not in SKIP_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(path.read_bytes())
    return f"{version}-{digest.hexdigest()[:16]}"


def build_id(app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    made = app.extensions.get("qready.build_id")
    if made is None:
        made = app.extensions["qready.build_id"] = compute()
    return str(made)
