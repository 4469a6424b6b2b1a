"""Plain values for the questionnaire's templates: a section's items with their answers, help, policy
basis, evidence, comments and history; the section list; a verdict's tables and chart data.

Templates get these dataclasses and strings, never live database rows. Bilingual framework text is
resolved to the reader's language here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import flask
from flask import has_request_context
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import scoring
from assessments.loader import list_frameworks, semver_key
from scoring.model import Condition, Framework, Item, Rule, Section, Source, Text
from scoring.values import condition_holds
from webapp.i18n import current_lang
from webapp.models import Assessment, Comment, Evidence
from webapp.questionnaire.answers import AnswerState
from webapp.questionnaire.history import HistoryEntry
from webapp.questionnaire.plans import plan_title
from webapp.refdata import regions
from webapp.results import values
from webapp.results.values import Choice, LevelGroup, effort_label, number, sign, signed
from webapp.results.values import plain as num  # a number as an input value (also what tests compare)

# ---- small formatting --------------------------------------------------------------------------------


def lang() -> str:
    """The reader's language, looked up once per request (pages resolve hundreds of texts)."""
    cached = flask.g.get("_qn_lang")
    if cached is None:
        cached = flask.g._qn_lang = current_lang()
    return str(cached)


FORMER_MEMBER = _l("a former member")  # an author whose account was deleted


def t(text: Text | None) -> str:
    return "" if text is None else text.get(lang())


def _in(text: Text | None, language: str) -> str:
    return "" if text is None else text.get(language)


def size_text(n: int) -> str:
    if n < 1024:
        return _("%(n)s bytes", n=n)
    if n < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(n / 1024, 1)))
    return _("%(n)s MB", n=format_decimal(round(n / 1024 / 1024, 1)))


def when(d: dt.datetime | None) -> str:
    return format_datetime(d, "short") if d is not None else ""


def display_value(fw: Framework, item: Item, state: AnswerState, mode: str) -> str:
    """An answer as a person reads it (`webapp.results.values`); long texts are cut at 160 characters."""
    if state.na_reason is not None:
        return _("Not applicable: %(reason)s", reason=state.na_reason)
    if state.value is None:
        return "—"
    text = values.answer_text(fw, item, state.value, mode, lang())
    return text if len(text) <= 160 else text[:157] + "…"


# ---- items -------------------------------------------------------------------------------------------


@dataclass
class SourceView:
    quote: str
    plan: str
    standard: str
    note: str
    verify: bool


@dataclass
class FileView:
    id: int
    assessment_id: int
    name: str
    size: str
    kind: str
    uploaded_by: str
    uploaded_at: str


@dataclass
class CommentView:
    author: str
    at: str
    body: str


@dataclass
class HistoryView:
    at: str
    by: str
    old: str
    new: str
    narrative_changed: bool
    via_fact: bool
    evidence: str = ""  # "Added file: …" / "Removed file: …"


@dataclass
class ConflictView:
    theirs: str
    by: str
    at: str
    yours: str


@dataclass
class ItemView:
    id: str
    number: str
    text: str
    help: str
    action: str
    type: str
    widget: str  # its input's template (templates/questionnaire/widgets/<type>.html)
    reads: str  # how the page's script reads its input (`values.Widget.reads`)
    points: str
    gate: bool
    required: bool
    allow_na: bool
    status: str  # answered | unanswered | not_applicable
    applicable: bool
    why_not: str  # why it does not apply (conditions, mode), empty when it applies or the firm said N/A
    choices: list[Choice]
    level_groups: list[LevelGroup]
    raw: str  # the value of a number, percent, date or text input
    unit: str
    min: str
    max: str
    na_checked: bool
    na_reason: str
    narrative_asked: bool
    narrative: str
    evidence_text: str
    evidence_required: bool
    evidence_missing: bool
    sources: list[SourceView]
    version: int
    fact_from: str
    updated_by: str
    updated_at: str
    files: list[FileView] = field(default_factory=list)
    previous_files: list[FileView] = field(default_factory=list)
    previous_round: int = 0
    comments: list[CommentView] = field(default_factory=list)
    history: list[HistoryView] = field(default_factory=list)
    history_count: int = 0
    errors: list[str] = field(default_factory=list)
    conflict: ConflictView | None = None
    opened: set[str] = field(default_factory=set)  # parts opened for a message: evidence | comments
    focus: bool = False  # its messages are the first on the page: focused as it loads


