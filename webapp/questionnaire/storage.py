"""Evidence files: what they are (by content, never by name) and where they are kept.

Files live outside the web root under random storage keys. `EvidenceStore` is the small interface a
backend implements; `LocalStore` (a folder, `instance/evidence/` by default) is the one shipped. The
backend is chosen by the config key `EVIDENCE_STORAGE` ("local"); an S3-compatible backend would be a
second implementation of the same three methods, selected there. It is not implemented: asking for any
other backend fails at the first use with a clear message.

Config keys: `EVIDENCE_STORAGE` ("local"), `EVIDENCE_DIR` (default `<instance>/evidence`),
`EVIDENCE_MAX_BYTES` (default: `MAX_CONTENT_LENGTH`, itself `MAX_UPLOAD_MB`, 20 MB).
"""

from __future__ import annotations

import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

# ---- what a file is ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    kind: str  # pdf | png | jpeg | docx | xlsx | pptx | doc | xls
    content_type: str
    extensions: tuple[str, ...]  # the name endings that agree with it, the first is canonical


KINDS = {
    k.kind: k
    for k in (
        FileKind("pdf", "application/pdf", (".pdf",)),
        FileKind("png", "image/png", (".png",)),
        FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg")),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
        ),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
        FileKind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            (".pptx",),
        ),
        FileKind("doc", "application/msword", (".doc",)),
        FileKind("xls", "application/vnd.ms-excel", (".xls",)),
    )
}

# The main part's content type in [Content_Types].xml names the kind of an OOXML package.
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTENT_TYPES_LIMIT = 1024 * 1024  # a [Content_Types].xml larger than this is not an Office file


def sniff(data: bytes, filename: str) -> FileKind | None:
    """The kind of file by its content; None for anything not accepted as evidence.

    An OLE2 compound file (legacy Office) does not say in its header whether it is a Word or an Excel
    file: there the name decides between .doc and .xls, and any other name is refused.
    """
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith(b"PK\x03\x04"):
        return _ooxml(data)
    if data.startswith(_OLE2):
        ext = os.path.splitext(filename.lower())[1]
        return KINDS["doc"] if ext == ".doc" else KINDS["xls"] if ext == ".xls" else None
    return None


def _ooxml(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return None
            with z.open(info) as f:
                types = f.read(_CONTENT_TYPES_LIMIT + 1).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, ValueError):
        return None
    for main, kind in _OOXML_MAIN.items():
        if main in types:
            return KINDS[kind]
    return None


def name_agrees(kind: FileKind, filename: str) -> bool:
    """False when the name's extension says another type than the content (a PNG named .pdf).
    A name without an extension agrees with anything."""
    ext = os.path.splitext(filename.lower())[1]
    return ext == "" or ext in kind.extensions


def clean_filename(filename: str, kind: FileKind) -> str:
    """The name to keep and offer on download: the last path part, no control characters, at most
    200 characters, with the canonical extension added when the name had none."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".") or "evidence"
    base, ext = os.path.splitext(name)
    if not ext:
        ext = kind.extensions[0]
    return base[: 200 - len(ext)] + ext


# ---- where it is kept -------------------------------------------------------------------------------


class EvidenceStore(Protocol):
    """A place to keep evidence files by storage key."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalStore:
    """Files in a folder outside the web root: `<root>/<first two key characters>/<key>`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or not all(ch.isalnum() or ch in "-_" for ch in key):
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def new_key() -> str:
    """A random storage key: nothing about the firm, the item or the file name."""
    return secrets.token_urlsafe(24)


def store(app: Flask | None = None) -> EvidenceStore:
    """The app's evidence store, made on first use from the config."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    existing = app.extensions.get("qready.evidence")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    backend = app.config.get("EVIDENCE_STORAGE", "local")
    if backend != "local":
        raise RuntimeError(
            f"EVIDENCE_STORAGE={backend!r} is not available: this version ships the local backend only."
        )
    root = app.config.get("EVIDENCE_DIR") or os.path.join(app.instance_path, "evidence")
    made = LocalStore(root)
    app.extensions["qready.evidence"] = made
    return made


def max_bytes(app: Flask | None = None) -> int:
    """The largest evidence file: `EVIDENCE_MAX_BYTES`, never more than a request may carry."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    limits = [app.config.get("EVIDENCE_MAX_BYTES"), app.config.get("MAX_CONTENT_LENGTH")]
    return int(min((x for x in limits if x), default=20 * 1024 * 1024))
