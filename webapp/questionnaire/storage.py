"""Evidence files: what they are (by content, never by name) and where they are kept.

Files are kept under random storage keys, never in the web root, and are only ever served through the
app's download route (which checks access). `EvidenceStore` is the small interface a backend implements
(put, get, delete by key); the config key `EVIDENCE_STORAGE` chooses one:

- "local" (the default): `LocalStore`, a folder, `instance/evidence/` unless `EVIDENCE_DIR` says otherwise.
- "s3": `S3Store`, a bucket on AWS S3 or another S3-compatible service (MinIO, ...) through boto3.
  Keys: `S3_BUCKET`, `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` (all required), `S3_ENDPOINT_URL`
  (unset: AWS; set: path-style requests), `S3_REGION` ("us-east-1"), `S3_PREFIX` ("evidence/", put before
  every object key). The credentials are passed to the client: boto3 never searches its credential chain
  or instance metadata. Objects are private (no ACL is sent) and stored as application/octet-stream.

An unknown backend, or "s3" without its bucket or credentials, stops the app at start-up
(`config.ConfigError` naming the missing key). Reading a key that is not there raises
`FileNotFoundError` from either backend.

Other config keys: `EVIDENCE_MAX_BYTES` (default: `MAX_CONTENT_LENGTH`, itself `MAX_UPLOAD_MB`, 20 MB).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from webapp import config

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


# What a browser or a mail client could take for a web page or a script. Browsers sniff the first 512
# bytes for HTML; a file whose first kilobyte holds one of these is refused whatever its magic bytes.
_START_REGION = 1024
_MARKUP = re.compile(rb"<\s*(?:html|script|body|head|iframe|svg|!doctype|\?xml-stylesheet)", re.IGNORECASE)

# A PDF: the header, at least one indirect object ("1 0 obj"), and the trailer's "startxref" and
# "%%EOF" within the last kilobyte (ISO 32000: the trailer ends the file; padding after it is ignored).
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_PDF_TAIL = 1024

# An Office (OOXML) file: a zip that names at most this many members and inflates, by the sizes its
# central directory declares (which every reader follows), to at most this many bytes in all.
OOXML_MAX_MEMBERS = 5000
OOXML_MAX_INFLATED = 256 * 1024 * 1024


def sniff(data: bytes, filename: str) -> FileKind | None:
    """The kind of file by its content and structure; None for anything not accepted as evidence.

    The first bytes alone do not make a file: a PDF must have PDF objects and a trailer, an Office
    file the parts its content types name, within bounds (a zip bomb is refused), and no file may start
    like a web page (an HTML page behind a `%PDF-` header is refused).

    An OLE2 compound file (legacy Office) does not say in its header whether it is a Word or an Excel
    file: there the name decides between .doc and .xls, and any other name is refused.
    """
    if _MARKUP.search(data[:_START_REGION]):
        return None
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"] if _is_pdf(data) else None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"] if data[12:16] == b"IHDR" else None
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith(b"PK\x03\x04"):
        return _ooxml(data)
    if data.startswith(_OLE2):
        ext = os.path.splitext(filename.lower())[1]
        return KINDS["doc"] if ext == ".doc" else KINDS["xls"] if ext == ".xls" else None
    return None


def _is_pdf(data: bytes) -> bool:
    if not _PDF_HEADER.match(data):
        return False
    tail = data.rstrip(b"\0\t\n\f\r ")[-_PDF_TAIL:]
    return tail.endswith(b"%%EOF") and b"startxref" in tail and _PDF_OBJECT.search(data) is not None


_OVERRIDE = re.compile(rb"<Override\b[^>]*>")
_ATTR = re.compile(rb'(PartName|ContentType)\s*=\s*"([^"]*)"')


def _ooxml(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
            names = [m.filename for m in members]
            if (
                len(members) > OOXML_MAX_MEMBERS
                or len(set(names)) != len(names)  # two members of one name: readers differ on which
                or sum(m.file_size for m in members) > OOXML_MAX_INFLATED
            ):
                return None
            info = z.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return None
            with z.open(info) as f:
                types = f.read(_CONTENT_TYPES_LIMIT + 1)
            # the main part the content types name must be there, and be read to its end (its CRC checked)
            for tag in _OVERRIDE.findall(types):
                attrs = dict(_ATTR.findall(tag))
                kind = _OOXML_MAIN.get(attrs.get(b"ContentType", b"").decode("utf-8", "replace"))
                if kind is None:
                    continue
                part = attrs.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/")
                with z.open(z.getinfo(part)) as f:
                    while f.read(1024 * 1024):
                        pass
                return KINDS[kind]
    # RuntimeError also covers an encrypted member and an unsupported compression method
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError, zlib.error):
        return None
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


def check_key(key: str) -> str:
    """A storage key as `new_key` makes them (letters, digits, - and _), else ValueError: no path
    separators, dots or anything else a key could use to point elsewhere."""
    if not key or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in key):
        raise ValueError(f"bad storage key {key!r}")
    return key


class LocalStore:
    """Files in a folder outside the web root: `<root>/<first two key characters>/<key>`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        check_key(key)
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

    def copy(self, key: str, new_key: str) -> None:
        """The file under a second key: a hard link (no bytes copied; removing either name leaves the
        other), or a copy where the folder cannot link."""
        src, dst = self._path(key), self._path(new_key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except FileNotFoundError:
            raise
        except OSError:
            self.put(new_key, src.read_bytes())


class S3Store:
    """Objects in a bucket of an S3-compatible service: `<prefix><key>`, private, served only through
    the app.

    The client gets its credentials, region and endpoint from here, never from boto3's search (the
    environment, ~/.aws, instance metadata). With an endpoint (MinIO and the like) it uses path-style
    addresses, and it sends checksums only where the S3 API requires them: many S3-compatible services
    refuse the newer default ones.
    """

    def __init__(
        self,
        bucket: str,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        prefix: str = "evidence/",
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self.client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                ignore_configured_endpoint_urls=True,  # S3_ENDPOINT_URL only, never AWS_ENDPOINT_URL
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> S3Store:
        config.check_evidence_storage({**cfg, "EVIDENCE_STORAGE": "s3"})
        return cls(
            cfg["S3_BUCKET"],
            access_key_id=cfg["S3_ACCESS_KEY_ID"],
            secret_access_key=cfg["S3_SECRET_ACCESS_KEY"],
            region=cfg.get("S3_REGION") or "us-east-1",
            endpoint_url=cfg.get("S3_ENDPOINT_URL") or None,
            prefix=cfg.get("S3_PREFIX", "evidence/") or "",
        )

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        name = self.object_key(key)
        self.client.put_object(
            Bucket=self.bucket, Key=name, Body=data, ContentType="application/octet-stream"
        )

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        name = self.object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "NotFound", "404"}:
                raise FileNotFoundError(f"s3://{self.bucket}/{name}") from exc
            raise
        with response["Body"] as body:
            return body.read()  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        name = self.object_key(key)
        self.client.delete_object(Bucket=self.bucket, Key=name)  # a missing key is fine, as for a file

    def copy(self, key: str, new_key: str) -> None:
        """The object under a second key, copied by the service itself (the bytes never pass the app)."""
        from botocore.exceptions import ClientError

        source = {"Bucket": self.bucket, "Key": self.object_key(key)}
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self.object_key(new_key),
                CopySource=source,
                ContentType="application/octet-stream",
                MetadataDirective="REPLACE",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "NotFound", "404"}:
                raise FileNotFoundError(f"s3://{self.bucket}/{source['Key']}") from exc
            raise


