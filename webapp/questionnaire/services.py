"""The questionnaire's services: start an assessment, save answers (with shared facts and history),
evidence, comments, section assignments, submit, new rounds and verdicts.

Functions with explicit arguments that return values. They flush but never commit; they do not read
the request. When a result says something failed (`SaveResult.ok` is False, problems returned), the
caller must not commit: the web request rolls back on its 4xx status, so a refused change saves
nothing — not even the part of it that was valid.

Some reads run with SQLAlchemy Core on the session's connection (`_core`), outside the ORM's
per-statement tenant criteria: every such read is keyed by the id of an assessment (or firm) the
caller loaded through the tenant filter, so it cannot reach another firm's rows. Writes of firm-owned
rows name the assessment's firm.

Every change of answers goes through `save_answers` (the autosave, the section form, the API, and a
shared fact carried into other drafts): the assessment's row is locked (`lock`), its status checked,
each answer written with a conditional upsert (`INSERT ... ON CONFLICT DO UPDATE ... WHERE version =
<the version read>`) and its history row added. Two editors never overwrite each other, even when
their requests race: the loser sees a conflict with the winner's answer. `submit` takes the same lock,
so a save either lands before the submission or is refused as read-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

import scoring
from assessments.loader import FrameworkNotFound, framework_file, list_frameworks
from scoring.model import Condition, Framework, Item, Text
from scoring.values import condition_holds
from webapp import db
from webapp.db import utcnow
from webapp.models import (
    Answer,
    AnswerHistory,
    Assessment,
    Comment,
    Evidence,
    FactAnswer,
    Firm,
    Membership,
    SectionAssignment,
    User,
)
from webapp.orgs.services import FirmProfile, profile_facts
from webapp.questionnaire import storage
from webapp.questionnaire.scoring import framework_of, submission, summary
from webapp.stats import results as stats_results

TIMEZONE = ZoneInfo("Asia/Shanghai")
TEXT_MAX = 10_000  # characters of a text answer
NARRATIVE_MAX = 20_000  # characters of a written self-evaluation
NA_REASON_MAX = 2_000
COMMENT_MAX = 4_000


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


def framework(a: Assessment | DraftRow) -> Framework:
    return framework_of(a.framework_id, a.framework_version)


def _core(stmt: Any, params: Any = None) -> Any:
    """Run a statement keyed by a tenant-checked id on the session's connection (see the module doc)."""
    return db.session.connection().execute(stmt, params)


_STATEMENTS: dict[str, Any] = {}


def _firm_profile_columns() -> tuple[Any, ...]:
    """The firm's columns its profile facts come from, in `FirmRow`'s order."""
    return tuple(getattr(Firm, k) for k in FirmRow._fields)


def _statement(name: str) -> Any:
    """The hot paths' read statements, built once (building a select costs more than running it)."""
    stmt = _STATEMENTS.get(name)
    if stmt is not None:
        return stmt
    if name == "answers":
        stmt = select(
            Answer.item_id,
            Answer.value,
            Answer.na_reason,
            Answer.narrative,
            Answer.version,
            Answer.fact,
            Answer.updated_by_id,
            Answer.updated_at,
        ).where(Answer.assessment_id == bindparam("assessment_id"))
    elif name == "some_answers":
        stmt = _statement("answers").where(Answer.item_id.in_(bindparam("items", expanding=True)))
    elif name == "lock":
        stmt = (
            select(Assessment.status)
            .where(Assessment.id == bindparam("assessment_id"), Assessment.firm_id == bindparam("firm_id"))
            .with_for_update(key_share=True)
        )
    elif name == "firm_and_evidence":
        stmt = (
            select(*_firm_profile_columns(), Evidence.item_id)
            .select_from(Firm)
            .outerjoin(
                Evidence,
                and_(Evidence.firm_id == Firm.id, Evidence.assessment_id == bindparam("assessment_id")),
            )
            .where(Firm.id == bindparam("firm_id"))
        )
    elif name == "draft":
        a = Assessment.__table__
        stmt = (
            select(
                *(a.c[k] for k in DraftRow._fields[: len(_DRAFT_ASSESSMENT)]),
                *_firm_profile_columns(),
                Evidence.item_id,
            )
            .select_from(a.join(Firm.__table__, Firm.id == a.c.firm_id))
            .outerjoin(Evidence, and_(Evidence.firm_id == a.c.firm_id, Evidence.assessment_id == a.c.id))
            .where(a.c.id == bindparam("assessment_id"), a.c.firm_id == bindparam("firm_id"))
        )
    else:  # pragma: no cover - a programming error
        raise KeyError(name)
    _STATEMENTS[name] = stmt
    return stmt


_DRAFT_ASSESSMENT = (
    "id",
    "firm_id",
    "framework_id",
    "framework_version",
    "mode",
    "status",
    "round",
    "previous_id",
    "as_of",
    "submitted_at",
    "scored_at",
    "updated_at",
)
# an `AnswerState` after its item id, as the answers table has it
_ANSWER_STATE = ("value", "na_reason", "narrative", "version", "fact", "updated_by_id", "updated_at")


class DraftRow(NamedTuple):
    """An assessment read with Core for the progress figures, in one round trip, with its firm's
    profile and the items that have evidence (`assessment_row`)."""

    id: int
    firm_id: int
    framework_id: str
    framework_version: str
    mode: str
    status: str
    round: int
    previous_id: int | None
    as_of: dt.date | None
    submitted_at: dt.datetime | None
    scored_at: dt.datetime | None
    updated_at: dt.datetime
    firm: FirmProfile
    evidence: frozenset[str]


def assessment_row(firm_id: int, assessment_id: int) -> DraftRow | None:
    """One of the firm's assessments, with the firm's profile and the items with evidence; None when
    the firm has no such assessment. `firm_id` must be one the caller's access rule admitted."""
    rows = _core(_statement("draft"), {"firm_id": firm_id, "assessment_id": assessment_id}).all()
    if not rows:
        return None
    n = len(_DRAFT_ASSESSMENT)
    first = rows[0]
    firm = FirmRow(*first[n : n + len(FirmRow._fields)])
    evidence = frozenset(r[-1] for r in rows if r[-1] is not None)
    return DraftRow(*first[:n], firm, evidence)  # type: ignore[arg-type]


