"""The firm's home: the targets that concern the firm with its latest verdict on each, its assessments
in progress and done, and the frameworks to start, recommended in order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from assessments.loader import framework_file, list_frameworks
from scoring.model import Condition, Framework, Text
from scoring.values import condition_holds
from webapp import db
from webapp.models import Assessment, Firm
from webapp.orgs.services import profile_facts
from webapp.questionnaire.answers import framework, fresh_summaries, today
from webapp.questionnaire.engine_bridge import framework_of
from webapp.questionnaire.facts import fact_answers

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
