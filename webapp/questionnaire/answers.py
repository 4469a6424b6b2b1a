"""Answers as stored: the values a save deals in, the read model (answers, the firm's profile, the
items with evidence), scoring what is stored, and the write primitives of the one save path
(`webapp.questionnaire.save`): the conditional upsert, the history row and the assessment's lock.

Functions with explicit arguments that return values. They flush but never commit; they do not read
the request.

Reads and writes run with SQLAlchemy Core through `tenancy.execute(firm_id, ...)`, which names the
firm in every statement: each reader takes the firm and the object's id, and with firm A in context
an id of firm B's reads nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

import scoring
from scoring.model import Framework, Item
from webapp import db, tenancy
from webapp.db import utcnow
from webapp.models import Answer, AnswerHistory, Assessment, Evidence, User
from webapp.orgs.services import FirmProfile, profile_facts
from webapp.questionnaire.engine_bridge import framework_of, submission, summary

TIMEZONE = ZoneInfo("Asia/Shanghai")
TEXT_MAX = 10_000  # characters of a text answer
NARRATIVE_MAX = 20_000  # characters of a written self-evaluation
NA_REASON_MAX = 2_000


def today() -> dt.date:
    """The scoring date: today in Zhejiang."""
    return dt.datetime.now(TIMEZONE).date()


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final[Any] = _Unset()


# ---- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChange:
    """What to change in one answer; a field left UNSET stays as it is.

    `value`: the JSON value (None clears the answer; answering withdraws a not-applicable declaration).
    `na_reason`: a string declares the item not applicable with that justification (it must not be
    blank; the answer is withdrawn); None withdraws the declaration. `narrative`: the written
    self-evaluation (full mode), None or "" clears it.
    """

    value: Any = UNSET
    na_reason: Any = UNSET
    narrative: Any = UNSET


def changes_from(
    answers: Mapping[str, Any] | None = None,
    na: Mapping[str, Any] | None = None,
    narratives: Mapping[str, Any] | None = None,
) -> dict[str, ItemChange]:
    """Changes in the JSON API's shape: `{"answers": {...}, "na": {...}, "narratives": {...}}`."""
    out: dict[str, dict[str, Any]] = {}
    for key, mapping in (("value", answers), ("na_reason", na), ("narrative", narratives)):
        for item_id, v in (mapping or {}).items():
            out.setdefault(str(item_id), {})[key] = v
    return {k: ItemChange(**v) for k, v in out.items()}


@dataclass(frozen=True)
class AnswerState:
    """One stored answer (version 0: never answered)."""

    item: str
    value: Any = None
    na_reason: str | None = None
    narrative: str | None = None
    version: int = 0
    fact: str | None = None
    updated_by_id: int | None = None
    updated_at: dt.datetime | None = None

    @property
    def answered(self) -> bool:
        return self.value is not None or self.na_reason is not None


@dataclass(frozen=True)
class ItemError:
    """Why a change was refused. `problem` is the engine's own finding when it made one."""

    item: str | None
    code: str
    problem: scoring.Problem | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"item": self.item, "code": self.code}
        if self.problem is not None:
            out["message"] = {"zh": self.problem.message.zh, "en": self.problem.message.en}
        return out


@dataclass(frozen=True)
class Conflict:
    """The answer changed since the version the editor started from."""

    item: str
    expected: int
    current: AnswerState
    changed_by: str | None  # the name of whoever made the current version


@dataclass
class SaveResult:
    saved: dict[str, AnswerState] = field(default_factory=dict)  # item -> the new state (changed only)
    errors: list[ItemError] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    result: scoring.Result | None = None  # the assessment's score after the change
    states: dict[str, AnswerState] = field(default_factory=dict)  # every answer after the change
    profile: dict[str, Any] = field(default_factory=dict)  # the firm's profile facts as scored

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflicts


# ---- reading -----------------------------------------------------------------------------------------


def framework(a: Assessment) -> Framework:
    return framework_of(a.framework_id, a.framework_version)


_ANSWERS = select(
    Answer.item_id,
    Answer.value,
    Answer.na_reason,
    Answer.narrative,
    Answer.version,
    Answer.fact,
    Answer.updated_by_id,
    Answer.updated_at,
).where(Answer.assessment_id == bindparam("assessment_id"))
_SOME_ANSWERS = _ANSWERS.where(Answer.item_id.in_(bindparam("items", expanding=True)))
_EVIDENCE = select(Evidence.item_id).where(Evidence.assessment_id == bindparam("assessment_id")).distinct()


def answer_states(
    firm_id: int, assessment_id: int, items: Iterable[str] | None = None
) -> dict[str, AnswerState]:
    """The stored answers of one of the firm's assessments (of some items)."""
    if items is None:
        rows = tenancy.execute(firm_id, _ANSWERS, {"assessment_id": assessment_id})
    else:
        rows = tenancy.execute(firm_id, _SOME_ANSWERS, {"assessment_id": assessment_id, "items": list(items)})
    return {r[0]: AnswerState(*r) for r in rows}


