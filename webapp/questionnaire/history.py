"""Each item's history: every recorded change of its answer and of its evidence, newest first."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

from webapp import tenancy
from webapp.models import AnswerHistory, User
from webapp.questionnaire.answers import AnswerState


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
    firm_id: int, assessment_id: int, items: Iterable[str], *, per_item: int = 500
) -> tuple[dict[str, list[HistoryEntry]], dict[str, int]]:
    """The latest `per_item` recorded changes of each item, newest first, and each item's number of
    changes."""
    out: dict[str, list[HistoryEntry]] = {}
    counts: dict[str, int] = {}
    params = {"a": assessment_id, "items": list(items), "per_item": per_item}
    for r in tenancy.execute(firm_id, _history_statement(), params):
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


@functools.cache
def _history_statement() -> Any:
    """Built once, when first needed (every model mapped by then)."""
    h = AnswerHistory
    rank = (
        func.row_number()
        .over(partition_by=h.item_id, order_by=(h.changed_at.desc(), h.id.desc()))
        .label("rank")
    )
    total = func.count().over(partition_by=h.item_id).label("total")
    inner = select(
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
    ).where(h.assessment_id == bindparam("a"), h.item_id.in_(bindparam("items", expanding=True)))
    inner = tenancy.scoped(inner).subquery()
    return (
        select(inner, User.name)
        .outerjoin(User, User.id == inner.c.changed_by_id)
        .where(inner.c.rank <= bindparam("per_item"))
        .order_by(inner.c.item_id, inner.c.rank)
    )
