"""The report cache: finished reports (and bulk zips) keyed by content — on disk under
`instance/report-cache/` (`ReportCache`), or with `EVIDENCE_STORAGE=s3` in the bucket beside the
evidence (`StoredReportCache`), so that every app node serves what any node rendered.

A key is the SHA-256 of everything a report shows (see `services.ReportInputs.digest`) plus the
template version, so an unchanged assessment is served from disk and any change — an answer, an
evidence file, the firm's profile, the template — makes a new key. Nothing is ever invalidated by
hand; old entries are pruned, least recently used first, when the cache grows past its size limit.
Writes are atomic (a temporary file, then `os.replace`), so concurrent workers never see half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

SUFFIXES = {"pdf": ".pdf", "html": ".html", "fragment": ".fragment.html"}


class ReportCache:
    """On this machine's disk: one node, or nodes sharing a folder."""

    def __init__(self, root: Path | str, max_bytes: int = 500 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, key: str, kind: str) -> Path:
        if not key.isalnum():
            raise ValueError("a cache key is a hex digest")
        return self.root / key[:2] / (key + SUFFIXES[kind])

    def get(self, key: str, kind: str) -> bytes | None:
        path = self.path(key, kind)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        os.utime(path)  # recently used: pruned last
        return data

    def put(self, key: str, kind: str, data: bytes) -> Path:
        path = self.path(key, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.prune()
        return path

    def get_bulk(self, job_id: str) -> bytes | None:
        try:
            return (self.root / "bulk" / f"{check_job(job_id)}.zip").read_bytes()
        except FileNotFoundError:
            return None

    def put_bulk(self, job_id: str, data: bytes) -> None:
        path = self.root / "bulk" / f"{check_job(job_id)}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def has_bulk(self, job_id: str) -> bool:
        return (self.root / "bulk" / f"{check_job(job_id)}.zip").is_file()

    def entries(self) -> list[tuple[float, int, Path]]:
        out: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return out
        for sub in self.root.iterdir():
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub):
                if entry.is_file() and not entry.name.startswith(".tmp-"):
                    st = entry.stat()
                    out.append((st.st_mtime, st.st_size, Path(entry.path)))
        return out

    def prune(self) -> int:
        """Remove the least recently used entries until the cache fits `max_bytes`; return how many."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed


def check_job(job_id: str) -> str:
    if not job_id or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in job_id):
        raise ValueError("not a job id")
    return job_id


class StoredReportCache:
    """In object storage (an `EvidenceStore` with its own prefix): every node sees every entry.

    Objects are written whole (S3 PUTs are atomic), so no reader sees half a report. Old entries are
    not pruned by the app: give the prefix a lifecycle rule in the bucket (docs/deploy.md)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, key: str, kind: str) -> bytes | None:
        if not key.isalnum() or kind not in SUFFIXES:
            raise ValueError("a cache key is a hex digest")
        try:
            return bytes(self.store.get(f"{key}-{kind}"))
        except FileNotFoundError:
            return None

    def put(self, key: str, kind: str, data: bytes) -> None:
        if not key.isalnum() or kind not in SUFFIXES:
            raise ValueError("a cache key is a hex digest")
        self.store.put(f"{key}-{kind}", data)

    def get_bulk(self, job_id: str) -> bytes | None:
        try:
            return bytes(self.store.get(f"bulk-{check_job(job_id)}"))
        except FileNotFoundError:
            return None

    def put_bulk(self, job_id: str, data: bytes) -> None:
        self.store.put(f"bulk-{check_job(job_id)}", data)

    def has_bulk(self, job_id: str) -> bool:
        return self.get_bulk(job_id) is not None