class FirmRow(NamedTuple):
    region_code: str | None
    industry_division: str | None
    above_scale: bool | None
    size_class: str | None
    founded_on: dt.date | None


def answer_states(assessment_id: int, items: Iterable[str] | None = None) -> dict[str, AnswerState]:
    if items is None:
        return {r[0]: AnswerState(*r) for r in _core(_statement("answers"), {"assessment_id": assessment_id})}
    params = {"assessment_id": assessment_id, "items": list(items)}
    return {r[0]: AnswerState(*r) for r in _core(_statement("some_answers"), params)}


def evidence_items(assessment_id: int) -> set[str]:
    q = select(Evidence.item_id).where(Evidence.assessment_id == assessment_id).distinct()
    return set(_core(q).scalars())


def scoring_date(a: Assessment | DraftRow, day: dt.date | None = None) -> dt.date:
    """A submitted assessment keeps its date; a draft is scored as of today."""
    if a.status == "submitted" and a.as_of is not None:
        return a.as_of
    return day or today()


def score_states(
    a: Assessment | DraftRow,
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


def _store_summary(a: Assessment, result: scoring.Result, *, changed_at: dt.datetime | None = None) -> None:
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


def _keep_fresh_statement() -> Any:
    table = Assessment.__table__
    return (
        update(table)
        .where(
            table.c.id == bindparam("a_id"),
            table.c.firm_id == bindparam("a_firm_id"),
            table.c.scored_at.is_(None),
            table.c.updated_at == bindparam("a_updated_at"),
        )
        .values({k: bindparam(f"p_{k}") for k in ("summary", "result_percent", "result_points", "scored_at")})
    )


_KEEP_FRESH = _keep_fresh_statement()


def _keep_fresh(a: Assessment | DraftRow, result: scoring.Result) -> None:
    """Keep the headline numbers of an out-of-date draft, scored from what was read since
    `a.updated_at`, unless a person changed the draft meanwhile (it then stays out of date, and the
    next read scores it again)."""
    values = _headline(result)
    params = {f"p_{k}": v for k, v in values.items()}
    _core(_KEEP_FRESH, {**params, "a_id": a.id, "a_firm_id": a.firm_id, "a_updated_at": a.updated_at})
    if isinstance(a, Assessment):
        for k, v in values.items():  # what this request shows, whether or not it was kept
            set_committed_value(a, k, v)


def fresh_summaries(rows: Iterable[Assessment], *, day: dt.date | None = None) -> None:
    """Score again the drafts whose kept headline numbers a write-only save left out of date."""
    for a in rows:
        if a.status == "draft" and a.scored_at is None:
            firm, evidence = firm_and_evidence(a.firm_id, a.id)
            _keep_fresh(a, _score_stored(a, firm, evidence, scoring_date(a, day))[0])


def _score_stored(
    a: Assessment | DraftRow, firm: FirmProfile, evidence: Iterable[str], as_of: dt.date
) -> tuple[scoring.Result, dict[str, AnswerState]]:
    """The stored answers, scored without explanations (the headline numbers and each item's state)."""
    states = answer_states(a.id)
    return score_states(a, framework(a), states, evidence, firm, as_of, explain=False), states


@dataclass
class Progress:
    """A draft's figures as the questionnaire page shows them after a save."""

    result: scoring.Result
    states: dict[str, AnswerState]
    profile: dict[str, Any]


def progress(a: DraftRow, *, day: dt.date | None = None) -> Progress:
    """Score the assessment read by `assessment_row` (headline numbers and each item's state, no
    explanations); a draft whose kept numbers are out of date keeps the new ones."""
    as_of = scoring_date(a, day)
    result, states = _score_stored(a, a.firm, a.evidence, as_of)
    if a.status == "draft" and a.scored_at is None:
        _keep_fresh(a, result)
    return Progress(result, states, profile_facts(a.firm, as_of))


def refresh(a: Assessment, *, day: dt.date | None = None) -> scoring.Result:
    """Score an assessment from its stored rows and keep the headline numbers with it."""
    fw = framework(a)
    firm = firm_of(a.firm_id)
    result = score_states(a, fw, answer_states(a.id), evidence_items(a.id), firm, scoring_date(a, day))
    _store_summary(a, result)
    return result


def firm_of(firm_id: int) -> FirmProfile:
    """The profile columns of an assessment's firm (`firm_id` from a tenant-checked assessment)."""
    q = select(*_firm_profile_columns()).where(Firm.id == firm_id)
    row = _core(q).first()
    if row is None:
        raise LookupError(f"no firm {firm_id}")
    return row  # type: ignore[no-any-return]


def firm_and_evidence(firm_id: int, assessment_id: int) -> tuple[FirmProfile, set[str]]:
    """The firm's profile columns and the items with evidence, in one round trip."""
    rows = _core(_statement("firm_and_evidence"), {"firm_id": firm_id, "assessment_id": assessment_id}).all()
    if not rows:
        raise LookupError(f"no firm {firm_id}")
    return rows[0], {r.item_id for r in rows if r.item_id is not None}


def user_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(_core(select(User.id, User.name).where(User.id.in_(wanted))).tuples().all())


# ---- saving ------------------------------------------------------------------------------------------


_UPSERT_COLUMNS = ("value", "na_reason", "narrative", "fact", "version", "updated_by_id", "updated_at")
_UPSERTS: dict[str, Any] = {}


def _upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (assessment, item) DO UPDATE … WHERE version = :read_version RETURNING
    version, built once per dialect (PostgreSQL and SQLite both have it)."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the two supported databases
            raise RuntimeError(f"unsupported database {dialect}")
        table = Answer.__table__
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        stmt = ins.on_conflict_do_update(
            index_elements=["assessment_id", "item_id"],
            set_={k: ins.excluded[k] for k in _UPSERT_COLUMNS},
            where=table.c.version == bindparam("read_version"),
        ).returning(table.c.version)
        _UPSERTS[dialect] = stmt
    return stmt


def _upsert_answer(
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
    conn = db.session.connection()
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
    got = conn.execute(_upsert_statement(conn.dialect.name), params).scalar()
    return int(got) if got is not None else None


def _history(
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


def _write_answer(
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
    version = _upsert_answer(
        a, item, value, na, narrative, read_version=cur.version, user_id=user_id, now=now
    )
    if version is None:
        return None
    new = AnswerState(item.id, value, na, narrative, version, item.fact, user_id, now)
    _write_history([_history(a, item.id, cur, new, user_id=user_id, now=now)])
    _mark_changed(a, now)
    return new


_HISTORY_INSERT = insert(AnswerHistory.__table__)


def _write_history(rows: list[dict[str, Any]]) -> None:
    if rows:
        _core(_HISTORY_INSERT, rows)


def _same(target: tuple[Any, Any, Any], cur: AnswerState) -> bool:
    """The change would leave the answer as it is (True and 1 differ, 5 and 5.0 do not)."""
    value, na, narrative = target
    return (value, na, narrative) == (cur.value, cur.na_reason, cur.narrative) and isinstance(
        value, bool
    ) == isinstance(cur.value, bool)


def unchanged(cur: AnswerState, change: ItemChange) -> bool:
    return _same(target_state(cur, change), cur)


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


def check_changes(
    a: Assessment | DraftRow,
    fw: Framework,
    states: Mapping[str, AnswerState],
    changes: Mapping[str, ItemChange],
    as_of: dt.date,
) -> tuple[list[ItemError], dict[str, tuple[Any, Any, Any]]]:
    """Every problem with a set of changes, and the state each changed item would get."""
    errors: list[ItemError] = []
    targets: dict[str, tuple[Any, Any, Any]] = {}
    for item_id, ch in changes.items():
        item = fw.item(item_id)
        if item is None:
            errors.append(ItemError(item_id, "unknown_item"))
            continue
        cur = states.get(item_id) or AnswerState(item_id)
        value, na, narrative = target_state(cur, ch)
        if isinstance(value, str) and len(value) > TEXT_MAX:
            errors.append(ItemError(item_id, "too_long"))
        if isinstance(na, str) and len(na) > NA_REASON_MAX:
            errors.append(ItemError(item_id, "too_long"))
        if narrative is not None:
            if not isinstance(narrative, str):
                errors.append(ItemError(item_id, "bad_narrative"))
            elif a.mode not in item.narrative_modes:
                errors.append(ItemError(item_id, "no_narrative"))
            elif len(narrative) > NARRATIVE_MAX:
                errors.append(ItemError(item_id, "too_long"))
        targets[item_id] = (value, na, narrative)
    sub = scoring.Submission(
        answers={k: v[0] for k, v in targets.items() if v[0] is not None},
        na={k: v[1] for k, v in targets.items() if v[1] is not None},
        mode=a.mode,
        as_of=as_of,
    )
    for p in scoring.validate(fw, sub):
        errors.append(ItemError(p.item, p.code, p))
    return errors, targets


def save_answers(
    a: Assessment,
    changes: Mapping[str, ItemChange],
    user: User | None,
    expected_versions: Mapping[str, int] | None = None,
    *,
    day: dt.date | None = None,
    score: bool = True,
) -> SaveResult:
    """Validate every change with the engine, then write them all, or nothing: with the assessment
    locked and still a draft (`lock`), each answer written only if its version is still the one read,
    with its history row. The one way answers change.

    `expected_versions` (item -> the version the editor started from) turns a stale edit into a
    conflict instead of an overwrite. A change that sets a shared fact also updates the firm's fact
    and the same fact in the firm's other draft assessments, with history rows there. Refused (`ok`
    False): a submitted assessment (`read_only`), any invalid value (`errors`), any stale version
    (`conflicts`).

    With `score` it is scored and its headline numbers kept (`result`, `states` of every answer).
    Without, it only writes, as the autosave does: the kept numbers are marked out of date (`scored_at`
    None) and scored again when next read (`fresh_summaries`, `progress`).
    """
    out = SaveResult()
    if a.status != "draft":
        out.errors.append(ItemError(None, "read_only"))
        return out
    fw = framework(a)
    as_of = scoring_date(a, day)
    states = answer_states(a.id) if score else answer_states(a.id, changes)
    errors, targets = check_changes(a, fw, states, changes, as_of)
    if errors:
        out.errors = errors
        return out
    for item_id, expected in (expected_versions or {}).items():
        if item_id not in targets:
            continue
        cur = states.get(item_id) or AnswerState(item_id)
        if cur.version != expected and not _same(targets[item_id], cur):
            out.conflicts.append(Conflict(item_id, expected, cur, _name(cur.updated_by_id)))
    if out.conflicts:
        return out
    if any(_sets_fact(fw, item_id, target, states) for item_id, target in targets.items()):
        lock_facts(a.firm_id)  # before anything is locked or written: see `lock_facts`
    if not lock(a):
        out.errors.append(ItemError(None, "read_only"))  # submitted since it was read
        return out

    now = utcnow()
    user_id = user.id if user is not None else None
    facts: list[tuple[Item, Any]] = []
    for item_id, target in targets.items():
        cur = states.get(item_id) or AnswerState(item_id)
        if _same(target, cur):
            continue
        item = fw.item(item_id)
        assert item is not None
        new = _write_answer(a, item, cur, target, user_id=user_id, now=now)
        if new is None:  # another editor's write landed between our read and our write
            fresh = answer_states(a.id, [item_id]).get(item_id) or AnswerState(item_id)
            expected = (expected_versions or {}).get(item_id, cur.version)
            out.conflicts.append(Conflict(item_id, expected, fresh, _name(fresh.updated_by_id)))
            continue
        states[item_id] = new
        out.saved[item_id] = new
        if item.fact and new.na_reason is None and new.value != cur.value:
            facts.append((item, new.value))
    if out.conflicts:
        return out  # the caller does not commit: what was written is rolled back
    for item, value in facts:
        _share_fact(a, item, value, user_id, now, as_of)
    out.states = states
    if not score:
        return out
    firm, evidence = firm_and_evidence(a.firm_id, a.id)
    out.result = score_states(a, fw, states, evidence, firm, as_of, explain=False)
    _store_summary(a, out.result, changed_at=now if out.saved else None)
    out.profile = profile_facts(firm, as_of)
    return out


def _name(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return user_names([user_id]).get(user_id)


# ---- shared facts ------------------------------------------------------------------------------------


def _sets_fact(
    fw: Framework, item_id: str, target: tuple[Any, Any, Any], states: Mapping[str, AnswerState]
) -> bool:
    item = fw.item(item_id)
    return (
        item is not None
        and item.fact is not None
        and not _same(target, states.get(item_id) or AnswerState(item_id))
    )


def lock(a: Assessment) -> bool:
    """Hold the assessment's row until the transaction ends, and read its status again: True when it
    is still a draft. Every save (`save_answers`, a shared fact carried into other drafts) and `submit`
    take this lock first, so a save that began before a submission either lands before it (and is
    submitted with it) or finds the assessment submitted — it never writes into a submitted one.

    PostgreSQL: `SELECT … FOR NO KEY UPDATE` (the row lock an UPDATE of the row takes; rows that only
    reference the assessment, answers and history, are still written meanwhile). SQLite: a writing
    request holds the database's write lock from its first statement (`db._sqlite_setup`)."""
    status = _core(_statement("lock"), {"assessment_id": a.id, "firm_id": a.firm_id}).scalar_one()
    set_committed_value(a, "status", status)
    return status == "draft"


def lock_facts(firm_id: int) -> None:
    """Hold the firm's shared facts until the transaction ends; taken before anything is written.

    A save that changes a shared fact writes its own answer, then the firm's `FactAnswer`, then the
    same fact in the firm's other drafts: two such saves from two drafts at once locked the same rows
    in opposite orders, and PostgreSQL failed one of them (a deadlock). With the firm's row locked
    first (`FOR NO KEY UPDATE`: the firm's other writes, which only reference the row, go on), they
    take turns; the second then finds the first one's answer and, where it started from an older
    version, reports a conflict. It is taken before the assessments' locks (`lock`): a save that
    changes no fact locks only its own assessment, so no two saves wait for each other in a circle.
    SQLite needs nothing: a writing request holds the database's lock."""
    if db.session.connection().dialect.name == "postgresql":
        _core(select(Firm.id).where(Firm.id == firm_id).with_for_update(key_share=True))


def fact_sources(firm_id: int, facts: Iterable[str]) -> list[tuple[str, Any, int | None]]:
    """(fact, value, the assessment it was last answered in) of some of the firm's shared facts."""
    q = select(FactAnswer.fact, FactAnswer.value, FactAnswer.source_assessment_id).where(
        FactAnswer.firm_id == firm_id, FactAnswer.fact.in_(list(facts))
    )
    return list(_core(q).tuples())


def framework_ids(firm_id: int, assessment_ids: Iterable[int]) -> dict[int, tuple[str, str, int]]:
    """(framework id, version, round) of some of a firm's assessments."""
    ids = list(assessment_ids)
    if not ids:
        return {}  # no round trip for nothing (a section whose shared facts were all answered here)
    q = select(Assessment.id, Assessment.framework_id, Assessment.framework_version, Assessment.round).where(
        Assessment.firm_id == firm_id, Assessment.id.in_(ids)
    )
    return {r[0]: (r[1], r[2], r[3]) for r in _core(q)}


def fact_answers(firm_id: int) -> dict[str, FactAnswer]:
    q = select(FactAnswer).where(FactAnswer.firm_id == firm_id)
    return {f.fact: f for f in db.session.scalars(q)}


def _share_fact(
    a: Assessment, item: Item, value: Any, user_id: int | None, now: dt.datetime, as_of: dt.date
) -> None:
    """The firm's answer to a shared fact changed in `a`: keep it, and carry it into the same fact in
    the firm's other drafts (submitted assessments are snapshots and keep theirs)."""
    fact = item.fact
    assert fact is not None
    _upsert_fact(a, item, fact, value, user_id, now)
    others = db.session.scalars(
        select(Assessment)
        .where(Assessment.firm_id == a.firm_id, Assessment.status == "draft", Assessment.id != a.id)
        .order_by(Assessment.id)
    ).all()
    for other in others:
        if not lock(other):
            continue  # submitted meanwhile: a snapshot keeps its answer
        ofw = framework(other)
        items = [i for i in ofw.items if i.fact == fact]
        if not items:
            continue
        states = answer_states(other.id)
        if _carry_fact(other, ofw, states, items, value, user_id, now, as_of):
            other.updated_at = now
            _store_summary(
                other,
                score_states(other, ofw, states, evidence_items(other.id), firm_of(other.firm_id), as_of),
            )


def _upsert_fact(
    a: Assessment, item: Item, fact: str, value: Any, user_id: int | None, now: dt.datetime
) -> None:
    """Keep the firm's answer to a shared fact in one statement (INSERT … ON CONFLICT DO UPDATE); the
    caller holds `lock_facts`, so two saves of the same fact take turns: the later one stands."""
    conn = db.session.connection()
    table = FactAnswer.__table__
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    row = {
        "firm_id": a.firm_id,
        "fact": fact,
        "value": value,
        "source_assessment_id": a.id,
        "source_item_id": item.id,
        "version": 1,
        "updated_by_id": user_id,
        "updated_at": now,
    }
    stmt = ins.values(**row).on_conflict_do_update(
        index_elements=["firm_id", "fact"],
        set_={
            **{k: ins.excluded[k] for k in row if k not in ("firm_id", "fact", "version")},
            "version": table.c.version + 1,
        },
    )
    conn.execute(stmt)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, FactAnswer) and obj.firm_id == a.firm_id and obj.fact == fact:
            db.session.expire(obj)  # loaded earlier in this request: read it again when asked


def _carry_fact(
    a: Assessment,
    fw: Framework,
    states: dict[str, AnswerState],
    items: Iterable[Item],
    value: Any,
    user_id: int | None,
    now: dt.datetime,
    as_of: dt.date,
) -> bool:
    """Set a fact's value on `items` of `a` (skipping items declared not applicable, already equal, or
    where the value is not valid); history rows name the fact. True when something changed."""
    history = []
    for item in items:
        cur = states.get(item.id) or AnswerState(item.id)
        if cur.na_reason is not None or (cur.value == value and type(cur.value) is type(value)):
            continue
        if value is not None:
            sub = scoring.Submission(answers={item.id: value}, mode=a.mode, as_of=as_of)
            if scoring.validate(fw, sub):
                continue
        version = _upsert_answer(
            a, item, value, None, cur.narrative, read_version=cur.version, user_id=user_id, now=now
        )
        if version is None:
            continue  # someone is editing it right now: their answer stands
        new = AnswerState(item.id, value, None, cur.narrative, version, item.fact, user_id, now)
        states[item.id] = new
        history.append(_history(a, item.id, cur, new, user_id=user_id, now=now, via_fact=item.fact))
    _write_history(history)
    return bool(history)


def _prefill_facts(
    a: Assessment, fw: Framework, states: dict[str, AnswerState], user_id: int | None, as_of: dt.date
) -> None:
    lock_facts(a.firm_id)  # a fact being changed meanwhile is read once its save has committed
    facts = fact_answers(a.firm_id)
    now = utcnow()
    for item in fw.items:
        fa = facts.get(item.fact) if item.fact else None
        if fa is not None and fa.value is not None:
            _carry_fact(a, fw, states, [item], fa.value, fa.updated_by_id or user_id, now, as_of)


# ---- starting, rounds --------------------------------------------------------------------------------


class StartError(ValueError):
    """A framework or mode that does not exist, or a round started from a draft."""


def latest_version(framework_id: str) -> str:
    try:
        return framework_file(framework_id).version
    except FrameworkNotFound as exc:
        raise StartError(str(exc)) from None


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
    same = (
        select(Assessment)
        .where(
            Assessment.firm_id == firm_id, Assessment.framework_id == framework_id, Assessment.mode == mode
        )
        .order_by(Assessment.round.desc(), Assessment.id.desc())
    )
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
    as_of = day or today()
    states: dict[str, AnswerState] = {}
    _prefill_facts(a, fw, states, user.id, as_of)
    refresh(a, day=as_of)
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
    draft = db.session.scalar(
        select(Assessment).where(
            Assessment.firm_id == previous.firm_id,
            Assessment.framework_id == previous.framework_id,
            Assessment.mode == previous.mode,
            Assessment.status == "draft",
        )
    )
    if draft is not None:
        return draft, False
    fw = framework_of(previous.framework_id, latest_version(previous.framework_id))
    last_round = db.session.scalar(
        select(func.max(Assessment.round)).where(
            Assessment.firm_id == previous.firm_id,
            Assessment.framework_id == previous.framework_id,
            Assessment.mode == previous.mode,
        )
    )
    a = Assessment(
        firm_id=previous.firm_id,
        framework_id=fw.id,
        framework_version=fw.version,
        mode=previous.mode,
        status="draft",
        round=(last_round or previous.round) + 1,
        previous_id=previous.id,
        created_by_id=user.id,
    )
    db.session.add(a)
    db.session.flush()
    as_of = day or today()
    now = utcnow()
    states: dict[str, AnswerState] = {}
    history = []
    for item, old in carried_answers(previous, fw, as_of):
        narrative = old.narrative if previous.mode in item.narrative_modes else None
        version = _upsert_answer(
            a, item, old.value, old.na_reason, narrative, read_version=0, user_id=user.id, now=now
        )
        assert version is not None
        new = AnswerState(item.id, old.value, old.na_reason, narrative, version, item.fact, user.id, now)
        states[item.id] = new
        history.append(_history(a, item.id, AnswerState(item.id), new, user_id=user.id, now=now))
    _write_history(history)
    _prefill_facts(a, fw, states, user.id, as_of)
    carry = set(carry_evidence)
    if carry:
        assert store is not None, "carrying evidence needs the store"
        _carry_evidence(previous, a, fw, carry, store, user.id, now)
    refresh(a, day=as_of)
    return a, True


def carried_answers(previous: Assessment, fw: Framework, as_of: dt.date) -> list[tuple[Item, AnswerState]]:
    """The answers of `previous` a new round (of framework version `fw`) starts with: those given to
    items the version still asks, that it still accepts."""
    out = []
    for old in answer_states(previous.id).values():
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
    fw = framework_of(framework_id, latest_version(framework_id))
    mode = mode or fw.default_mode
    same = (
        select(Assessment)
        .where(
            Assessment.firm_id == firm_id, Assessment.framework_id == framework_id, Assessment.mode == mode
        )
        .order_by(Assessment.round.desc(), Assessment.id.desc())
    )
    if db.session.scalar(same.where(Assessment.status == "draft")) is not None:
        return None
    return db.session.scalar(same.where(Assessment.status == "submitted"))


def draft_after(previous: Assessment) -> Assessment | None:
    """The firm's draft of the same framework and mode as `previous`, if one exists."""
    return db.session.scalar(
        select(Assessment).where(
            Assessment.firm_id == previous.firm_id,
            Assessment.framework_id == previous.framework_id,
            Assessment.mode == previous.mode,
            Assessment.status == "draft",
        )
    )


@dataclass
class RoundPlan:
    """What a new round after `previous` would start with, for the person to confirm."""

    previous: Assessment
    framework: Framework
    round: int
    answers: list[tuple[Item, AnswerState]]
    evidence: dict[str, list[Any]]  # item -> the files (rows as `evidence_of` reads them)


def round_plan(previous: Assessment, *, day: dt.date | None = None) -> RoundPlan:
    fw = framework_of(previous.framework_id, latest_version(previous.framework_id))
    last_round = db.session.scalar(
        select(func.max(Assessment.round)).where(
            Assessment.firm_id == previous.firm_id,
            Assessment.framework_id == previous.framework_id,
            Assessment.mode == previous.mode,
        )
    )
    files = evidence_of(previous.firm_id, [previous.id])
    evidence = {item: rows for (_aid, item), rows in files.items() if fw.item(item) is not None}
    order = {item.id: n for n, item in enumerate(fw.items)}
    evidence = dict(sorted(evidence.items(), key=lambda kv: order[kv[0]]))
    answers = sorted(carried_answers(previous, fw, day or today()), key=lambda x: order[x[0].id])
    return RoundPlan(previous, fw, (last_round or previous.round) + 1, answers, evidence)


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
        cur = answer_states(a.id, [old.item_id]).get(old.item_id) or AnswerState(old.item_id)
        row = _history(a, old.item_id, cur, cur, user_id=user_id, now=now)
        history.append({**row, "evidence_action": "carried", "evidence_name": old.filename})
    db.session.flush()
    _write_history(history)


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


# ---- evidence ----------------------------------------------------------------------------------------


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
    if framework(a).item(item_id) is None:
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
    refresh(a)
    return ev


def _evidence_history(
    a: Assessment, item_id: str, action: str, filename: str, user_id: int | None, now: dt.datetime
) -> None:
    """A file added to or removed from an item's evidence, in the item's history (the answer as it is)."""
    cur = answer_states(a.id, [item_id]).get(item_id) or AnswerState(item_id)
    row = _history(a, item_id, cur, cur, user_id=user_id, now=now)
    _write_history([{**row, "evidence_action": action, "evidence_name": filename}])


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
    refresh(a)
    return True


def evidence_of(firm_id: int, assessment_ids: Iterable[int]) -> dict[tuple[int, str], list[Any]]:
    """The files of some of a firm's assessments by (assessment, item): rows with the Evidence columns."""
    out: dict[tuple[int, str], list[Any]] = {}
    ids = list(assessment_ids)
    if not ids:
        return out
    q = (
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
        .where(Evidence.firm_id == firm_id, Evidence.assessment_id.in_(ids))
        .order_by(Evidence.uploaded_at, Evidence.id)
    )
    for ev in _core(q):
        out.setdefault((ev.assessment_id, ev.item_id), []).append(ev)
    return out


# ---- comments and assignments ------------------------------------------------------------------------


def add_comment(a: Assessment, item_id: str, body: str, user: User) -> Comment | str:
    """A comment on one item, or the code of what is wrong (unknown_item, empty, too_long)."""
    if framework(a).item(item_id) is None:
        return "unknown_item"
    body = (body or "").strip()
    if not body:
        return "empty"
    if len(body) > COMMENT_MAX:
        return "too_long"
    c = Comment(firm_id=a.firm_id, assessment_id=a.id, item_id=item_id, body=body, author_id=user.id)
    db.session.add(c)
    db.session.flush()
    return c


def comments_of(assessment_id: int, items: Iterable[str]) -> dict[str, list[Any]]:
    """Comments on some items, oldest first: rows with item_id, body, author_id, created_at."""
    out: dict[str, list[Any]] = {}
    q = (
        select(Comment.item_id, Comment.body, Comment.author_id, Comment.created_at)
        .where(Comment.assessment_id == assessment_id, Comment.item_id.in_(list(items)))
        .order_by(Comment.created_at, Comment.id)
    )
    for c in _core(q):
        out.setdefault(c.item_id, []).append(c)
    return out


def assign_section(a: Assessment, section_id: str, assignee_id: int | None, by: User) -> str | None:
    """Give a section to a member of the firm (None takes it back). Returns an error code or None."""
    if section_id not in {s.id for s in framework(a).sections}:
        return "unknown_section"
    existing = db.session.scalar(
        select(SectionAssignment).where(
            SectionAssignment.assessment_id == a.id, SectionAssignment.section_id == section_id
        )
    )
    if assignee_id is None:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return None
    member = db.session.scalar(
        select(Membership.id).where(Membership.firm_id == a.firm_id, Membership.user_id == assignee_id)
    )
    if member is None:
        return "not_a_member"
    if existing is None:
        existing = SectionAssignment(firm_id=a.firm_id, assessment_id=a.id, section_id=section_id)
        db.session.add(existing)
    existing.user_id = assignee_id
    existing.assigned_by_id = by.id
    existing.assigned_at = utcnow()
    db.session.flush()
    return None


def assignments_of(assessment_id: int) -> dict[str, int]:
    q = select(SectionAssignment.section_id, SectionAssignment.user_id).where(
        SectionAssignment.assessment_id == assessment_id
    )
    return dict(_core(q).tuples().all())


# ---- history -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    item: str
    old: AnswerState
    new: AnswerState
    changed_by: str | None
    changed_at: dt.datetime
    via_fact: str | None
    evidence_action: str | None = None  # added | removed: a file, not the answer, changed
    evidence_name: str | None = None


def history_of(
    assessment_id: int, items: Iterable[str], *, per_item: int = 500
) -> tuple[dict[str, list[HistoryEntry]], dict[str, int]]:
    """The latest `per_item` recorded changes of each item, newest first, and each item's number of
    changes."""
    h = AnswerHistory
    rank = (
        func.row_number()
        .over(partition_by=h.item_id, order_by=(h.changed_at.desc(), h.id.desc()))
        .label("rank")
    )
    total = func.count().over(partition_by=h.item_id).label("total")
    inner = (
        select(
            h.item_id,
            h.old_value,
            h.new_value,
            h.old_na_reason,
            h.new_na_reason,
            h.old_narrative,
            h.new_narrative,
            h.version,
            h.changed_at,
            h.via_fact,
            h.evidence_action,
            h.evidence_name,
            h.changed_by_id,
            rank,
            total,
        )
        .where(h.assessment_id == assessment_id, h.item_id.in_(list(items)))
        .subquery()
    )
    q = (
        select(inner, User.name)
        .outerjoin(User, User.id == inner.c.changed_by_id)
        .where(inner.c.rank <= per_item)
        .order_by(inner.c.item_id, inner.c.rank)
    )
    out: dict[str, list[HistoryEntry]] = {}
    counts: dict[str, int] = {}
    for r in _core(q):
        # an evidence entry leaves the answer as it was (same version before and after)
        before = r.version if r.evidence_action else r.version - 1
        old = AnswerState(r.item_id, r.old_value, r.old_na_reason, r.old_narrative, before)
        new = AnswerState(r.item_id, r.new_value, r.new_na_reason, r.new_narrative, r.version)
        entry = HistoryEntry(
            r.item_id, old, new, r.name, r.changed_at, r.via_fact, r.evidence_action, r.evidence_name
        )
        out.setdefault(r.item_id, []).append(entry)
        counts[r.item_id] = r.total
    return out, counts


# ---- submitting --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitProblem:
    item: str | None
    section: str | None
    code: str  # read_only | unanswered | evidence_missing | narrative_missing

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "section": self.section, "code": self.code}


def submit_problems(
    a: Assessment,
    fw: Framework,
    states: Mapping[str, AnswerState],
    result: scoring.Result,
    evidence: set[str],
) -> list[SubmitProblem]:
    """What keeps a draft from being submitted, in questionnaire order: required items unanswered,
    required evidence missing for an answer that earns points or passes a gate, written
    self-evaluations missing (in the modes that ask for them)."""
    problems: list[SubmitProblem] = []
    passing_gate_items = {g.item for g in result.gates if g.item is not None and g.status == "pass"}
    for s in result.items:
        if not s.applicable:
            continue
        item = fw.item(s.id)
        assert item is not None
        state = states.get(s.id)
        if s.status == "unanswered":
            if item.required:
                problems.append(SubmitProblem(s.id, s.section, "unanswered"))
            continue
        if (
            item.evidence_required
            and s.id not in evidence
            and (s.points > 0 or s.capped or (item.gate and s.id in passing_gate_items))
        ):
            problems.append(SubmitProblem(s.id, s.section, "evidence_missing"))
        if a.mode in item.narrative_modes and not (state and state.narrative and state.narrative.strip()):
            problems.append(SubmitProblem(s.id, s.section, "narrative_missing"))
    return problems


def submit(a: Assessment, user: User, *, day: dt.date | None = None) -> list[SubmitProblem]:
    """Submit a draft: [] when done (it is read-only from now on), else every problem to fix first."""
    if a.status != "draft" or not lock(a):  # see `lock`: saves wait for the submission, or it for them
        return [SubmitProblem(None, None, "read_only")]
    fw = framework(a)
    as_of = day or today()
    states = answer_states(a.id)
    evidence = evidence_items(a.id)
    result = score_states(a, fw, states, evidence, firm_of(a.firm_id), as_of)
    problems = submit_problems(a, fw, states, result, evidence)
    if problems:
        return problems
    now = utcnow()
    a.status = "submitted"
    a.submitted_at = now
    a.submitted_by_id = user.id
    a.as_of = as_of
    a.updated_at = now
    _store_summary(a, result)
    stats_results.record(a, result)
    return []


# ---- verdicts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundPoint:
    assessment_id: int
    round: int
    status: str
    score: float | None
    percent: float | None
    date: dt.date | None


@dataclass(frozen=True)
class Verdict:
    assessment: Assessment
    framework: Framework
    result: scoring.Result
    provisional: bool
    previous: Assessment | None
    comparison: scoring.Comparison | None
    trend: list[RoundPoint]


def verdict(a: Assessment, *, day: dt.date | None = None) -> Verdict:
    """The full result of an assessment (live for a draft), compared with its previous round, and the
    score of every round of the same framework and mode."""
    result = refresh(a, day=day) if a.status == "draft" else _result_of(a, day)
    previous = db.session.get(Assessment, a.previous_id) if a.previous_id else None
    comparison = None
    if previous is not None and previous.framework_id == a.framework_id:
        comparison = scoring.compare(_result_of(previous, day), result)
    rounds = db.session.scalars(
        select(Assessment)
        .where(
            Assessment.firm_id == a.firm_id,
            Assessment.framework_id == a.framework_id,
            Assessment.mode == a.mode,
            Assessment.round <= a.round,
        )
        .order_by(Assessment.round, Assessment.id)
    ).all()
    trend = []
    for r in rounds:
        if r.status != "submitted" and r.id != a.id:
            continue
        head = summary(result) if r.id == a.id else (r.summary or {})
        trend.append(
            RoundPoint(
                r.id,
                r.round,
                r.status,
                head.get("score"),
                head.get("percent"),
                r.as_of or (r.submitted_at.date() if r.submitted_at else None),
            )
        )
    return Verdict(a, framework(a), result, a.status == "draft", previous, comparison, trend)


def _result_of(a: Assessment, day: dt.date | None) -> scoring.Result:
    return score_states(
        a, framework(a), answer_states(a.id), evidence_items(a.id), firm_of(a.firm_id), scoring_date(a, day)
    )


# ---- the firm's home ---------------------------------------------------------------------------------

# Recommended order of frameworks: before and after the firm holds a 品字标 certificate.
ORDER_UNCERTIFIED = (
    "pinzibiao",
    "standards-adoption",
    "chief-quality-officer",
    "performance-excellence",
    "labelling-four-100",
)
ORDER_CERTIFIED = (
    "labelling-four-100",
    "performance-excellence",
    "standards-adoption",
    "chief-quality-officer",
    "pinzibiao",
)


@dataclass(frozen=True)
class TargetLine:
    framework_id: str
    framework_title: Text
    target_id: str
    title: Text
    threshold: float
    scale: float
    readiness: str | None  # None: not assessed yet
    score: float | None
    assessment_id: int | None
    provisional: bool  # from a draft
    profile_blockers: tuple[str, ...]  # profile gates (e.g. years_operating) the firm fails today


@dataclass(frozen=True)
class Recommendation:
    framework_id: str
    title: Text
    description: Text
    modes: tuple[tuple[str, Text, Text | None], ...]
    reason: str  # first | certified_first | certified_only | standard
    draft_id: int | None
    next_round: int
    drafts: tuple[tuple[int, Text], ...] = ()  # (assessment id, mode title) of drafts in progress


@dataclass(frozen=True)
class AssessmentLine:
    id: int
    framework_id: str
    title: Text
    mode: str
    mode_title: Text | None
    round: int
    status: str
    answered: int
    applicable: int
    score: float | None
    scale: float
    updated_at: dt.datetime
    submitted_at: dt.datetime | None


@dataclass(frozen=True)
class FirmOverview:
    certified: bool
    targets: list[TargetLine]
    drafts: list[AssessmentLine]
    submitted: list[AssessmentLine]
    recommendations: list[Recommendation]


def _frameworks() -> dict[str, Framework]:
    """The latest version of each framework."""
    latest: dict[str, Framework] = {}
    for f in list_frameworks():
        latest[f.id] = f.framework  # sorted by version: the last one wins
    for fid in list(latest):
        latest[fid] = framework_of(fid, framework_file(fid).version)
    return latest


def _line(a: Assessment, fw: Framework) -> AssessmentLine:
    head = a.summary or {}
    mode = next((m for m in fw.modes if m.id == a.mode), None)
    return AssessmentLine(
        a.id,
        a.framework_id,
        fw.title,
        a.mode,
        mode.title if mode is not None and len(fw.modes) > 1 else None,
        a.round,
        a.status,
        int(head.get("answered", 0)),
        int(head.get("applicable", 0)),
        head.get("score"),
        float(fw.scale),
        a.updated_at,
        a.submitted_at,
    )


def firm_overview(firm: Firm, *, day: dt.date | None = None) -> FirmOverview:
    """What the firm's home shows: the targets that concern it with its latest verdict on each, the
    assessments in progress and done, and the frameworks to start, recommended in order."""
    as_of = day or today()
    profile = profile_facts(firm, as_of)
    facts = fact_answers(firm.id)
    certified = bool(facts.get("pinzibiao_certified") and facts["pinzibiao_certified"].value is True)
    frameworks = _frameworks()
    rows = db.session.scalars(
        select(Assessment).where(Assessment.firm_id == firm.id).order_by(Assessment.updated_at.desc())
    ).all()
    fresh_summaries(rows, day=day)
    drafts = [r for r in rows if r.status == "draft"]
    done = sorted(
        (r for r in rows if r.status == "submitted"),
        key=lambda r: r.submitted_at or r.updated_at,
        reverse=True,
    )

    order = ORDER_CERTIFIED if certified else ORDER_UNCERTIFIED
    ranked = sorted(frameworks, key=lambda fid: (order.index(fid) if fid in order else len(order), fid))
    targets: list[TargetLine] = []
    for fid in ranked:
        fw = frameworks[fid]
        latest = next((r for r in done if r.framework_id == fid), None)
        provisional = False
        if latest is None:
            latest = next((r for r in drafts if r.framework_id == fid), None)
            provisional = latest is not None
        head = (latest.summary or {}) if latest is not None else {}
        for t in fw.targets:
            if t.in_region(profile) is False:  # for firms registered elsewhere: not the firm's target
                continue
            failing = []
            for gid in t.gates:
                gate = fw.gate_by_id(gid)
                if gate is None or gate.passes_if.profile is None:
                    continue
                v = profile.get(gate.passes_if.profile)
                if v is None or scoring_condition(gate.passes_if, v, as_of):
                    continue
                failing.append(gate.id)
            readiness = head.get("targets", {}).get(t.id) if latest is not None else None
            targets.append(
                TargetLine(
                    fid,
                    fw.title,
                    t.id,
                    t.title,
                    float(t.threshold),
                    float(fw.scale),
                    readiness,
                    head.get("score") if latest is not None else None,
                    latest.id if latest is not None else None,
                    provisional,
                    tuple(failing),
                )
            )
    recs = []
    for n, fid in enumerate(ranked):
        fw = frameworks[fid]
        draft = next((r for r in drafts if r.framework_id == fid), None)
        rounds = [r.round for r in rows if r.framework_id == fid]
        if fid == "labelling-four-100" and not certified:
            reason = "certified_only"
        elif n == 0:
            reason = "certified_first" if certified else "first"
        else:
            reason = "standard"
        recs.append(
            Recommendation(
                fid,
                fw.title,
                fw.description,
                tuple((m.id, m.title, m.description) for m in fw.modes),
                reason,
                draft.id if draft is not None else None,
                max(rounds, default=0) + 1,
                tuple(
                    (r.id, next((m.title for m in fw.modes if m.id == r.mode), fw.title))
                    for r in drafts
                    if r.framework_id == fid
                ),
            )
        )
    return FirmOverview(
        certified,
        targets,
        [_line(r, framework(r)) for r in drafts],
        [_line(r, framework(r)) for r in done],
        recs,
    )


def scoring_condition(cond: Condition, value: Any, as_of: dt.date | None = None) -> bool:
    return bool(condition_holds(cond.op, value, cond.value, as_of))


def firm_member_choices(firm_id: int) -> list[tuple[int, str]]:
    q = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.firm_id == firm_id)
        .order_by(User.name)
    )
    return list(db.session.execute(q).tuples())