def evidence_items(firm_id: int, assessment_id: int) -> set[str]:
    """The items of one of the firm's assessments that have evidence."""
    return set(tenancy.execute(firm_id, _EVIDENCE, {"assessment_id": assessment_id}).scalars())


def scoring_date(a: Assessment, day: dt.date | None = None) -> dt.date:
    """A submitted assessment keeps its date; a draft is scored as of today."""
    if a.status == "submitted" and a.as_of is not None:
        return a.as_of
    return day or today()


def score_states(
    a: Assessment,
    fw: Framework,
    states: Mapping[str, AnswerState],
    evidence: Iterable[str],
    firm: FirmProfile,
    as_of: dt.date,
    *,
    explain: bool = True,
) -> scoring.Result:
    """Score the stored answers. An answer that no longer validates (it cannot happen through these
    services) is left out rather than making the whole assessment unscorable. `explain=False`: the
    headline numbers and each item's state only (no gaps, no paths to ready), as the autosave needs."""
    rows = [(s.item, s.value, s.na_reason) for s in states.values()]
    profile = profile_facts(firm, as_of)
    sub = submission(rows, evidence, profile, a.mode, as_of)
    try:
        return scoring.score(fw, sub, explain=explain)
    except scoring.InvalidSubmission as exc:
        bad = {p.item for p in exc.problems}
        rows = [r for r in rows if r[0] not in bad]
        return scoring.score(fw, submission(rows, evidence, profile, a.mode, as_of), explain=explain)


def _headline(result: scoring.Result) -> dict[str, Any]:
    """The headline numbers kept with an assessment, as its columns, scored now."""
    head = summary(result)
    return {
        "summary": head,
        "result_percent": head["percent"],
        "result_points": head["points"],
        "scored_at": utcnow(),
    }


def store_summary(a: Assessment, result: scoring.Result, *, changed_at: dt.datetime | None = None) -> None:
    """Keep the headline numbers with the assessment (and, with `changed_at`, when a person last
    changed it)."""
    values = _headline(result)
    if changed_at is not None:
        values["updated_at"] = changed_at
    for k, v in values.items():
        setattr(a, k, v)


def _mark_changed(a: Assessment, now: dt.datetime) -> None:
    """A person changed the assessment at `now`; its kept headline numbers are out of date."""
    a.updated_at = now
    a.scored_at = None


_KEEP_FRESH = (
    update(Assessment)
    .where(
        Assessment.id == bindparam("a_id"),
        Assessment.scored_at.is_(None),
        Assessment.updated_at == bindparam("a_updated_at"),
    )
    .values({k: bindparam(f"p_{k}") for k in ("summary", "result_percent", "result_points", "scored_at")})
)


def _keep_fresh(a: Assessment, result: scoring.Result) -> None:
    """Keep the headline numbers of an out-of-date draft, scored from what was read since
    `a.updated_at`, unless a person changed the draft meanwhile (it then stays out of date, and the
    next read scores it again)."""
    values = _headline(result)
    params = {f"p_{k}": v for k, v in values.items()}
    tenancy.execute(a.firm_id, _KEEP_FRESH, {**params, "a_id": a.id, "a_updated_at": a.updated_at})
    for k, v in values.items():  # what this request shows, whether or not it was kept
        set_committed_value(a, k, v)


@dataclass
class Scored:
    """An assessment scored from its stored rows."""

    result: scoring.Result
    states: dict[str, AnswerState]
    evidence: set[str]
    profile: dict[str, Any]


def scored(a: Assessment, *, day: dt.date | None = None, explain: bool = True) -> Scored:
    """Score the assessment's stored answers (`explain=False`: the headline numbers and each item's
    state only)."""
    as_of = scoring_date(a, day)
    states = answer_states(a.firm_id, a.id)
    evidence = evidence_items(a.firm_id, a.id)
    result = score_states(a, framework(a), states, evidence, a.firm, as_of, explain=explain)
    return Scored(result, states, evidence, profile_facts(a.firm, as_of))


def progress(a: Assessment, *, day: dt.date | None = None) -> Scored:
    """The figures the questionnaire page shows after a save (no explanations); a draft whose kept
    numbers are out of date keeps the new ones."""
    out = scored(a, day=day, explain=False)
    if a.status == "draft" and a.scored_at is None:
        _keep_fresh(a, out.result)
    return out


def fresh_summaries(rows: Iterable[Assessment], *, day: dt.date | None = None) -> None:
    """Score again the drafts whose kept headline numbers a write-only save left out of date."""
    for a in rows:
        if a.status == "draft" and a.scored_at is None:
            progress(a, day=day)


def refresh(a: Assessment, *, day: dt.date | None = None) -> scoring.Result:
    """Score an assessment from its stored rows and keep the headline numbers with it."""
    result = scored(a, day=day).result
    store_summary(a, result)
    return result


def user_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    q = select(User.id, User.name).where(User.id.in_(wanted))  # people's names: not firm-owned
    return dict(db.session.connection().execute(q).tuples().all())


# ---- saving ------------------------------------------------------------------------------------------


