"""Shared facts (`assessments/facts.yaml`): a fact answered in one draft is kept as the firm's
`FactAnswer` and carried into the same fact of its other drafts (submitted assessments are snapshots),
each locked and written as `save_answers` writes (history rows name the fact). New drafts start with
the firm's facts filled in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

import scoring
from scoring.model import Framework, Item
from webapp import db, tenancy
from webapp.db import utcnow
from webapp.models import Assessment, FactAnswer, Firm
from webapp.questionnaire import answers


def sets_fact(
    fw: Framework, item_id: str, target: tuple[Any, Any, Any], states: Mapping[str, answers.AnswerState]
) -> bool:
    item = fw.item(item_id)
    return (
        item is not None
        and item.fact is not None
        and not answers.same(target, states.get(item_id) or answers.AnswerState(item_id))
    )


_LOCK = select(Firm.id).with_for_update(key_share=True)
_SOURCES = select(FactAnswer.fact, FactAnswer.value, FactAnswer.source_assessment_id).where(
    FactAnswer.fact.in_(bindparam("facts", expanding=True))
)
_FRAMEWORKS = select(
    Assessment.id, Assessment.framework_id, Assessment.framework_version, Assessment.round
).where(Assessment.id.in_(bindparam("ids", expanding=True)))


def lock_facts(firm_id: int) -> None:
    """Hold the firm's shared facts until the transaction ends; taken before anything is written.

    A save that changes a shared fact writes its own answer, then the firm's `FactAnswer`, then the
    same fact in the firm's other drafts: two such saves from two drafts at once locked the same rows
    in opposite orders, and PostgreSQL failed one of them (a deadlock). With the firm's row locked
    first (`FOR NO KEY UPDATE`: the firm's other writes, which only reference the row, go on), they
    take turns; the second then finds the first one's answer and, where it started from an older
    version, reports a conflict. It is taken before the assessments' locks (`answers.lock`): a save that
    changes no fact locks only its own assessment, so no two saves wait for each other in a circle.
    SQLite needs nothing: a writing request holds the database's lock."""
    if db.session.connection().dialect.name == "postgresql":
        tenancy.execute(firm_id, _LOCK)


def fact_sources(firm_id: int, facts: Iterable[str]) -> list[tuple[str, Any, int | None]]:
    """(fact, value, the assessment it was last answered in) of some of the firm's shared facts."""
    return list(tenancy.execute(firm_id, _SOURCES, {"facts": list(facts)}).tuples())


def framework_ids(firm_id: int, assessment_ids: Iterable[int]) -> dict[int, tuple[str, str, int]]:
    """(framework id, version, round) of some of a firm's assessments."""
    ids = list(assessment_ids)
    if not ids:
        return {}  # no round trip for nothing (a section whose shared facts were all answered here)
    return {r[0]: (r[1], r[2], r[3]) for r in tenancy.execute(firm_id, _FRAMEWORKS, {"ids": ids})}


def fact_answers(firm_id: int) -> dict[str, FactAnswer]:
    q = select(FactAnswer).where(FactAnswer.firm_id == firm_id)
    return {f.fact: f for f in db.session.scalars(q)}


def share_fact(
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
        if not answers.lock(other):
            continue  # submitted meanwhile: a snapshot keeps its answer
        ofw = answers.framework(other)
        items = [i for i in ofw.items if i.fact == fact]
        if not items:
            continue
        states = answers.answer_states(other.firm_id, other.id)
        if _carry_fact(other, ofw, states, items, value, user_id, now, as_of):
            other.updated_at = now
            evidence = answers.evidence_items(other.firm_id, other.id)
            answers.store_summary(
                other, answers.score_states(other, ofw, states, evidence, other.firm, as_of)
            )


def _upsert_fact(
    a: Assessment, item: Item, fact: str, value: Any, user_id: int | None, now: dt.datetime
) -> None:
    """Keep the firm's answer to a shared fact in one statement (INSERT … ON CONFLICT DO UPDATE); the
    caller holds `lock_facts`, so two saves of the same fact take turns: the later one stands."""
    table = FactAnswer.__table__
    ins = (postgresql.insert if db.session.connection().dialect.name == "postgresql" else sqlite.insert)(
        table
    )
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
    tenancy.execute(a.firm_id, stmt)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, FactAnswer) and obj.firm_id == a.firm_id and obj.fact == fact:
            db.session.expire(obj)  # loaded earlier in this request: read it again when asked


def _carry_fact(
    a: Assessment,
    fw: Framework,
    states: dict[str, answers.AnswerState],
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
        cur = states.get(item.id) or answers.AnswerState(item.id)
        if cur.na_reason is not None or (cur.value == value and type(cur.value) is type(value)):
            continue
        if value is not None:
            sub = scoring.Submission(answers={item.id: value}, mode=a.mode, as_of=as_of)
            if scoring.validate(fw, sub):
                continue
        version = answers.upsert_answer(
            a, item, value, None, cur.narrative, read_version=cur.version, user_id=user_id, now=now
        )
        if version is None:
            continue  # someone is editing it right now: their answer stands
        new = answers.AnswerState(item.id, value, None, cur.narrative, version, item.fact, user_id, now)
        states[item.id] = new
        history.append(
            answers.history_row(a, item.id, cur, new, user_id=user_id, now=now, via_fact=item.fact)
        )
    answers.write_history(history)
    return bool(history)


def prefill_facts(
    a: Assessment, fw: Framework, states: dict[str, answers.AnswerState], user_id: int | None, as_of: dt.date
) -> None:
    lock_facts(a.firm_id)  # a fact being changed meanwhile is read once its save has committed
    facts = fact_answers(a.firm_id)
    now = utcnow()
    for item in fw.items:
        fa = facts.get(item.fact) if item.fact else None
        if fa is not None and fa.value is not None:
            _carry_fact(a, fw, states, [item], fa.value, fa.updated_by_id or user_id, now, as_of)
