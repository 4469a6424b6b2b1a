"""Evidence files: checked by content (`storage.sniff`), kept for one item of a draft, removed, listed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from webapp import db, tenancy
from webapp.db import utcnow
from webapp.models import Assessment, Evidence, User
from webapp.questionnaire import answers, storage


@dataclass(frozen=True)
class EvidenceRefused:
    code: str  # read_only | unknown_item | empty | too_large | bad_type | name_mismatch
    kind: storage.FileKind | None = None  # for name_mismatch: what the content really is


def add_evidence(
    a: Assessment,
    item_id: str,
    filename: str,
    data: bytes,
    user: User,
    store: storage.EvidenceStore,
    *,
    max_bytes: int,
) -> Evidence | EvidenceRefused:
    """Check a file by its content and keep it for one item of a draft. The assessment's score is
    refreshed (evidence lifts the cap on items that require it)."""
    if a.status != "draft":
        return EvidenceRefused("read_only")
    if answers.framework(a).item(item_id) is None:
        return EvidenceRefused("unknown_item")
    if not data:
        return EvidenceRefused("empty")
    if len(data) > max_bytes:
        return EvidenceRefused("too_large")
    kind = storage.sniff(data, filename)
    if kind is None:
        return EvidenceRefused("bad_type")
    if not storage.name_agrees(kind, filename):
        return EvidenceRefused("name_mismatch", kind)
    key = storage.new_key()
    store.put(key, data)
    db.after_rollback(lambda: store.delete(key))  # the row did not make it: no file without a row
    ev = Evidence(
        firm_id=a.firm_id,
        assessment_id=a.id,
        item_id=item_id,
        filename=storage.clean_filename(filename, kind),
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by_id=user.id,
    )
    db.session.add(ev)
    db.session.flush()
    a.updated_at = utcnow()
    _evidence_history(a, item_id, "added", ev.filename, user.id, a.updated_at)
    answers.refresh(a)
    return ev


def _evidence_history(
    a: Assessment, item_id: str, action: str, filename: str, user_id: int | None, now: dt.datetime
) -> None:
    """A file added to or removed from an item's evidence, in the item's history (the answer as it is)."""
    cur = answers.answer_states(a.firm_id, a.id, [item_id]).get(item_id) or answers.AnswerState(item_id)
    row = answers.history_row(a, item_id, cur, cur, user_id=user_id, now=now)
    answers.write_history([{**row, "evidence_action": action, "evidence_name": filename}])


def delete_evidence(
    a: Assessment, ev: Evidence, store: storage.EvidenceStore, user: User | None = None
) -> bool:
    """Remove a file from a draft (False for a submitted assessment, which keeps its evidence)."""
    if a.status != "draft" or ev.assessment_id != a.id:
        return False
    key = ev.storage_key
    db.session.delete(ev)
    db.session.flush()
    db.after_commit(lambda: store.delete(key))  # only once the row is gone for good
    a.updated_at = utcnow()
    _evidence_history(a, ev.item_id, "removed", ev.filename, user.id if user else None, a.updated_at)
    answers.refresh(a)
    return True


_FILES = (
    select(
        Evidence.id,
        Evidence.assessment_id,
        Evidence.item_id,
        Evidence.filename,
        Evidence.content_type,
        Evidence.size,
        Evidence.uploaded_by_id,
        Evidence.uploaded_at,
        Evidence.sha256,
    )
    .where(Evidence.assessment_id.in_(bindparam("ids", expanding=True)))
    .order_by(Evidence.uploaded_at, Evidence.id)
)


def evidence_of(firm_id: int, assessment_ids: Iterable[int]) -> dict[tuple[int, str], list[Any]]:
    """The files of some of a firm's assessments by (assessment, item): rows with the Evidence columns."""
    out: dict[tuple[int, str], list[Any]] = {}
    ids = list(assessment_ids)
    if not ids:
        return out
    for ev in tenancy.execute(firm_id, _FILES, {"ids": ids}):
        out.setdefault((ev.assessment_id, ev.item_id), []).append(ev)
    return out
