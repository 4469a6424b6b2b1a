"""Scoring: a framework and a submission in, a `Result` out. Pure and exact.

Rules (scoring/README.md has them all, with the JSON shape):

* An item's points come from its answer: the option's points (choice, yes_no; a yes_no item without
  options earns its maximum for true and 0 for false), the band containing the number (percent,
  number; a date counts the whole years between the date and `as_of`), or the chosen level's percent
  of the item's maximum (scale; the item's scale for the chosen mode). Text items earn 0 and count 0
  in the maximum.
* An item does not apply when an `applies_if` condition fails (a condition on an unanswered or
  non-applicable item, or on a missing profile fact, counts as holding), when it is a scale item with
  no scale in the chosen mode, or when the firm declared it not applicable with a justification. A
  non-applicable item leaves the maximum, and its answer counts for nothing (not even in conditions).
* An unanswered applicable item earns 0 and is listed in `unanswered`. An item whose required evidence
  is missing earns at most `evidence_cap` x its maximum.
* percent = points / max x 100 (0 when nothing applies); score = percent x framework.scale / 100.
* A gate passes or fails on its item's answer or its profile fact; it is unknown while the item is
  unanswered or the fact missing; it passes when its item does not apply.
* A target is `ready` when every gate passes and score >= threshold; `near` when no gate fails and
  score >= threshold - near_margin (so an unknown gate with enough score is near); else `not_ready`.
  Comparisons are made exactly (points x scale >= threshold x max), never on rounded numbers.
* A target limited to a region (`Target.region`) is `not_applicable` (reason `outside_region`) for a
  firm registered elsewhere: no blockers, no path, and a gate only such targets use is
  `not_applicable` too (it decides nothing for this firm). Without a region in the profile, the target
  is scored as any other (its location gate is unknown).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import combinations
from typing import NamedTuple

from .model import Condition, Effort, Framework, Rule, Source, Text
from .path import Cover
from .submission import InvalidSubmission, Submission, validate
from .tables import ItemTable, Tables, tables_for
from .values import CONTEXT, condition_holds, json_equal

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")

# Item status values
ANSWERED, UNANSWERED, NOT_APPLICABLE = "answered", "unanswered", "not_applicable"
# Gate status values (and NOT_APPLICABLE: used only by targets outside the firm's region)
PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
# Target readiness values (and NOT_APPLICABLE: outside the firm's region)
READY, NEAR, NOT_READY = "ready", "near", "not_ready"
# ... and in a screening mode (`Mode.screening`), a screening band instead of a verdict
WORTH_FULL, NOT_YET = "worth_full_evaluation", "not_yet"
# Every score here is the firm's own: said with every result (the API, the verdict page, the report)
SELF_ASSESSED = Text(
    "这是企业的自评分数，不是评审员的评分；各奖项的分数线是评审员打分的要求。",
    "This is the firm's self-assessed score, not a reviewer's score; award lines are set for reviewers' scores.",
)
OUTSIDE_REGION = "outside_region"  # the reason of a target or gate that does not concern the firm


def num(x: Decimal) -> float:
    """Presentation of an exact Decimal: rounded half-up to 2 decimal places, as a JSON number.

    The float is the nearest double to the 2-place decimal, and JSON prints it with Python's shortest
    round-trip repr, so "12.35" stays 12.35 and the text is the same on every machine.
    """
    f = float(x.quantize(_CENT, rounding=ROUND_HALF_UP, context=CONTEXT))
    return 0.0 if f == 0 else f


def _opt(x: Decimal | None) -> float | None:
    return None if x is None else num(x)


def _sources(sources: tuple[Source, ...]) -> list[dict[str, object]]:
    return [s.as_dict() for s in sources]


class ItemScore(NamedTuple):
    id: str
    section: str
    status: str  # answered | unanswered | not_applicable
    reason: str | None  # not_applicable: applies_if | na | mode
    points: Decimal
    max_points: Decimal  # the item's counted maximum (0 when not applicable)
    evidence_missing: bool  # evidence_required and no evidence listed
    capped: bool  # the evidence cap lowered the points

    @property
    def applicable(self) -> bool:
        return self.status != NOT_APPLICABLE

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "section": self.section,
            "status": self.status,
            "applicable": self.applicable,
            "reason": self.reason,
            "points": num(self.points),
            "max_points": num(self.max_points),
            "evidence_missing": self.evidence_missing,
            "capped": self.capped,
        }


class SectionScore(NamedTuple):
    id: str
    points: Decimal
    max_points: Decimal
    percent: Decimal | None  # None when nothing in the section applies (or it carries no points)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "points": num(self.points),
            "max_points": num(self.max_points),
            "percent": _opt(self.percent),
        }


class GateResult(NamedTuple):
    id: str
    status: str  # pass | fail | unknown | not_applicable (only targets outside the firm's region use it)
    item: str | None
    profile: str | None
    reason: str  # answer | profile | not_applicable | unanswered | profile_missing | outside_region
    title: Text
    sources: tuple[Source, ...]
    rule: Rule | None = None  # where the condition comes from

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "item": self.item,
            "profile": self.profile,
            "reason": self.reason,
            "sources": _sources(self.sources),
            "rule": None if self.rule is None else self.rule.as_dict(),
        }


class Blocker(NamedTuple):
    """What keeps a target from `ready`: a failed or unknown gate, or missing points."""

    kind: str  # gate | score
    gate: str | None = None
    status: str | None = None
    item: str | None = None
    profile: str | None = None
    score_short: Decimal | None = None  # on the framework's scale
    points_short: Decimal | None = None  # in points of the applicable maximum

    def to_dict(self) -> dict[str, object]:
        if self.kind == "gate":
            return {
                "kind": "gate",
                "gate": self.gate,
                "status": self.status,
                "item": self.item,
                "profile": self.profile,
            }
        return {
            "kind": "score",
            "score_short": _opt(self.score_short),
            "points_short": _opt(self.points_short),
        }


class TargetResult(NamedTuple):
    id: str
    readiness: str  # ready | near | not_ready | not_applicable
    score: Decimal
    threshold: Decimal
    blocking: tuple[Blocker, ...]
    reason: str | None = None  # not_applicable: outside_region
    region: tuple[str, ...] = ()  # the target's region-code prefixes (empty: everywhere)
    rule: Rule | None = None  # where the threshold comes from (a document or a QReady assumption)

    @property
    def applicable(self) -> bool:
        return self.readiness != NOT_APPLICABLE

    @property
    def screening(self) -> bool:
        """A screening band (quick mode of an award framework), not a verdict."""
        return self.readiness in (WORTH_FULL, NOT_YET)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "readiness": self.readiness,
            "reason": self.reason,
            "region": list(self.region),
            "score": num(self.score),
            "threshold": num(self.threshold),
            "blocking": [b.to_dict() for b in self.blocking],
            "rule": None if self.rule is None else self.rule.as_dict(),
        }


class Gap(NamedTuple):
    item: str
    section: str
    points: Decimal
    max_points: Decimal
    points_recoverable: Decimal  # to full points (the most the mode allows), adding missing evidence included
    priority: int  # 1 = do first
    effort: Effort
    gates: tuple[str, ...]  # failed / unknown gates this item decides
    evidence_missing: bool
    unanswered: bool
    action: Text
    sources: tuple[Source, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "section": self.section,
            "points": num(self.points),
            "max_points": num(self.max_points),
            "points_recoverable": num(self.points_recoverable),
            "priority": self.priority,
            "effort": self.effort.value,
            "gates": list(self.gates),
            "evidence_missing": self.evidence_missing,
            "unanswered": self.unanswered,
            "action": {"zh": self.action.zh, "en": self.action.en},
            "sources": _sources(self.sources),
        }


class Path(NamedTuple):
    """The least-effort improvements that would make a target ready.

    A step answers one item with its ideal answer (`scoring.ideal_answer`) and adds its evidence.
    `items`: the steps, the items of the target's gates first, then the others, each group in
    framework order. An answer may switch other items on or off (`applies_if`): an item switched on
    joins the maximum (`max_points_after`) with the points its current answer earns (0 while
    unanswered) and is listed in `switched_on`; where its points are needed, improving it is a step
    too. Promise: scoring the answers with every step applied gives `score_after` (`points_gained`
    more points than now, of `max_points_after`), and the target is then ready (an unknown profile
    gate aside) unless `reachable` is False. `reachable` is False when no set of steps reaches the target (then `items` are the steps
    giving the highest score), or when a profile-fact gate fails (no answer can fix that);
    `profile_gates` lists the target's failed or unknown profile gates. `gains[i]` is what step i
    adds to the points. How the steps are chosen: `_plan_paths`.
    """

    target: str
    items: tuple[str, ...]
    reachable: bool
    cost: int
    points_gained: Decimal
    score_after: Decimal
    profile_gates: tuple[str, ...]
    gains: tuple[Decimal, ...] = ()
    switched_on: tuple[str, ...] = ()
    max_points_after: Decimal = _ZERO

    def to_dict(self) -> dict[str, object]:
        return {
            "items": list(self.items),
            "reachable": self.reachable,
            "cost": self.cost,
            "points_gained": num(self.points_gained),
            "score_after": num(self.score_after),
            "profile_gates": list(self.profile_gates),
            "gains": [num(g) for g in self.gains],
            "switched_on": list(self.switched_on),
            "max_points_after": num(self.max_points_after),
        }


@dataclass(frozen=True)
class Confidence:
    applicable: int  # applicable items
    answered: int  # of them, answered
    evidence_asked: int  # answered applicable items that ask for evidence
    evidence_given: int  # of them, with evidence

    @property
    def answered_percent(self) -> Decimal | None:
        return None if self.applicable == 0 else Decimal(self.answered) * _HUNDRED / self.applicable

    @property
    def evidence_percent(self) -> Decimal | None:
        return (
            None
            if self.evidence_asked == 0
            else Decimal(self.evidence_given) * _HUNDRED / self.evidence_asked
        )

    def to_dict(self) -> dict[str, object]:
        with localcontext(CONTEXT):
            return {
                "applicable": self.applicable,
                "answered": self.answered,
                "answered_percent": _opt(self.answered_percent),
                "evidence_asked": self.evidence_asked,
                "evidence_given": self.evidence_given,
                "evidence_percent": _opt(self.evidence_percent),
            }


@dataclass(frozen=True)
class Result:
    """The score of one submission. Exact Decimals; `to_dict()` rounds for presentation."""

    framework: str
    version: str
    mode: str
    as_of: datetime.date | None
    points: Decimal
    max_points: Decimal
    percent: Decimal
    score: Decimal
    scale: Decimal
    sections: tuple[SectionScore, ...]
    items: tuple[ItemScore, ...]
    gates: tuple[GateResult, ...]
    targets: tuple[TargetResult, ...]
    gaps: tuple[Gap, ...]
    paths: tuple[Path, ...]
    unanswered: tuple[str, ...]
    confidence: Confidence
    screening: bool = False  # the mode screens: targets get a screening band, never "ready"

    def item(self, item_id: str) -> ItemScore | None:
        for it in self.items:
            if it.id == item_id:
                return it
        return None

    def section(self, section_id: str) -> SectionScore | None:
        for s in self.sections:
            if s.id == section_id:
                return s
        return None

    def gate(self, gate_id: str) -> GateResult | None:
        for g in self.gates:
            if g.id == gate_id:
                return g
        return None

    def target(self, target_id: str) -> TargetResult | None:
        for t in self.targets:
            if t.id == target_id:
                return t
        return None

    @property
    def path_to_ready(self) -> dict[str, tuple[str, ...]]:
        return {p.target: p.items for p in self.paths}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict, keys in documented order; points, percents and scores rounded to 2 places."""
        return {
            "framework": self.framework,
            "version": self.version,
            "mode": self.mode,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "points": num(self.points),
            "max_points": num(self.max_points),
            "percent": num(self.percent),
            "score": num(self.score),
            "scale": num(self.scale),
            "screening": self.screening,
            "self_assessed": {"zh": SELF_ASSESSED.zh, "en": SELF_ASSESSED.en},
            "sections": [s.to_dict() for s in self.sections],
            "gates": [g.to_dict() for g in self.gates],
            "targets": [t.to_dict() for t in self.targets],
            "gaps": [g.to_dict() for g in self.gaps],
            "path_to_ready": {p.target: list(p.items) for p in self.paths},
            "paths": {p.target: p.to_dict() for p in self.paths},
            "unanswered": list(self.unanswered),
            "confidence": self.confidence.to_dict(),
            "items": [i.to_dict() for i in self.items],
        }