_PROFILE_WHY = {
    "is_manufacturing": lambda: _("Applies only to manufacturing firms."),
    "above_scale": lambda: _("Applies only to firms above designated size."),
}


def why_not(
    fw: Framework,
    item: Item,
    reason: str | None,
    states: Mapping[str, AnswerState],
    profile: Mapping[str, Any],
    mode: str,
) -> str:
    if reason == "mode":
        return _("Not asked in this mode.")
    if reason != "applies_if":
        return ""
    for c in item.applies_if:
        if c.profile is not None:
            v = profile.get(c.profile)
            if v is not None and not condition_holds(c.op, v, c.value):
                return _PROFILE_WHY.get(c.profile, lambda: _("Does not apply to your firm's profile."))()
        elif c.item is not None:
            s = states.get(c.item)
            if s is not None and s.value is not None and not condition_holds(c.op, s.value, c.value):
                ref = fw.item(c.item)
                if ref is None:
                    break
                return _(
                    "Applies only when “%(question)s” is answered %(answer)s.",
                    question=t(ref.text),
                    answer=_expected(fw, ref, c, mode),
                )
    return _("Does not apply given your other answers.")


def _expected(fw: Framework, ref: Item, c: Condition, mode: str) -> str:
    values = c.value if isinstance(c.value, (list, tuple)) else [c.value]
    shown = [display_value(fw, ref, AnswerState(ref.id, v), mode) for v in values]
    if c.op.value == "ne":
        return _("other than %(value)s", value=" / ".join(shown))
    if c.op.value == "gte":
        return _("at least %(value)s", value=shown[0])
    if c.op.value == "lte":
        return _("at most %(value)s", value=shown[0])
    return " / ".join(shown)


def file_view(ev: Evidence, names: Mapping[int, str]) -> FileView:
    kind = ev.filename.rsplit(".", 1)[-1].upper() if "." in ev.filename else ""
    return FileView(
        ev.id,
        ev.assessment_id,
        ev.filename,
        size_text(ev.size),
        kind,
        names.get(ev.uploaded_by_id or 0, ""),
        when(ev.uploaded_at),
    )


def item_view(
    fw: Framework,
    a: Assessment,
    item: Item,
    number: str,
    state: AnswerState,
    score: scoring.ItemScore | None,
    *,
    states: Mapping[str, AnswerState],
    profile: Mapping[str, Any],
    names: Mapping[int, str],
    fact_from: str = "",
    form: Mapping[str, Any] | None = None,
) -> ItemView:
    """One item as the questionnaire shows it. `form` holds what the person typed (when a form post is
    shown again with errors): it wins over the stored answer."""
    mode = a.mode
    value = state.value
    na_reason = state.na_reason
    narrative = state.narrative
    raw = (
        ""
        if value is None
        else (num(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value))
    )
    if form is not None:
        value = form.get("value", value)
        raw = form.get("raw", raw)
        na_reason = form.get("na_reason", na_reason)
        narrative = form.get("narrative", narrative)
    language = lang()  # asked once: an item resolves a dozen bilingual texts
    w = values.widget(item)
    choices, groups = w.choices(fw, item, value, mode, language)
    box = w.field(item, language)
    status = score.status if score is not None else "unanswered"
    reason = score.reason if score is not None else None
    sources = [
        SourceView(
            s.quote or "",
            plan_title(s.doc).get(language) if s.doc else "",
            s.standard or "",
            s.note or "",
            s.verify,
        )
        for s in item.sources
    ]
    return ItemView(
        id=item.id,
        number=number,
        text=_in(item.text, language),
        help=_in(item.help, language),
        action=_in(item.action, language),
        type=item.answer_type.value,
        widget=w.template,
        reads=w.reads,
        points=num(item.max_points),
        gate=item.gate,
        required=item.required,
        allow_na=item.allow_na,
        status=status,
        applicable=status != "not_applicable",
        why_not=why_not(fw, item, reason, states, profile, mode),
        choices=choices,
        level_groups=groups,
        raw=raw,
        unit=box.unit,
        min=box.min,
        max=box.max,
        na_checked=na_reason is not None,
        na_reason=na_reason or "",
        narrative_asked=mode in item.narrative_modes,
        narrative=narrative or "",
        evidence_text=_in(item.evidence, language),
        evidence_required=item.evidence_required,
        evidence_missing=bool(score is not None and score.evidence_missing and status == "answered"),
        sources=sources,
        version=state.version,
        fact_from=fact_from,
        updated_by=names.get(state.updated_by_id or 0) or (str(FORMER_MEMBER) if state.version else ""),
        updated_at=when(state.updated_at),
    )


