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


def prerequisite(fw: Framework) -> tuple[str, Condition] | None:
    """The shared fact a framework is for, read from its items: (fact, condition) when every other
    item applies only if the fact's own item meets that condition (the "four 100%" labelling rules
    ask first whether the firm holds a 品字标 certificate, and apply only if it does)."""
    for own in fw.items:
        if own.fact is None:
            continue
        conds = {c for i in fw.items if i is not own for c in i.applies_if if c.item == own.id}
        needed = [i for i in fw.items if i is not own and not any(c.item == own.id for c in i.applies_if)]
        if len(conds) == 1 and not needed:
            return own.fact, conds.pop()
    return None


def _ranked(
    frameworks: dict[str, Framework], facts: dict[str, Any], as_of: dt.date
) -> tuple[list[str], set[str]]:
    """The frameworks in the order to start them, and those whose prerequisite the firm does not meet:
    first a framework whose prerequisite the firm meets, or else one that asks a fact another one
    needs and the firm does not have yet (the step before: getting certified); last the ones whose
    prerequisite is unmet, and before them a step the firm has taken."""
    needs = {fid: p for fid, fw in frameworks.items() if (p := prerequisite(fw)) is not None}
    met = {fid for fid, (fact, cond) in needs.items() if fact in facts and _holds(cond, facts[fact], as_of)}
    unmet = set(needs) - met
    asks = {fid: {i.fact for i in fw.items if i.fact} for fid, fw in frameworks.items()}

    def rank(fid: str) -> int:
        if fid in met:
            return 0
        if fid in unmet:
            return 4
        steps = {needs[o][0] for o in needs if o != fid and needs[o][0] in asks[fid]}
        if steps & {needs[o][0] for o in unmet}:
            return 1
        return 3 if steps else 2

    return sorted(frameworks, key=lambda fid: (rank(fid), fid)), unmet


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
    certified: bool  # the firm meets a framework's prerequisite (today: holds a 品字标 certificate)
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
    facts = {f.fact: f.value for f in fact_answers(firm.id).values()}
    frameworks = _frameworks()
    ranked, unmet = _ranked(frameworks, facts, as_of)
    certified = any(prerequisite(frameworks[fid]) for fid in frameworks if fid not in unmet)
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
                if v is None or _holds(gate.passes_if, v, as_of):
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
        if fid in unmet:
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


def _holds(cond: Condition, value: Any, as_of: dt.date | None = None) -> bool:
    return bool(condition_holds(cond.op, value, cond.value, as_of))