def item_points(t: ItemTable, value: object, mode: str, as_of: datetime.date | None) -> Decimal:
    """Points a valid answer earns before the evidence cap."""
    return t.rules.points(t, value, mode, as_of)


class _Applicability:
    """Which items apply, decided lazily so a condition may look at any item's applicability."""

    __slots__ = ("answers", "as_of", "memo", "mode", "na", "profile", "t")

    def __init__(
        self, t: Tables, sub: Submission, mode: str, answers: Mapping[str, object] | None = None
    ) -> None:
        self.t = t
        self.answers = sub.answers if answers is None else answers  # the planner passes changed answers
        self.na = sub.na
        self.profile = sub.profile
        self.mode = mode
        self.as_of = sub.as_of
        self.memo: dict[int, str | None] = {}  # pos -> None (applies) or the reason it does not

    def reason(self, it: ItemTable) -> str | None:
        memo = self.memo
        if it.pos in memo:
            return memo[it.pos]
        if it.by_mode and self.mode not in it.level_points:
            memo[it.pos] = "mode"
            return "mode"
        memo[it.pos] = None  # while deciding: a cyclic reference sees "applies" (unknown counts as holding)
        why: str | None = None
        for c in it.conditions:
            if c.profile is not None:
                v = self.profile.get(c.profile)
                if v is not None and not condition_holds(c.op, v, c.value, self.as_of):
                    why = "applies_if"
                    break
            elif c.item is not None:
                ref = self.t.by_id[c.item]
                if (
                    c.item in self.answers
                    and self.reason(ref) is None
                    and not condition_holds(c.op, self.answers[c.item], c.value, self.as_of)
                ):
                    why = "applies_if"
                    break
        if why is None and it.item.id in self.na:
            why = "na"
        memo[it.pos] = why
        return why