def comment_views(comments: Iterable[Comment], names: Mapping[int, str]) -> list[CommentView]:
    return [
        CommentView(names.get(c.author_id or 0) or str(FORMER_MEMBER), when(c.created_at), c.body)
        for c in comments
    ]


def history_views(fw: Framework, item: Item, entries: Iterable[HistoryEntry], mode: str) -> list[HistoryView]:
    return [
        HistoryView(
            when(h.changed_at),
            h.changed_by or str(FORMER_MEMBER),
            display_value(fw, item, h.old, mode),
            display_value(fw, item, h.new, mode),
            h.old.narrative != h.new.narrative,
            h.via_fact is not None,
            _evidence_change(h.evidence_action, h.evidence_name),
        )
        for h in entries
    ]


def _evidence_change(action: str | None, name: str | None) -> str:
    if action == "added":
        return _("Added the file %(name)s", name=name)
    if action == "removed":
        return _("Removed the file %(name)s", name=name)
    if action == "carried":
        return _("Carried the file %(name)s over from the previous round", name=name)
    return ""


# ---- the section list --------------------------------------------------------------------------------


@dataclass
class SectionLine:
    id: str
    number: int
    title: str
    answered: int
    applicable: int
    assignee: str
    assignee_id: int | None
    current: bool
    problems: int = 0

    @property
    def done(self) -> bool:
        return self.applicable > 0 and self.answered >= self.applicable


def section_lines(
    fw: Framework,
    result: scoring.Result,
    assignments: Mapping[str, int],
    names: Mapping[int, str],
    current: str | None = None,
) -> list[SectionLine]:
    counts: dict[str, list[int]] = {s.id: [0, 0] for s in fw.sections}
    for s in result.items:
        if s.applicable:
            counts[s.section][1] += 1
            if s.status == "answered":
                counts[s.section][0] += 1
    out = []
    for n, sec in enumerate(fw.sections, start=1):
        uid = assignments.get(sec.id)
        out.append(
            SectionLine(
                sec.id,
                n,
                t(sec.title),
                counts[sec.id][0],
                counts[sec.id][1],
                names.get(uid, "") if uid else "",
                uid,
                sec.id == current,
            )
        )
    return out


_CLAUSE = re.compile(r"^GB/T 19580-2012 (\d+(?:\.\d+)+)")


def item_numbers(fw: Framework) -> dict[str, str]:
    """The number shown before each question: the clause of GB/T 19580 the item scores ("4.1.2"), or
    none (""). A number made from positions ("3.1" for a question of "4.1 领导") would look like the
    standard's and is not."""
    out = {}
    for sec in fw.sections:
        for item in sec.items:
            number = ""
            for src in item.sources:
                m = _CLAUSE.match(src.standard or "")
                if m is not None:
                    number = m.group(1)
                    break
            out[item.id] = number
    return out


def section_of(fw: Framework, section_id: str) -> Section | None:
    for s in fw.sections:
        if s.id == section_id:
            return s
    return None


def section_of_item(fw: Framework, item_id: str) -> str | None:
    for s in fw.sections:
        for i in s.items:
            if i.id == item_id:
                return s.id
    return None


