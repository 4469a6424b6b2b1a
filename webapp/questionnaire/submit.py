"""Submitting a draft: what keeps it from being submitted, and the submission (read-only from then on,
its result kept for the regulator statistics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import scoring
from scoring.model import Framework
from webapp.db import utcnow
from webapp.models import Assessment, User
from webapp.questionnaire import answers
from webapp.stats import results as stats_results


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
    states: Mapping[str, answers.AnswerState],
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
    if a.status != "draft" or not answers.lock(
        a
    ):  # see `answers.lock`: saves wait for the submission, or it for them
        return [SubmitProblem(None, None, "read_only")]
    fw = answers.framework(a)
    as_of = day or answers.today()
    s = answers.scored(a, day=as_of)
    result = s.result
    problems = submit_problems(a, fw, s.states, result, s.evidence)
    if problems:
        return problems
    now = utcnow()
    a.status = "submitted"
    a.submitted_at = now
    a.submitted_by_id = user.id
    a.as_of = as_of
    a.updated_at = now
    answers.store_summary(a, result)
    stats_results.record(a, result)
    return []