def score(framework: Framework, submission: Submission, *, explain: bool = True) -> Result:
    """Score a submission; raises `InvalidSubmission` (with every problem) when it does not validate.

    `explain=False` skips the gaps and the paths to ready (both empty in the result): for callers
    that keep only the headline numbers, such as `flask rescore`."""
    problems = validate(framework, submission)
    if problems:
        raise InvalidSubmission(problems)
    with localcontext(CONTEXT):
        return _score(tables_for(framework), submission, explain)


def _score(t: Tables, sub: Submission, explain: bool = True) -> Result:
    fw = t.framework
    mode = sub.mode if sub.mode is not None else fw.default_mode
    answers = sub.answers
    evidence = sub.evidence
    as_of = sub.as_of
    app = _Applicability(t, sub, mode)

    n = len(t.items)
    pts: list[Decimal] = [_ZERO] * n
    mx: list[Decimal] = [_ZERO] * n
    applies: list[bool] = [False] * n
    answered: list[bool] = [False] * n
    item_scores: list[ItemScore] = []
    unanswered: list[str] = []
    ev_asked = ev_given = n_app = n_ans = 0
    section_ids = [sid for sid, _ in t.sections]
    sec_pts = [_ZERO] * len(t.sections)
    sec_max = [_ZERO] * len(t.sections)

    na = sub.na
    for it in t.items:
        iid = it.id
        why: str | None
        if it.by_mode and mode not in it.level_points:
            why = "mode"
        elif it.conditions or iid in na:
            why = app.reason(it)
        else:
            why = None
        sid = it.section_id
        if why is not None:
            item_scores.append(ItemScore(iid, sid, NOT_APPLICABLE, why, _ZERO, _ZERO, False, False))
            continue
        p = it.pos
        applies[p] = True
        n_app += 1
        m = it.max_points
        mx[p] = m
        sec_max[it.section] += m
        cap = it.cap_points
        ev_missing = cap is not None and iid not in evidence
        if iid not in answers:
            unanswered.append(iid)
            item_scores.append(ItemScore(iid, sid, UNANSWERED, None, _ZERO, m, ev_missing, False))
            continue
        answered[p] = True
        n_ans += 1
        if it.asks_evidence:
            ev_asked += 1
            if not ev_missing and iid in evidence:
                ev_given += 1
        value = answers[iid]
        x = it.rules.points(it, value, mode, as_of)
        capped = False
        if ev_missing and cap is not None and x > cap:
            x = cap
            capped = True
        pts[p] = x
        sec_pts[it.section] += x
        item_scores.append(ItemScore(iid, sid, ANSWERED, None, x, m, ev_missing, capped))

    sections = tuple(
        SectionScore(sid, sec_pts[i], sec_max[i], sec_pts[i] * _HUNDRED / sec_max[i] if sec_max[i] else None)
        for i, sid in enumerate(section_ids)
    )
    total = sum(sec_pts, _ZERO)
    total_max = sum(sec_max, _ZERO)
    percent = total * _HUNDRED / total_max if total_max else _ZERO
    scale = fw.scale
    score_ = percent * scale / _HUNDRED

    # gates
    gates: list[GateResult] = []
    for g in t.gates:
        cond = g.passes_if
        if g.exempt_if is not None and _holds_known(g.exempt_if, app, answers, sub.profile, as_of):
            gates.append(
                GateResult(g.id, PASS, cond.item, cond.profile, "exempt", g.title, g.sources, g.rule)
            )
            continue
        if cond.item is not None:
            gt = t.by_id[cond.item]
            if not applies[gt.pos]:
                status, reason = PASS, "not_applicable"
            elif not answered[gt.pos]:
                status, reason = UNKNOWN, "unanswered"
            else:
                ok = condition_holds(cond.op, answers[cond.item], cond.value, as_of)
                status, reason = (PASS if ok else FAIL), "answer"
        else:
            v = sub.profile.get(cond.profile or "")
            if v is None:
                status, reason = UNKNOWN, "profile_missing"
            else:
                status, reason = (PASS if condition_holds(cond.op, v, cond.value, as_of) else FAIL), "profile"
        gates.append(GateResult(g.id, status, cond.item, cond.profile, reason, g.title, g.sources, g.rule))

    # targets: first those outside the firm's region, and the gates only they use
    outside = [target.in_region(sub.profile) is False for target in t.targets]
    if any(outside):
        used = {gp for ti, gps in enumerate(t.target_gates) if not outside[ti] for gp in gps}
        for ti, gps in enumerate(t.target_gates):
            for gp in gps if outside[ti] else ():
                if gp not in used:
                    gates[gp] = gates[gp]._replace(status=NOT_APPLICABLE, reason=OUTSIDE_REGION)
    targets: list[TargetResult] = []
    screening = fw.is_screening(mode)
    for ti, target in enumerate(t.targets):
        thr = target.threshold
        if outside[ti]:
            targets.append(
                TargetResult(
                    target.id, NOT_APPLICABLE, score_, thr, (), OUTSIDE_REGION, target.region, target.rule
                )
            )
            continue
        blocking: list[Blocker] = []
        failed = unknown = False
        for gp in t.target_gates[ti]:
            gr = gates[gp]
            if gr.status == PASS:
                continue
            failed = failed or gr.status == FAIL
            unknown = unknown or gr.status == UNKNOWN
            blocking.append(Blocker("gate", gr.id, gr.status, gr.item, gr.profile))
        reached = _reaches(total, total_max, scale, thr)
        if not reached:
            blocking.append(
                Blocker("score", score_short=thr - score_, points_short=thr * total_max / scale - total)
            )
        if screening:  # a screening band: worth a full self-evaluation, or not yet; never a verdict
            readiness = WORTH_FULL if reached and not failed else NOT_YET
        elif reached and not failed and not unknown:
            readiness = READY
        elif not failed and _reaches(total, total_max, scale, thr - fw.near_margin):
            readiness = NEAR
        else:
            readiness = NOT_READY
        targets.append(
            TargetResult(target.id, readiness, score_, thr, tuple(blocking), None, target.region, target.rule)
        )

    gaps: tuple[Gap, ...] = ()
    paths: list[Path] = []
    if explain:  # gaps and paths to ready: skipped when only the headline numbers are wanted
        # gaps
        open_gates: dict[int, list[tuple[int, str]]] = {}  # item pos -> [(0 fail | 1 unknown, gate id)]
        for gr in gates:
            if gr.item is not None and gr.status in (FAIL, UNKNOWN):
                open_gates.setdefault(t.by_id[gr.item].pos, []).append((0 if gr.status == FAIL else 1, gr.id))
        # recoverable: up to the most the item can earn in this mode (a mode may cap a scale below 100 %)
        rec: list[Decimal] = [mx[i] - pts[i] for i in range(n)]
        for it in t.items if mode in t.capped_modes else ():
            if it.by_mode and applies[it.pos]:
                best = it.level_best[mode]
                if best < mx[it.pos]:
                    rec[it.pos] = max(best - pts[it.pos], _ZERO)
        gap_keys: list[tuple[tuple[int, Decimal, int], int]] = []
        for p in range(n):
            if not applies[p]:
                continue
            og = open_gates.get(p)
            if og is None:
                if rec[p] <= 0:
                    continue
                group = 2
            else:
                group = min(k for k, _ in og)
            # points per unit of effort, compared exactly: rec / cost = rec * (lcm // cost) / lcm
            gap_keys.append(((group, -rec[p] * t.items[p].weight, p), p))
        gap_keys.sort()
        gaps_list: list[Gap] = []
        for rank, (_, p) in enumerate(gap_keys, start=1):
            it = t.items[p]
            item = it.item
            og = open_gates.get(p)
            gaps_list.append(
                Gap(
                    item.id,
                    section_ids[it.section],
                    pts[p],
                    mx[p],
                    rec[p],
                    rank,
                    item.effort,
                    () if og is None else tuple([gid for _, gid in og]),
                    it.cap_points is not None and item.id not in evidence,
                    not answered[p],
                    item.action,
                    item.sources,
                )
            )
        gaps = tuple(gaps_list)

        # paths to ready
        paths = _plan_paths(t, sub, mode, gates, targets, pts, mx, applies, rec, total, total_max)

    return Result(
        framework=fw.id,
        version=fw.version,
        mode=mode,
        as_of=as_of,
        points=total,
        max_points=total_max,
        percent=percent,
        score=score_,
        scale=scale,
        sections=sections,
        items=tuple(item_scores),
        gates=tuple(gates),
        targets=tuple(targets),
        gaps=gaps,
        paths=tuple(paths),
        unanswered=tuple(unanswered),
        confidence=Confidence(n_app, n_ans, ev_asked, ev_given),
        screening=screening,
    )