def version_changes(old: Framework, new: Framework) -> dict[str, Any] | None:
    """What a new round moving from framework version `old` to `new` changes, for the user: the
    version's own "what is new" lines, and the questions added and gone (answers carry by question).
    None when the version stays."""
    if old.version == new.version:
        return None
    old_ids = {i.id for i in old.items}
    new_ids = {i.id for i in new.items}
    # the "what is new" lines of every released version the round moves past (1.0.0 → 1.1.1: 1.1.0's, 1.1.1's)
    lo, hi = semver_key(old.version), semver_key(new.version)
    passed = [
        f.framework
        for f in list_frameworks()
        if f.id == new.id and lo < semver_key(f.version) < hi and f.status == "published"
    ]
    notes = [
        _("%(version)s: %(change)s", version=fw.version, change=t(c)) if passed else t(c)
        for fw in [*passed, new]
        for c in fw.changes
    ]
    return {
        "from": old.version,
        "to": new.version,
        "notes": notes,
        "added": [t(i.text) for i in new.items if i.id not in old_ids],
        "removed": [t(i.text) for i in old.items if i.id not in new_ids],
    }


# ---- the verdict -------------------------------------------------------------------------------------


def not_for_region() -> str:
    """A target or gate outside the firm's region, as the viewer reads it: the firm's own people
    "your region", a consultant working for the client "this firm's region"."""
    from webapp.consultants.context import client_view

    view = client_view() if has_request_context() else None
    return _("Not for this firm’s region") if view is not None and view.firm_id else _("Not for your region")


def readiness_label(r: str | None) -> str:
    return {
        "ready": _("Ready"),
        "near": _("Nearly ready"),
        "not_ready": _("Not ready"),
        "not_applicable": not_for_region(),
        # a screening mode (quick mode of an award framework) gives a band, never a verdict
        "worth_full_evaluation": _("Worth a full self-evaluation"),
        "not_yet": _("Not yet"),
    }.get(r or "", _("Not assessed yet"))


def self_assessed_notice() -> str:
    return _(
        "A self-assessed score is not a reviewer's score: award lines are set for the scores of the "
        "official reviewers."
    )


def screening_notice() -> str:
    return _(
        "Quick mode is a screening: it tells whether a full self-evaluation is worth doing, not whether "
        "the firm reaches an award's line. Only the full self-evaluation gives a verdict."
    )


@dataclass
class RuleView:
    """Where a target's line or a gate's condition comes from, as shown to the user."""

    line: str  # "杭政办函〔2022〕48号（…）, 2022" or "QReady estimate — not an official line"
    note: str  # why it is an assumption, or why the document is not confirmed
    assumption: bool
    unconfirmed: bool


def rule_view(rule: Rule | None, *, target: bool, region: Iterable[str] = ()) -> RuleView | None:
    """The provenance of a rule: its document (number, date, in force from / to) or "a QReady estimate",
    after the region a target is for ("杭州市 · 杭政办函〔2022〕48号（…）, 2022")."""
    if rule is None:
        return None
    line, note = values.rule_text(rule, target=target, lang=lang(), region=region)
    return RuleView(line, note, rule.is_assumption, not rule.is_assumption and rule.unconfirmed is not None)


def gate_status_label(s: str) -> str:
    return {
        "pass": _("Passed"),
        "fail": _("Failed"),
        "unknown": _("Not yet known"),
        "not_applicable": not_for_region(),
    }[s]


def region_scope(region: Iterable[str]) -> str:
    """Why a target outside the firm's region does not concern it, naming the place it is for."""
    return _(
        "This target is only for firms registered in %(region)s.",
        region=regions.names_of_prefixes(region, lang()),
    )


def target_scopes() -> dict[tuple[str, str], str]:
    """(framework id, target id) → the places the target is for ("杭州市"), in the newest published
    version of each framework (the one the firm home lists); targets for everywhere are left out.
    One listing of the framework files, read from their cache."""
    newest: dict[str, Framework] = {}
    for f in list_frameworks():  # sorted by version: the last published one wins
        if f.status == "published" or f.id not in newest:
            newest[f.id] = f.framework
    return {
        (fw.id, target.id): regions.names_of_prefixes(target.region, lang())
        for fw in newest.values()
        for target in fw.targets
        if target.region
    }