def _upsert(insert: Any) -> Any:
    """INSERT … ON CONFLICT (assessment, item) DO UPDATE … WHERE version = :read_version RETURNING
    version (PostgreSQL and SQLite both have it)."""
    ins = insert(Answer.__table__)
    columns = ("value", "na_reason", "narrative", "fact", "version", "updated_by_id", "updated_at")
    return ins.on_conflict_do_update(
        index_elements=["assessment_id", "item_id"],
        set_={k: ins.excluded[k] for k in columns},
        where=Answer.__table__.c.version == bindparam("read_version"),
    ).returning(Answer.__table__.c.version)


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def upsert_answer(
    a: Assessment,
    item: Item,
    value: Any,
    na_reason: str | None,
    narrative: str | None,
    *,
    read_version: int,
    user_id: int | None,
    now: dt.datetime,
) -> int | None:
    """Write one answer if its version is still `read_version`; the new version, or None on a race."""
    params = {
        "firm_id": a.firm_id,
        "assessment_id": a.id,
        "item_id": item.id,
        "value": value,
        "na_reason": na_reason,
        "narrative": narrative,
        "fact": item.fact,
        "version": read_version + 1,
        "updated_by_id": user_id,
        "updated_at": now,
        "read_version": read_version,
    }
    got = tenancy.execute(a.firm_id, _UPSERT[db.session.connection().dialect.name], params).scalar()
    return int(got) if got is not None else None


def history_row(
    a: Assessment,
    item_id: str,
    old: AnswerState,
    new: AnswerState,
    *,
    user_id: int | None,
    now: dt.datetime,
    via_fact: str | None = None,
) -> dict[str, Any]:
    return {
        "firm_id": a.firm_id,
        "assessment_id": a.id,
        "item_id": item_id,
        "old_value": old.value,
        "new_value": new.value,
        "old_na_reason": old.na_reason,
        "new_na_reason": new.na_reason,
        "old_narrative": old.narrative,
        "new_narrative": new.narrative,
        "version": new.version,
        "changed_by_id": user_id,
        "changed_at": now,
        "via_fact": via_fact,
    }


def write_answer(
    a: Assessment,
    item: Item,
    cur: AnswerState,
    target: tuple[Any, Any, Any],
    *,
    user_id: int | None,
    now: dt.datetime,
) -> AnswerState | None:
    """Write one answer if its version is still `cur.version`, with its history row, and mark the
    assessment changed; the new state, or None when another write landed first (nothing written)."""
    value, na, narrative = target
    version = upsert_answer(a, item, value, na, narrative, read_version=cur.version, user_id=user_id, now=now)
    if version is None:
        return None
    new = AnswerState(item.id, value, na, narrative, version, item.fact, user_id, now)
    write_history([history_row(a, item.id, cur, new, user_id=user_id, now=now)])
    _mark_changed(a, now)
    return new


_HISTORY_INSERT = insert(AnswerHistory.__table__)


def write_history(rows: list[dict[str, Any]]) -> None:
    if rows:
        tenancy.execute(rows[0]["firm_id"], _HISTORY_INSERT, rows)


def same(target: tuple[Any, Any, Any], cur: AnswerState) -> bool:
    """The change would leave the answer as it is (True and 1 differ, 5 and 5.0 do not)."""
    value, na, narrative = target
    return (value, na, narrative) == (cur.value, cur.na_reason, cur.narrative) and isinstance(
        value, bool
    ) == isinstance(cur.value, bool)


def unchanged(cur: AnswerState, change: ItemChange) -> bool:
    return same(target_state(cur, change), cur)


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


def target_state(cur: AnswerState, ch: ItemChange) -> tuple[Any, Any, Any]:
    value, na, narrative = cur.value, cur.na_reason, cur.narrative
    if ch.na_reason is not UNSET:
        na = ch.na_reason
        if na is not None:
            value = None  # declaring "not applicable" withdraws the answer
    if ch.value is not UNSET:
        value = _blank_to_none(ch.value)
        if value is not None and ch.na_reason is UNSET:
            na = None  # answering withdraws a "not applicable"
    if ch.narrative is not UNSET:
        narrative = _blank_to_none(ch.narrative)
    if isinstance(narrative, str):
        narrative = narrative.strip("\n")
    return value, na, narrative


_LOCK = (
    select(Assessment.status)
    .where(Assessment.id == bindparam("assessment_id"))
    .with_for_update(key_share=True)
)


def lock(a: Assessment) -> bool:
    """Hold the assessment's row until the transaction ends, and read its status again: True when it
    is still a draft. Every save (`save_answers`, a shared fact carried into other drafts) and `submit`
    take this lock first, so a save that began before a submission either lands before it (and is
    submitted with it) or finds the assessment submitted — it never writes into a submitted one.

    PostgreSQL: `SELECT … FOR NO KEY UPDATE` (the row lock an UPDATE of the row takes; rows that only
    reference the assessment, answers and history, are still written meanwhile). SQLite: a writing
    request holds the database's write lock from its first statement (`db._sqlite_setup`)."""
    status = tenancy.execute(a.firm_id, _LOCK, {"assessment_id": a.id}).scalar_one()
    set_committed_value(a, "status", status)
    return status == "draft"