def _holds_known(
    c: Condition,
    app: _Applicability,
    answers: Mapping[str, object],
    profile: Mapping[str, object],
    as_of: datetime.date | None,
) -> bool:
    """Whether a condition holds on a known value: an answered, applicable item or a present profile fact."""
    if c.item is not None:
        ref = app.t.by_id[c.item]
        return (
            c.item in answers
            and app.reason(ref) is None
            and condition_holds(c.op, answers[c.item], c.value, as_of)
        )
    v = profile.get(c.profile or "")
    return v is not None and condition_holds(c.op, v, c.value, as_of)


def _reaches(points: Decimal, max_points: Decimal, scale: Decimal, threshold: Decimal) -> bool:
    """score >= threshold, decided exactly (score = points / max x scale; 0 when max is 0)."""
    if max_points == 0:
        return threshold <= 0
    return points * scale >= threshold * max_points


# The planner tries every subset of the controlling items up to this many; with more, it tries no change,
# each one alone, each pair, and all of them (see `_plan_paths`).
_EXHAUSTIVE = 10
_NO_IDEAL = object()  # an item without an ideal answer here (a date item scored without `as_of`)


class _State(NamedTuple):
    """Items, points and maximum once some controlling items carry their ideal answers."""

    applies: list[bool]
    points: list[Decimal]
    rec: list[Decimal]  # what the ideal answer (with evidence) would add; 0 for the changed items
    total: Decimal
    max_points: Decimal


