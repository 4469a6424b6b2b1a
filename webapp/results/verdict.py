"""The verdict of an assessment: its full result (live for a draft), compared with its previous round,
and the trend of its rounds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

import scoring
from scoring.model import Framework
from webapp import db
from webapp.models import Assessment
from webapp.questionnaire import answers
from webapp.questionnaire.engine_bridge import summary


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
    result = answers.refresh(a, day=day) if a.status == "draft" else _result_of(a, day)
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
    return Verdict(a, answers.framework(a), result, a.status == "draft", previous, comparison, trend)


def _result_of(a: Assessment, day: dt.date | None) -> scoring.Result:
    return answers.scored(a, day=day).result
