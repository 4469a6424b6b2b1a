"""Starting an assessment, new rounds (answers and chosen evidence carried forward), discarding a
draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

import scoring
from assessments.loader import FrameworkNotFound, framework_file
from scoring.model import Framework, Item
from webapp import db
from webapp.db import utcnow
from webapp.models import (
    Answer,
    AnswerHistory,
    Assessment,
    Comment,
    Evidence,
    FactAnswer,
    SectionAssignment,
    User,
)
from webapp.questionnaire import answers, storage
from webapp.questionnaire.engine_bridge import framework_of
from webapp.questionnaire.evidence import evidence_of
from webapp.questionnaire.facts import prefill_facts


class StartError(ValueError):
    """A framework or mode that does not exist, or a round started from a draft."""


def latest_version(framework_id: str) -> str:
    try:
        return framework_file(framework_id).version
    except FrameworkNotFound as exc:
        raise StartError(str(exc)) from None


def _same(firm_id: int, framework_id: str, mode: str) -> Any:
    """The firm's assessments of a framework in a mode, the latest round first."""
    return (
        select(Assessment)
        .where(
            Assessment.firm_id == firm_id, Assessment.framework_id == framework_id, Assessment.mode == mode
        )
        .order_by(Assessment.round.desc(), Assessment.id.desc())
    )


def _next_round(previous: Assessment) -> int:
    last = db.session.scalar(
        _same(previous.firm_id, previous.framework_id, previous.mode)
        .with_only_columns(func.max(Assessment.round))
        .order_by(None)
    )
    return (last or previous.round) + 1


def start(
    firm_id: int, framework_id: str, mode: str | None, user: User, *, day: dt.date | None = None
) -> tuple[Assessment, bool]:
    """The firm's assessment of a framework in a mode: its draft if one exists, else a new round after
    its latest submitted one (answers carried forward), else round 1 with the firm's shared facts
    filled in. Returns (assessment, created)."""
    fw = framework_of(framework_id, latest_version(framework_id))
    mode = mode or fw.default_mode
    if mode not in {m.id for m in fw.modes}:
        raise StartError(f"framework {framework_id!r} has no mode {mode!r}")
    same = _same(firm_id, framework_id, mode)
    draft = db.session.scalar(same.where(Assessment.status == "draft"))
    if draft is not None:
        return draft, False
    previous = db.session.scalar(same.where(Assessment.status == "submitted"))
    if previous is not None:
        return new_round(previous, user, day=day)
    a = Assessment(
        firm_id=firm_id,
        framework_id=fw.id,
        framework_version=fw.version,
        mode=mode,
        status="draft",
        round=1,
        created_by_id=user.id,
    )
    db.session.add(a)
    db.session.flush()
    as_of = day or answers.today()
    states: dict[str, answers.AnswerState] = {}
    prefill_facts(a, fw, states, user.id, as_of)
    answers.refresh(a, day=as_of)
    return a, True


def new_round(
    previous: Assessment,
    user: User,
    *,
    day: dt.date | None = None,
    carry_evidence: Iterable[str] = (),
    store: storage.EvidenceStore | None = None,
) -> tuple[Assessment, bool]:
    """A draft that carries a submitted assessment's answers forward (round + 1), and the evidence of
    the items in `carry_evidence` (copied to keys of their own in `store`: the earlier round keeps its
    files whatever the new one does with its copies). An existing draft of the same framework and mode
    is returned instead."""
    if previous.status != "submitted":
        raise StartError("only a submitted assessment starts a new round")
    draft = draft_after(previous)
    if draft is not None:
        return draft, False
    fw = framework_of(previous.framework_id, latest_version(previous.framework_id))
    a = Assessment(
        firm_id=previous.firm_id,
        framework_id=fw.id,
        framework_version=fw.version,
        mode=previous.mode,
        status="draft",
        round=_next_round(previous),
        previous_id=previous.id,
        created_by_id=user.id,
    )
    db.session.add(a)
    db.session.flush()
    as_of = day or answers.today()
    now = utcnow()
    states: dict[str, answers.AnswerState] = {}
    history = []
    for item, old in carried_answers(previous, fw, as_of):
        narrative = old.narrative if previous.mode in item.narrative_modes else None
        version = answers.upsert_answer(
            a, item, old.value, old.na_reason, narrative, read_version=0, user_id=user.id, now=now
        )
        assert version is not None
        new = answers.AnswerState(
            item.id, old.value, old.na_reason, narrative, version, item.fact, user.id, now
        )
        states[item.id] = new
        history.append(
            answers.history_row(a, item.id, answers.AnswerState(item.id), new, user_id=user.id, now=now)
        )
    answers.write_history(history)
    prefill_facts(a, fw, states, user.id, as_of)
    carry = set(carry_evidence)
    if carry:
        assert store is not None, "carrying evidence needs the store"
        _carry_evidence(previous, a, fw, carry, store, user.id, now)
    answers.refresh(a, day=as_of)
    return a, True