def _plan_paths(
    t: Tables,
    sub: Submission,
    mode: str,
    gates: list[GateResult],
    targets: list[TargetResult],
    pts: list[Decimal],
    mx: list[Decimal],
    applies: list[bool],
    rec: list[Decimal],
    total: Decimal,
    total_max: Decimal,
) -> list[Path]:
    """The path to ready of every target that is not ready.

    A plan is a set of items, each answered with its ideal answer and given its evidence. Its cost is
    the sum of the items' effort costs. The path is the plan that makes the target ready (profile
    gates aside) at the least cost, then with the fewest items, then with the earliest items (their
    positions, sorted, compared in framework order).

    Items that an `applies_if` condition tests ("controlling" items) change which items count, so
    they are not treated like the others. A controlling item is one whose current answer differs from
    its ideal answer (unanswered included); the firm's N/A declarations are kept. For each subset Q of
    the controlling items, the answers with Q's ideal answers give which items apply, the points every
    applicable item earns (an item switched on counts with its current answer) and the new maximum.
    In that state, the target's gates whose item applies must pass: a gate item in Q passes with its
    ideal answer, a gate on another item is passed by adding that item (its ideal answer), and a plan
    that would need to change a controlling item outside Q is no plan for this Q. The other items
    (applicable, not controlling) change no applicability, so what is still missing is an exact 0/1
    covering knapsack over their recoverable points (`path.Cover`). The best plan over all Q is the
    path. This is exact (the least plan among all sets of ideal answers, `tests/scoring` checks it by
    brute force) as long as there are at most `_EXHAUSTIVE` controlling items; with more, Q runs over
    no change, each controlling item alone, each pair and all of them, and the path is the least plan
    among those. Either way the promise holds: the path's answers score `score_after`, and make the
    target ready when the path is reachable.

    When no plan reaches the target, the path is the plan of everything (every gate item that can pass
    and every applicable item that can gain) over the Q that gives the highest score, least cost first
    among equals.
    """
    from .answers import ideal_answer  # here: `answers` imports this module

    fw = t.framework
    n = len(t.items)
    answers = sub.answers
    scale = fw.scale
    ideals: dict[int, object] = {}

    def ideal(p: int) -> object:
        if p not in ideals:
            try:
                ideals[p] = ideal_answer(fw, t.items[p].item, mode=mode, as_of=sub.as_of)
            except ValueError:
                ideals[p] = _NO_IDEAL
        return ideals[p]

    def best(it: ItemTable) -> Decimal:
        return it.best(mode)

    open_targets = [
        ti for ti in range(len(t.targets)) if targets[ti].readiness not in (READY, WORTH_FULL, NOT_APPLICABLE)
    ]
    if not open_targets:
        return []

    controlling: list[int] = []
    for iid in t.referenced:
        it = t.by_id[iid]
        if iid in sub.na or (it.by_mode and mode not in it.level_points):
            continue
        v = ideal(it.pos)
        if v is _NO_IDEAL or (iid in answers and json_equal(answers[iid], v)):
            continue
        controlling.append(it.pos)
    controlling.sort()
    is_controlling = set(controlling)
    k = len(controlling)
    sizes = range(k + 1) if k <= _EXHAUSTIVE else (0, 1, 2)
    subsets: list[tuple[int, ...]] = [q for r in sizes for q in combinations(controlling, r)]
    if k > _EXHAUSTIVE:
        subsets.append(tuple(controlling))

    def state(q: tuple[int, ...]) -> _State:
        if not q:
            return _State(applies, pts, rec, total, total_max)
        changed = dict(answers)
        for p in q:
            changed[t.ids[p]] = ideal(p)
        app = _Applicability(t, sub, mode, changed)
        ap2 = [False] * n
        pt2 = [_ZERO] * n
        rc2 = [_ZERO] * n
        tot = mxs = _ZERO
        qs = set(q)
        for it in t.items:
            p = it.pos
            if it.by_mode and mode not in it.level_points:
                continue
            if (it.conditions or it.id in sub.na) and app.reason(it) is not None:
                continue
            ap2[p] = True
            b = best(it)
            if p in qs:
                x = b
            elif applies[p]:
                x = pts[p]
            elif it.id in answers:
                x = item_points(it, answers[it.id], mode, sub.as_of)
                cap = it.cap_points
                if cap is not None and it.id not in sub.evidence and x > cap:
                    x = cap
            else:
                x = _ZERO
            pt2[p] = x
            if p not in qs and b > x:
                rc2[p] = b - x
            tot += x
            mxs += it.max_points
        return _State(ap2, pt2, rc2, tot, mxs)

    # per target: the best plan reaching it (cost, count, positions), and the best plan of everything
    Key = tuple[int, int, tuple[int, ...]]
    reaching: dict[int, tuple[Key, tuple[int, ...], _State, frozenset[int]]] = {}
    fallback: dict[
        int, tuple[tuple[Decimal, int, int, tuple[int, ...]], tuple[int, ...], _State, frozenset[int]]
    ] = {}
    costs = t.costs
    for q in subsets:
        st = state(q)
        qs = frozenset(q)
        covers: dict[tuple[int, ...], tuple[list[int], Cover]] = {}
        for ti in open_targets:
            feasible = True
            forced: list[int] = []
            for gp in t.target_gates[ti]:
                if gates[gp].reason == "exempt":
                    continue  # exempt on answers no plan changes (the path never suggests changing them)
                c = t.gates[gp].passes_if
                if c.item is None:
                    continue
                gi = t.by_id[c.item].pos
                if not st.applies[gi]:
                    continue  # the gate passes: its item does not apply
                if gi in qs:
                    feasible = feasible and condition_holds(c.op, ideal(gi), c.value, sub.as_of)
                elif c.item in answers and condition_holds(c.op, answers[c.item], c.value, sub.as_of):
                    continue
                elif gi in is_controlling:
                    feasible = False  # passing it would change a controlling item outside Q
                else:
                    v = ideal(gi)
                    if v is not _NO_IDEAL and not condition_holds(c.op, v, c.value, sub.as_of):
                        feasible = False
                    elif gi not in forced:
                        forced.append(gi)
            forced.sort()
            fkey = tuple(forced)
            if fkey not in covers:  # targets with the same gate items share one solver
                taken = qs.union(forced)
                cands = [p for p in range(n) if st.rec[p] > 0 and p not in taken and p not in is_controlling]
                covers[fkey] = (cands, Cover([costs[p] for p in cands], [st.rec[p] for p in cands]))
            cands, cover = covers[fkey]
            fixed = sorted(qs.union(forced))
            base = st.total + sum([st.rec[p] for p in forced], _ZERO)
            fixed_cost = sum([costs[p] for p in fixed])
            thr = t.targets[ti].threshold
            if feasible:
                picks: tuple[int, ...] | None
                if st.max_points == 0:
                    picks = () if thr <= 0 else None
                else:
                    # points needed: threshold x max / scale - points, passed as a fraction to stay exact
                    picks = cover.solve(thr * st.max_points - base * scale, scale)
                if picks is not None:
                    chosen = [cands[i] for i in picks]
                    plan = tuple(sorted(fixed + chosen))
                    key: Key = (fixed_cost + sum([costs[p] for p in chosen]), len(plan), plan)
                    if ti not in reaching or key < reaching[ti][0]:
                        reaching[ti] = (key, plan, st, qs)
            if ti in reaching:
                continue
            plan = tuple(sorted(fixed + cands))
            after = base + sum([st.rec[p] for p in cands], _ZERO)
            score_after = after * scale / st.max_points if st.max_points else _ZERO
            cost = fixed_cost + sum([costs[p] for p in cands])
            fkey2 = (-score_after, cost, len(plan), plan)
            if ti not in fallback or fkey2 < fallback[ti][0]:
                fallback[ti] = (fkey2, plan, st, qs)

    paths: list[Path] = []
    for ti in open_targets:
        target = t.targets[ti]
        profile_gates: list[str] = []
        profile_failed = False
        for gp in t.target_gates[ti]:
            gr = gates[gp]
            if gr.item is None and gr.status != PASS:
                profile_gates.append(gr.id)
                profile_failed = profile_failed or gr.status == FAIL
        if ti in reaching:
            _, plan, st, qs = reaching[ti]
            reached = True
        else:
            _, plan, st, qs = fallback[ti]
            reached = False
        own = set(t.target_gates[ti])
        order = [p for p in plan if own.intersection(t.items[p].gates)]
        order += [p for p in plan if not own.intersection(t.items[p].gates)]
        gains = [st.points[p] - (pts[p] if applies[p] else _ZERO) if p in qs else st.rec[p] for p in order]
        after = st.total + sum([st.rec[p] for p in plan if p not in qs], _ZERO)
        paths.append(
            Path(
                target.id,
                tuple([t.ids[p] for p in order]),
                reached and not profile_failed,
                sum([costs[p] for p in order]),
                after - total,
                after * scale / st.max_points if st.max_points else _ZERO,
                tuple(profile_gates),
                tuple(gains),
                tuple([t.ids[p] for p in range(n) if st.applies[p] and not applies[p]]),
                st.max_points,
            )
        )
    return paths