@dataclass
class ItemRef:
    id: str
    number: str
    section: str
    text: str


@dataclass
class PathStep:
    ref: ItemRef
    action: str
    points: str
    effort: str
    unanswered: bool
    evidence_missing: bool
    gate: bool
    switched_on: bool = False  # the item counts only once an earlier step is done


@dataclass
class TargetView:
    id: str
    title: str
    description: str
    readiness: str
    readiness_label: str
    score: str
    threshold: str
    blockers: list[tuple[str, ItemRef | None]]
    steps: list[PathStep]
    reachable: bool
    score_after: str
    profile_gates: list[str]
    sources: list[SourceView]
    scope: str = ""  # not_applicable: the region the target is for
    rule: RuleView | None = None  # where the line comes from
    screening: bool = False  # a screening band, not a verdict


@dataclass
class GateView:
    title: str
    status: str
    status_label: str
    ref: ItemRef | None
    profile: str
    sources: list[SourceView]
    rule: RuleView | None = None  # where the condition comes from


@dataclass
class GapView:
    ref: ItemRef
    points: str
    max_points: str
    recoverable: str
    effort: str
    action: str
    evidence_missing: bool
    unanswered: bool
    gates: list[str]


@dataclass
class SectionScoreView:
    title: str
    points: str
    max_points: str
    percent: float | None


@dataclass
class DeltaView:
    title: str
    before: str
    after: str
    delta: str
    sign: int


@dataclass
class VerdictView:
    score: str
    scale: str
    percent: str
    points: str
    max_points: str
    answered: int
    applicable: int
    evidence_given: int
    evidence_asked: int
    targets: list[TargetView]
    gates: list[GateView]
    gaps: list[GapView]
    sections: list[SectionScoreView]
    comparison: dict[str, Any] | None
    chart: dict[str, Any]
    screening: bool = False  # quick mode of an award framework: screening bands, no verdict
    self_assessed: str = ""  # "a self-assessed score is not a reviewer's score"
    screening_note: str = ""


def _sources(sources: Iterable[Source]) -> list[SourceView]:
    return [
        SourceView(
            s.quote or "", t(plan_title(s.doc)) if s.doc else "", s.standard or "", s.note or "", s.verify
        )
        for s in sources
    ]


def _delta(d: Decimal | None) -> tuple[str, int]:
    """A change as text and as the sign its colour follows."""
    return signed(d), sign(d)