def carried_answers(
    previous: Assessment, fw: Framework, as_of: dt.date
) -> list[tuple[Item, answers.AnswerState]]:
    """The answers of `previous` a new round (of framework version `fw`) starts with: those given to
    items the version still asks, that it still accepts."""
    out = []
    for old in answers.answer_states(previous.firm_id, previous.id).values():
        item = fw.item(old.item)
        if item is None or (not old.answered and old.narrative is None):
            continue
        sub = scoring.Submission(
            answers={} if old.value is None else {item.id: old.value},
            na={} if old.na_reason is None else {item.id: old.na_reason},
            mode=previous.mode,
            as_of=as_of,
        )
        if scoring.validate(fw, sub):
            continue
        out.append((item, old))
    return out


def previous_round(firm_id: int, framework_id: str, mode: str | None) -> Assessment | None:
    """The submitted assessment that starting this framework and mode would follow with a new round
    (the person confirms what it carries first); None when a draft exists or nothing was submitted."""
    same = _same(
        firm_id, framework_id, mode or framework_of(framework_id, latest_version(framework_id)).default_mode
    )
    if db.session.scalar(same.where(Assessment.status == "draft")) is not None:
        return None
    return db.session.scalar(same.where(Assessment.status == "submitted"))


def draft_after(previous: Assessment) -> Assessment | None:
    """The firm's draft of the same framework and mode as `previous`, if one exists."""
    same = _same(previous.firm_id, previous.framework_id, previous.mode)
    return db.session.scalar(same.where(Assessment.status == "draft"))


@dataclass
class RoundPlan:
    """What a new round after `previous` would start with, for the person to confirm."""

    previous: Assessment
    framework: Framework
    round: int
    answers: list[tuple[Item, answers.AnswerState]]
    evidence: dict[str, list[Any]]  # item -> the files (rows as `evidence_of` reads them)


def round_plan(previous: Assessment, *, day: dt.date | None = None) -> RoundPlan:
    fw = framework_of(previous.framework_id, latest_version(previous.framework_id))
    files = evidence_of(previous.firm_id, [previous.id])
    evidence = {item: rows for (_aid, item), rows in files.items() if fw.item(item) is not None}
    order = {item.id: n for n, item in enumerate(fw.items)}
    evidence = dict(sorted(evidence.items(), key=lambda kv: order[kv[0]]))
    carried = sorted(carried_answers(previous, fw, day or answers.today()), key=lambda x: order[x[0].id])
    return RoundPlan(previous, fw, _next_round(previous), carried, evidence)


def _carry_evidence(
    previous: Assessment,
    a: Assessment,
    fw: Framework,
    items: set[str],
    store: storage.EvidenceStore,
    user_id: int,
    now: dt.datetime,
) -> None:
    """Copies of the files `previous` has for `items`, for the new round `a`, each under its own key
    (removed again if the transaction rolls back). Uploader and upload time stay the file's own."""
    rows = db.session.scalars(
        select(Evidence)
        .where(
            Evidence.firm_id == previous.firm_id,
            Evidence.assessment_id == previous.id,
            Evidence.item_id.in_(sorted(items)),
        )
        .order_by(Evidence.uploaded_at, Evidence.id)
    ).all()
    history = []
    for old in rows:
        if fw.item(old.item_id) is None:
            continue
        key = storage.new_key()
        storage.copy(store, old.storage_key, key)
        db.after_rollback(lambda key=key: store.delete(key))  # type: ignore[misc]
        db.session.add(
            Evidence(
                firm_id=a.firm_id,
                assessment_id=a.id,
                item_id=old.item_id,
                filename=old.filename,
                content_type=old.content_type,
                size=old.size,
                sha256=old.sha256,
                storage_key=key,
                uploaded_by_id=old.uploaded_by_id,
                uploaded_at=old.uploaded_at,
            )
        )
        cur = answers.answer_states(a.firm_id, a.id, [old.item_id]).get(old.item_id) or answers.AnswerState(
            old.item_id
        )
        row = answers.history_row(a, old.item_id, cur, cur, user_id=user_id, now=now)
        history.append({**row, "evidence_action": "carried", "evidence_name": old.filename})
    db.session.flush()
    answers.write_history(history)


def discard_draft(a: Assessment, store: storage.EvidenceStore) -> bool:
    """Delete a draft with its answers, history, files, comments and assignments (False for a
    submitted assessment, which is kept). Its files go once the deletion commits; the files of other
    rounds are their own copies and stay."""
    if a.status != "draft":
        return False
    keys = list(db.session.scalars(select(Evidence.storage_key).where(Evidence.assessment_id == a.id)))
    for model in (Evidence, Comment, SectionAssignment, AnswerHistory, Answer):
        db.session.execute(delete(model).where(model.assessment_id == a.id))
    db.session.execute(
        update(FactAnswer).where(FactAnswer.source_assessment_id == a.id).values(source_assessment_id=None)
    )
    db.session.expire(a, ["answers"])
    db.session.delete(a)
    db.session.flush()
    for key in keys:
        db.after_commit(lambda key=key: store.delete(key))  # type: ignore[misc]
    return True