def copy(store: EvidenceStore, key: str, new_key: str) -> None:
    """Keep the file stored under `key` under `new_key` as well, as an object of its own: deleting
    either key leaves the other. A backend without its own `copy` reads the file and stores it again."""
    own = getattr(store, "copy", None)
    if own is not None:
        own(key, new_key)
    else:
        store.put(new_key, store.get(key))


def new_key() -> str:
    """A random storage key: nothing about the firm, the item or the file name."""
    return secrets.token_urlsafe(24)


def store(app: Flask | None = None) -> EvidenceStore:
    """The app's evidence store, made on first use from the config."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    existing = app.extensions.get("qready.evidence")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    config.check_evidence_storage(app.config)  # again: the config may have changed since start-up
    made: EvidenceStore
    if app.config.get("EVIDENCE_STORAGE") == "s3":
        made = S3Store.from_config(app.config)
    else:
        root = app.config.get("EVIDENCE_DIR") or os.path.join(app.instance_path, "evidence")
        made = LocalStore(root)
    app.extensions["qready.evidence"] = made
    return made


def max_bytes(app: Flask | None = None) -> int:
    """The largest evidence file: `EVIDENCE_MAX_BYTES`, never more than a request may carry."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    limits = [app.config.get("EVIDENCE_MAX_BYTES"), app.config.get("MAX_CONTENT_LENGTH")]
    return int(min((x for x in limits if x), default=20 * 1024 * 1024))