def verdict_view(v: Any, top_gaps: int = 10) -> VerdictView:
    """`v` is a `services.Verdict`."""
    fw: Framework = v.framework
    r: scoring.Result = v.result
    numbers = item_numbers(fw)
    section_titles = {s.id: t(s.title) for s in fw.sections}

    def ref(item_id: str | None) -> ItemRef | None:
        if item_id is None:
            return None
        item = fw.item(item_id)
        if item is None:
            return None
        sec = section_of_item(fw, item_id) or ""
        return ItemRef(item_id, numbers.get(item_id, ""), sec, t(item.text))

    gaps_by_item = {g.item: g for g in r.gaps}
    gates = []
    # conditions that only targets outside the firm's region have: greyed, last
    for g in sorted(r.gates, key=lambda g: g.status == "not_applicable"):
        fg = fw.gate_by_id(g.id)
        gates.append(
            GateView(
                t(g.title),
                g.status,
                gate_status_label(g.status),
                ref(g.item),
                _profile_label(g.profile) if g.profile else "",
                _sources(fg.sources if fg else ()),
                rule_view(fg.rule if fg else None, target=False),
            )
        )
    gate_titles = {g.id: t(g.title) for g in r.gates}
    paths = {p.target: p for p in r.paths}
    targets = []
    for tr in sorted(r.targets, key=lambda tr: not tr.applicable):  # outside the firm's region: last
        target = next(x for x in fw.targets if x.id == tr.id)
        blockers: list[tuple[str, ItemRef | None]] = []
        for b in tr.blocking:
            if b.kind == "gate":
                title = gate_titles.get(b.gate or "", b.gate or "")
                if b.status == "fail":
                    blockers.append((_("Not met: %(gate)s", gate=title), ref(b.item)))
                else:
                    blockers.append((_("Not yet known: %(gate)s", gate=title), ref(b.item)))
            else:
                blockers.append(
                    (
                        _(
                            "The score is %(short)s short of the threshold %(threshold)s.",
                            short=number(b.score_short),
                            threshold=number(tr.threshold, 2),
                        ),
                        None,
                    )
                )
        steps = []
        path = paths.get(tr.id)
        if path is not None:
            gate_items = {fg.passes_if.item for gid in target.gates if (fg := fw.gate_by_id(gid)) is not None}
            for i, iid in enumerate(path.items):
                g = gaps_by_item.get(iid)
                item = fw.item(iid)
                rf = ref(iid)
                if item is None or rf is None:
                    continue
                # what the step adds once done: an item switched on by an earlier step is no gap yet
                gain = path.gains[i] if i < len(path.gains) else (g.points_recoverable if g else None)
                steps.append(
                    PathStep(
                        rf,
                        t(item.action),
                        number(gain) if gain is not None else "0",
                        effort_label(item.effort.value),
                        bool(g and g.unanswered),
                        bool(g and g.evidence_missing),
                        bool(g and g.gates) or iid in gate_items,
                        iid in path.switched_on,
                    )
                )
        targets.append(
            TargetView(
                tr.id,
                t(target.title),
                t(target.description),
                tr.readiness,
                readiness_label(tr.readiness),
                number(tr.score),
                number(tr.threshold, 2),
                blockers,
                steps,
                path.reachable if path is not None else True,
                number(path.score_after) if path is not None else "",
                [gate_titles.get(pg, pg) for pg in (path.profile_gates if path is not None else ())],
                _sources(target.sources),
                "" if tr.applicable else region_scope(tr.region),
                rule_view(target.rule, target=True, region=tr.region),
                tr.screening,
            )
        )
    gaps = []
    for g in r.gaps[:top_gaps]:
        rf = ref(g.item)
        item = fw.item(g.item)
        if rf is None or item is None:
            continue
        gaps.append(
            GapView(
                rf,
                number(g.points),
                number(g.max_points),
                number(g.points_recoverable),
                effort_label(g.effort.value),
                t(item.action),
                g.evidence_missing,
                g.unanswered,
                [gate_titles.get(x, x) for x in g.gates],
            )
        )
    sections = [
        SectionScoreView(
            section_titles[s.id],
            number(s.points),
            number(s.max_points),
            None if s.percent is None else float(round(s.percent, 1)),
        )
        for s in r.sections
    ]
    comparison = None
    if v.comparison is not None:
        c = v.comparison
        comparison = {
            "round": v.previous.round if v.previous is not None else 0,
            "score_before": number(c.before.score),
            "score_after": number(c.after.score),
            "score_delta": signed(c.score_delta),
            "score_sign": sign(c.score_delta),
            "sections": [
                DeltaView(
                    section_titles.get(ch.id, ch.id),
                    number(ch.percent_before),
                    number(ch.percent_after),
                    *_delta(ch.percent_delta),
                )
                for ch in c.sections
            ],
            "targets": [
                DeltaView(
                    t(next((x.title for x in fw.targets if x.id == tc.id), Text(tc.id, tc.id))),
                    readiness_label(tc.before),
                    readiness_label(tc.after),
                    *_delta(
                        None
                        if tc.score_before is None or tc.score_after is None
                        else tc.score_after - tc.score_before
                    ),
                )
                for tc in sorted(c.targets, key=lambda tc: tc.after == "not_applicable")
            ],
            "improved": sum(1 for ch in c.items if (ch.points_delta or 0) > 0),
            "worsened": sum(1 for ch in c.items if (ch.points_delta or 0) < 0),
        }
    chart = {
        "sections": [{"name": s.title, "value": s.percent} for s in sections],
        "scale": float(fw.scale),
        "trend": [
            {
                "round": p.round,
                "label": _("Round %(n)s", n=p.round),
                "score": p.score,
                "draft": p.status == "draft",
            }
            for p in v.trend
        ],
        "thresholds": [
            {"name": t(x.title), "value": float(x.threshold)}
            for x in fw.targets
            if (tr := r.target(x.id)) is None or tr.applicable
        ],
        "labels": {
            "percent": _("Percent of points"),
            "score": _("Score"),
            "provisional": _("provisional"),
        },
    }
    conf = r.confidence
    return VerdictView(
        number(r.score),
        number(fw.scale, 0),
        number(r.percent),
        number(r.points),
        number(r.max_points),
        conf.answered,
        conf.applicable,
        conf.evidence_given,
        conf.evidence_asked,
        targets,
        gates,
        gaps,
        sections,
        comparison,
        chart,
        r.screening,
        self_assessed_notice(),
        screening_notice() if r.screening else "",
    )


def _profile_label(fact: str) -> str:
    return {
        "registered_in_zhejiang": _("Registered in Zhejiang (firm profile)"),
        "city": _("City of registration (firm profile)"),
        "region": _("Region of registration (firm profile)"),
        "years_operating": _("Years in operation (firm profile)"),
        "founded_on": _("Founding date (firm profile)"),
        "above_scale": _("Above designated size (firm profile)"),
        "is_manufacturing": _("Manufacturing industry (firm profile)"),
    }.get(fact, _("Firm profile"))


# ---- the labels of an item, translated once per language ------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {}


def item_labels() -> dict[str, str]:
    """The questionnaire's item labels in the reader's language. A section page shows each of them
    for every item: looked up once per language, not a few hundred times per page."""
    language = lang()
    hit = _LABELS.get(language)
    if hit is not None:
        return hit
    labels = {
        "required": _("Required"),
        "gate": _("Eligibility condition"),
        "points": _("%(n)s points"),
        "fact_from": _("Answered in “%(framework)s”: changing it here changes it there too."),
        "not_applicable": _("Not applicable:"),
        "question": _("Question %(n)s"),
        "range": _("From %(min)s to %(max)s."),
        "at_least": _("At least %(min)s."),
        "at_most": _("At most %(max)s."),
        "a_number": _("A number."),
        "na": _("This does not apply to our firm"),
        "na_reason": _("Why it does not apply (required)"),
        "narrative": _("Written self-evaluation (required)"),
        "narrative_hint": _(
            "Describe what you do and how far it reaches, how you learn and improve, and how it fits your "
            "strategy; for results, give levels, trends and comparisons."
        ),
        "last_saved": _("Last saved %(when)s by %(name)s"),
        "conflict": _("Someone else changed this answer: choose which answer to keep."),
        "changed_by": _("Changed by %(name)s at %(time)s"),
        "theirs": _("Their answer"),
        "yours": _("Your answer"),
        "conflict_hint": _(
            "Your answer is in the form: save again to keep it, or reload the page to take theirs."
        ),
        "evidence_missing": _(
            "Evidence is required for this answer: until a file is attached it earns at most half its points."
        ),
        "basis_summary": _("Policy basis and how to improve"),
        "how_to_improve": _("How to improve"),
        "basis": _("Policy basis"),
        "verify": _("to be checked against the original text"),
        "evidence": _("Evidence"),
        "evidence_required": _("required"),
        "evidence_counts": _("What counts as evidence:"),
        "remove": _("Remove"),
        "previous_files": _("Given in round %(n)s and not carried into this round:"),
        "attach": _("Attach a file: PDF, PNG or JPEG image, Word, Excel or PowerPoint, up to %(mb)s MB."),
        "upload": _("Upload"),
        "comments": _("Comments"),
        "add_comment": _("Add a comment"),
        "post_comment": _("Post comment"),
        "history": _("History"),
        "narrative_edited": _("self-evaluation edited"),
        "via_fact": _("shared answer changed in another assessment"),
        "no_changes": _("No changes yet."),
        "all_changes": _("All %(n)s changes"),
    }
    _LABELS[language] = labels
    return labels
