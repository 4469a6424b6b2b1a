"""Improvement reports: what goes in them, how they are rendered, and the cache in front of both.

Three steps, each with explicit arguments:

1. `load_inputs(assessment_id, ...)` reads the rows a report shows into frozen dataclasses (under the
   tenant filter: an assessment outside the context is simply not found). Its `digest(lang)` is the
   cache key: the assessment's content, the firm profile, the preparer, the language and the version
   of the templates and of this code.
2. `assemble(inputs, lang)` scores the assessment with the engine and builds the report as plain
   values (dicts, lists, strings, numbers; the charts as SVG text). Templates never see a database row.
   `build_report_data(assessment_id, lang, ...)` is steps 1 and 2 together.
3. `render_html` / `render_pdf` turn those values into a document; `get_report` puts the cache in
   front of everything, so an unchanged assessment costs a few queries and a file read.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, render_template
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

import scoring
from assessments.loader import framework_file, load_framework
from scoring.model import Framework, Item, Rule, Source, Text
from webapp import db
from webapp.models import Action, Answer, Assessment, Comment, Consultancy, Evidence, Firm, User
from webapp.orgs.services import profile_facts
from webapp.questionnaire.engine_bridge import submission
from webapp.questionnaire.plans import plan_title
from webapp.refdata import industries, regions
from webapp.reports import charts, render
from webapp.reports.cache import ReportCache, StoredReportCache
from webapp.reports.fetcher import SCHEME, Asset, static_assets
from webapp.results import values
from webapp.results.values import number, signed

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent.parent
DATA = PACKAGE / "data"
LANGS = ("zh", "en")
# Raise when the meaning of the inputs changes; edits to templates, CSS, data and code change the
# template version by themselves (see `template_version`).
REPORT_FORMAT = 1
MAX_LOGO_BYTES = 512 * 1024
MOVED_SHOWN = 12  # questions listed under "questions that moved" (the largest moves)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- inputs ---------------------------------------------------------------------------------------


@dataclass  # not frozen: `profile_facts` takes it as a FirmProfile, whose attributes are settable
class FirmInfo:
    id: int
    name: str
    credit_code: str
    region_code: str
    industry_division: str
    size_class: str | None
    above_scale: bool
    founded_on: dt.date | None
    employees: int | None


@dataclass(frozen=True)
class AnswerRow:
    item_id: str
    value: Any
    na_reason: str | None
    narrative: str | None


@dataclass(frozen=True)
class EvidenceRow:
    item_id: str
    filename: str


@dataclass(frozen=True)
class CommentRow:
    item_id: str
    author: str | None
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class RoundInputs:
    """One assessment round: everything the engine needs to score it."""

    id: int
    framework_id: str
    framework_version: str
    mode: str | None
    status: str
    round: int
    as_of: dt.date
    submitted_at: dt.datetime | None
    answers: tuple[AnswerRow, ...]
    evidence: tuple[EvidenceRow, ...]


@dataclass(frozen=True)
class Preparer:
    """Who prepares the report: a person and, for a consultant, the consultancy (name and logo)."""

    name: str | None = None
    org_kind: str | None = None  # firm | consultancy | regulator | None (the CLI)
    org_name: str | None = None
    consultancy_id: int | None = None
    logo: bytes | None = field(default=None, repr=False)

    def key(self) -> dict[str, Any]:
        d = asdict(self)
        d["logo"] = hashlib.sha256(self.logo).hexdigest() if self.logo else None
        return d


@dataclass(frozen=True)
class ActionRow:
    """An action of the firm's improvement plan on this framework (`webapp.plan`)."""

    title: str
    owner: str | None
    due_on: dt.date | None
    status: str
    items: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class ReportInputs:
    firm: FirmInfo
    current: RoundInputs
    previous: RoundInputs | None
    comments: tuple[CommentRow, ...]
    preparer: Preparer
    actions: tuple[ActionRow, ...] = ()

    def digest(self, lang: str) -> str:
        """The cache key: every input the report shows, the language and the template version."""
        payload = {
            "format": REPORT_FORMAT,
            "template": template_version(),
            "lang": lang,
            "firm": asdict(self.firm),
            "current": asdict(self.current),
            "previous": asdict(self.previous) if self.previous else None,
            "comments": [asdict(c) for c in self.comments],
            "actions": [asdict(a) for a in self.actions],
            "preparer": self.preparer.key(),
            "frameworks": sorted(
                {
                    framework_sha(r.framework_id, r.framework_version)
                    for r in (self.current, self.previous)
                    if r is not None
                }
            ),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _files_of_the_report() -> list[Path]:
    files: list[Path] = []
    for folder, pattern in (
        (PACKAGE, "*.py"),
        (DATA, "*"),
        (ROOT / "templates" / "reports", "*"),
        (ROOT / "webapp" / "static" / "reports", "*"),
        (ROOT / "webapp" / "translations", "*/LC_MESSAGES/messages.mo"),
    ):
        files.extend(p for p in folder.glob(pattern) if p.is_file())
    return sorted(files)


@functools.lru_cache(maxsize=1)
def template_version() -> str:
    """A hash of the templates, stylesheets, data files, translations and code that shape a report."""
    h = hashlib.sha256(f"report format {REPORT_FORMAT}".encode())
    for path in _files_of_the_report():
        h.update(str(path.relative_to(ROOT)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def framework_sha(framework_id: str, version: str) -> str:
    """The framework file's hash: a draft framework edited in place changes the key too."""
    return framework_file(framework_id, version).sha256


def _round(a: Assessment) -> RoundInputs:
    answers = db.session.execute(
        select(Answer.item_id, Answer.value, Answer.na_reason, Answer.narrative)
        .where(Answer.assessment_id == a.id, Answer.firm_id == a.firm_id)
        .order_by(Answer.item_id)
    )
    evidence = db.session.execute(
        select(Evidence.item_id, Evidence.filename)
        .where(Evidence.assessment_id == a.id, Evidence.firm_id == a.firm_id)
        .order_by(Evidence.item_id, Evidence.filename, Evidence.id)
    )
    return RoundInputs(
        id=a.id,
        framework_id=a.framework_id,
        framework_version=a.framework_version,
        mode=a.mode,
        status=a.status,
        round=a.round,
        as_of=a.as_of or a.created_at.date(),
        submitted_at=a.submitted_at,
        answers=tuple(AnswerRow(r.item_id, r.value, r.na_reason, r.narrative) for r in answers),
        evidence=tuple(EvidenceRow(r.item_id, r.filename) for r in evidence),
    )


def load_inputs(
    assessment_id: int, *, firm_id: int | None = None, preparer: Preparer | None = None
) -> ReportInputs | None:
    """The rows one report shows, read under the tenant filter; None when the assessment is not
    visible (another firm's, or no such id) or does not belong to `firm_id`."""
    a = db.session.scalar(select(Assessment).where(Assessment.id == assessment_id))
    if a is None or (firm_id is not None and a.firm_id != firm_id):
        return None
    firm = db.session.scalar(select(Firm).where(Firm.id == a.firm_id))
    if firm is None:
        return None
    previous = None
    if a.previous_id is not None:
        prev = db.session.scalar(
            select(Assessment).where(Assessment.id == a.previous_id, Assessment.firm_id == a.firm_id)
        )
        if prev is not None and prev.framework_id == a.framework_id:
            previous = _round(prev)
    comments = db.session.execute(
        select(Comment.item_id, Comment.body, Comment.created_at, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.assessment_id == a.id, Comment.firm_id == a.firm_id)
        .order_by(Comment.created_at, Comment.id)
    )
    actions = db.session.execute(
        select(Action.title, User.name, Action.due_on, Action.status, Action.items, Action.targets)
        .outerjoin(User, User.id == Action.owner_id)
        .where(
            Action.firm_id == a.firm_id,
            Action.framework_id == a.framework_id,
            Action.status != "dropped",
        )
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)
    )
    return ReportInputs(
        firm=FirmInfo(
            id=firm.id,
            name=firm.name,
            credit_code=firm.credit_code,
            region_code=firm.region_code,
            industry_division=firm.industry_division,
            size_class=firm.size_class,
            above_scale=bool(firm.above_scale),
            founded_on=firm.founded_on,
            employees=firm.employees,
        ),
        current=_round(a),
        previous=previous,
        comments=tuple(CommentRow(c.item_id, c.name, c.body, c.created_at) for c in comments),
        preparer=preparer or Preparer(),
        actions=tuple(
            ActionRow(r.title, r.name, r.due_on, r.status, tuple(r.items or ()), tuple(r.targets or ()))
            for r in actions
        ),
    )


def branding_logo(consultancy_id: int) -> bytes | None:
    """`instance/branding/<consultancy_id>.png` (with `EVIDENCE_STORAGE=s3`: the object
    `branding/<consultancy_id>` in the bucket), when present, a PNG and not over 512 KB."""
    stored = bucket("branding/")
    if stored is not None:
        try:
            data = bytes(stored.get(f"{int(consultancy_id)}"))
        except FileNotFoundError:
            return None
    else:
        path = Path(current_app.instance_path) / "branding" / f"{int(consultancy_id)}.png"
        try:
            if path.stat().st_size > MAX_LOGO_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
    return data if len(data) <= MAX_LOGO_BYTES and data.startswith(PNG_SIGNATURE) else None


def _branded(consultancy_id: int) -> bool:
    """Reports carry the consultancy's logo only on a plan with branded reports."""
    from webapp.billing.entitlements import Org, allowed

    return allowed(Org("consultancy", consultancy_id), "branded_reports").allowed


def preparer_for(user: User | None, org_kind: str | None, org_id: int | None) -> Preparer:
    """The preparer of a report requested by `user` acting for the organisation (kind, id)."""
    name = user.name if user is not None else None
    if org_kind == "consultancy" and org_id is not None:
        c = db.session.get(Consultancy, org_id)
        if c is not None:
            return Preparer(
                name=name,
                org_kind="consultancy",
                org_name=c.name,
                consultancy_id=c.id,
                logo=branding_logo(c.id) if _branded(c.id) else None,
            )
    return Preparer(name=name, org_kind=org_kind)


# ---- the report as plain values -------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def plans() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((DATA / "plans.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def plan_year(doc: str) -> int | None:
    year = plans().get(doc, {}).get("year")
    return int(year) if year is not None else None


@functools.lru_cache(maxsize=1)
def benchmarks() -> list[dict[str, Any]]:
    data = yaml.safe_load((DATA / "benchmarks.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _f(x: Decimal | None) -> float | None:
    return None if x is None else float(round(x, 2))


def _initials(name: str) -> str:
    """Two characters for a text mark: the first two words' initials, or for a Chinese name the two
    characters after a leading place name (浙江卓越… → 卓越)."""
    name = name.strip()
    if re.match(r"[\u4e00-\u9fff]", name):
        rest = re.sub(
            r"^(浙江|杭州|宁波|温州|嘉兴|湖州|绍兴|金华|衢州|舟山|台州|丽水|上海|北京)(省|市)?",
            "",
            name,
        )
        return (rest or name)[:2]
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w[0] for w in words[:2]).upper() or name[:2]


class _Builder:
    """Builds the report for one language; gettext runs under the forced locale of `assemble`."""

    def __init__(self, inputs: ReportInputs, lang: str) -> None:
        self.inputs = inputs
        self.lang = lang
        cur = inputs.current
        self.fw = load_framework(cur.framework_id, cur.framework_version)
        self.mode = self._mode(self.fw, cur.mode)
        self.result, self.dropped = self._score(self.fw, cur, self.mode)
        self.factor = (
            self.fw.scale / self.result.max_points if self.result.max_points else Decimal(0)
        )  # item points -> points on the framework's scale
        self.answers = {a.item_id: a for a in cur.answers}
        self.evidence: dict[str, list[str]] = {}
        for e in cur.evidence:
            self.evidence.setdefault(e.item_id, []).append(e.filename)
        self.comments: dict[str, list[CommentRow]] = {}
        for c in inputs.comments:
            self.comments.setdefault(c.item_id, []).append(c)
        self.section_of = {it.id: s for s in self.fw.sections for it in s.items}
        self.gaps = {g.item: g for g in self.result.gaps}
        self.previous: scoring.Result | None = None
        self.previous_fw: Framework | None = None
        if inputs.previous is not None:
            pfw = load_framework(inputs.previous.framework_id, inputs.previous.framework_version)
            try:
                self.previous, _dropped = self._score(
                    pfw, inputs.previous, self._mode(pfw, inputs.previous.mode)
                )
                self.previous_fw = pfw
            except scoring.InvalidSubmission:
                self.previous = None

    # -- scoring --

    @staticmethod
    def _mode(fw: Framework, mode: str | None) -> str:
        return mode if mode in {m.id for m in fw.modes} else fw.default_mode

    def _score(self, fw: Framework, r: RoundInputs, mode: str) -> tuple[scoring.Result, tuple[str, ...]]:
        """Score a round. Answers the framework no longer accepts are left out and listed."""
        rows = [(a.item_id, a.value, a.na_reason) for a in r.answers]
        evidence = {e.item_id for e in r.evidence if fw.item(e.item_id) is not None}
        profile = profile_facts(self.inputs.firm, r.as_of)
        dropped: set[str] = set()
        while True:  # each round drops at least one more item, or returns, or raises
            sub = submission([row for row in rows if row[0] not in dropped], evidence, profile, mode, r.as_of)
            try:
                return scoring.score(fw, sub), tuple(sorted(dropped))
            except scoring.InvalidSubmission as exc:
                bad = {p.item for p in exc.problems if p.item is not None}
                if not bad or bad <= dropped:
                    raise
                dropped |= bad

    # -- small helpers --

    def t(self, text: Text | None) -> str:
        return text.get(self.lang) if text is not None else ""

    def item_text(self, item_id: str) -> str:
        item = self.fw.item(item_id)
        return self.t(item.text) if item is not None else item_id

    def gain(self, points: Decimal) -> str:
        return number(points * self.factor)

    def rule(self, rule: Rule | None, *, target: bool, region: Iterable[str] = ()) -> dict[str, Any] | None:
        """Where a line or a condition comes from: "杭政办函〔2022〕48号（…）, 2022" or a QReady estimate,
        after the region a target is for ("杭州市 · …")."""
        if rule is None:
            return None
        line, note = values.rule_text(rule, target=target, lang=self.lang, region=region)
        return {"line": line, "note": note, "warn": rule.is_assumption or rule.unconfirmed is not None}

    def sources(self, sources: Iterable[Source]) -> list[dict[str, Any]]:
        out = []
        for s in sources:
            if s.doc is not None:
                out.append(
                    {
                        "kind": "plan",
                        "plan": self.t(plan_title(s.doc)),
                        "year": plan_year(s.doc),
                        "quote": s.quote,
                    }
                )
            elif s.standard is not None:
                out.append({"kind": "standard", "standard": s.standard, "verify": s.verify})
        return out

    def answer_text(self, item: Item, value: Any) -> str:
        """How an answer reads (`webapp.results.values`, as on the questionnaire's pages)."""
        return values.answer_text(self.fw, item, value, self.mode, self.lang)

    def profile_text(self, fact: str | None) -> str:
        facts = profile_facts(self.inputs.firm, self.inputs.current.as_of)
        value = facts.get(fact or "")
        if value is None:
            return str(_("Not in the firm profile"))
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        if fact in ("city", "region") and isinstance(value, str):
            return regions.name(value, self.lang)
        if fact == "years_operating" and isinstance(value, int):
            return str(ngettext("%(num)d year", "%(num)d years", value))
        return str(value)

    # -- the parts of the report --

    def cover(self) -> dict[str, Any]:
        cur, firm, prep = self.inputs.current, self.inputs.firm, self.inputs.preparer
        mode = next((m for m in self.fw.modes if m.id == self.mode), None)
        size_labels = {"large": _("Large"), "medium": _("Medium"), "small": _("Small"), "micro": _("Micro")}
        return {
            "firm": firm.name,
            "credit_code": firm.credit_code,
            "region": regions.name(firm.region_code, self.lang) if firm.region_code else "",
            "industry": industries.name(firm.industry_division, self.lang) if firm.industry_division else "",
            "size": size_labels.get(firm.size_class or "", ""),
            "framework": self.t(self.fw.title),
            "version": self.fw.version,
            "mode": self.t(mode.title) if mode is not None and len(self.fw.modes) > 1 else "",
            "round": cur.round,
            "as_of": format_date(cur.as_of, "long"),
            "status": cur.status,
            "submitted_at": format_date(cur.submitted_at, "long") if cur.submitted_at else "",
            "prepared_by": prep.name or "",
            "org_kind": prep.org_kind,
            "org_name": prep.org_name or "",
            "consultancy": prep.org_kind == "consultancy",
            "has_logo": bool(prep.logo),
            "initials": _initials(prep.org_name or "") if prep.org_name else "",
        }

    def summary(self) -> dict[str, Any]:
        r = self.result
        conf = r.confidence
        paths = {p.target: p for p in r.paths}
        verdicts = []
        for tr in sorted(r.targets, key=lambda tr: not tr.applicable):  # outside the firm's region: last
            target = next(t for t in self.fw.targets if t.id == tr.id)
            failed = [b for b in tr.blocking if b.kind == "gate" and b.status == "fail"]
            unknown = [b for b in tr.blocking if b.kind == "gate" and b.status == "unknown"]
            short = next((b.score_short for b in tr.blocking if b.kind == "score"), None)
            path = paths.get(tr.id)
            verdicts.append(
                {
                    "id": tr.id,
                    "title": self.t(target.title),
                    "readiness": tr.readiness,
                    "score": number(tr.score),
                    "threshold": number(tr.threshold),
                    "short": number(short) if short else None,
                    "failed": len(failed),
                    "unknown": len(unknown),
                    "steps": len(path.items) if path is not None else 0,
                    "reachable": path.reachable if path is not None else True,
                    "bar": float(min(tr.score / tr.threshold * 100, Decimal(100))) if tr.threshold else 100.0,
                    "region": "" if tr.applicable else regions.names_of_prefixes(tr.region, self.lang),
                    "rule": self.rule(target.rule, target=True, region=tr.region),
                }
            )
        return {
            "score": number(r.score),
            "scale": number(r.scale, 0),
            "percent": number(r.percent),
            "answered": conf.answered,
            "applicable": conf.applicable,
            "evidence_given": conf.evidence_given,
            "evidence_asked": conf.evidence_asked,
            "unanswered": len(r.unanswered),
            "dropped": [self.item_text(i) for i in self.dropped],
            "verdicts": verdicts,
            "ready": sum(1 for v in verdicts if v["readiness"] == "ready"),
            "screening": r.screening,
        }

    def sections(self) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        for s in self.result.sections:
            if not s.max_points:
                continue
            section = next(x for x in self.fw.sections if x.id == s.id)
            rows.append(
                {
                    "id": s.id,
                    "title": self.t(section.title),
                    "points": number(s.points),
                    "max_points": number(s.max_points),
                    "percent": _f(s.percent) if s.percent is not None else None,
                    "percent_text": number(s.percent) if s.percent is not None else "—",
                }
            )
        labels = [row["title"] for row in rows]
        series = [charts.Series(_("This round"), [row["percent"] for row in rows])]
        if self.previous is not None:
            before = {s.id: s for s in self.previous.sections}
            series.append(
                charts.Series(
                    _("Previous round"),
                    [_f(before[row["id"]].percent) if row["id"] in before else None for row in rows],
                )
            )
        chart_ok = len(rows) >= 3  # a radar needs three spokes
        return {
            "rows": rows,
            "previous": len(series) > 1,
            # pygal's SVG: generated here from framework data, escaped by its XML writer
            "radar": Markup(charts.radar(labels, series)) if chart_ok else None,  # noqa: S704
            "bars": Markup(charts.bars(labels, series)) if rows else None,  # noqa: S704
        }

    def gates(self) -> list[dict[str, Any]]:
        used: dict[str, list[str]] = {}
        for target in self.fw.targets:
            for gid in target.gates:
                used.setdefault(gid, []).append(self.t(target.title))
        out = []
        for g in self.result.gates:
            if g.id not in used:
                continue
            if g.item is not None:
                item = self.fw.item(g.item)
                answer = self.answers.get(g.item)
                decided_by = self.t(item.text) if item else g.item
                if g.reason == "not_applicable":
                    value = _("Does not apply")
                elif answer is None or answer.value is None or item is None:
                    value = _("Not answered")
                else:
                    value = self.answer_text(item, answer.value)
            else:
                decided_by = _("Firm profile")
                value = self.profile_text(g.profile)
            out.append(
                {
                    "id": g.id,
                    "title": self.t(g.title),
                    "status": g.status,
                    "targets": used[g.id],
                    "decided_by": decided_by,
                    "value": value,
                    "profile": g.item is None,
                    "sources": self.sources(g.sources),
                    "rule": self.rule(
                        fg.rule if (fg := self.fw.gate_by_id(g.id)) is not None else None, target=False
                    ),
                }
            )
        order = {"fail": 0, "unknown": 1, "pass": 2}  # then not_applicable: only targets of other regions
        return sorted(out, key=lambda x: order.get(x["status"], 3))

    def paths(self) -> list[dict[str, Any]]:
        out = []
        ready = {t.id for t in self.result.targets if t.readiness in ("ready", "worth_full_evaluation")}
        for p in self.result.paths:
            if p.target in ready:
                continue
            target = next(t for t in self.fw.targets if t.id == p.target)
            steps = []
            gate_items = {
                g.passes_if.item for gid in target.gates if (g := self.fw.gate_by_id(gid)) is not None
            }
            for i, item_id in enumerate(p.items):
                item = self.fw.item(item_id)
                gap = self.gaps.get(item_id)
                # what the step adds once done (an item switched on by an earlier step is no gap yet)
                gain = p.gains[i] if i < len(p.gains) else (gap.points_recoverable if gap else None)
                steps.append(
                    {
                        "text": self.t(item.text) if item else item_id,
                        "action": self.t(gap.action) if gap else (self.t(item.action) if item else ""),
                        "gain": self.gain(gain) if gain is not None else "0",
                        "gate": bool(gap and gap.gates) or item_id in gate_items,
                        "priority": gap.priority if gap else None,
                        "switched_on": item_id in p.switched_on,
                    }
                )
            tr = self.result.target(p.target)
            out.append(
                {
                    "title": self.t(target.title),
                    "readiness": tr.readiness if tr else "not_ready",
                    "score": number(tr.score) if tr else "",
                    "threshold": number(target.threshold),
                    "reachable": p.reachable,
                    "score_after": number(p.score_after),
                    "gained": self.gain(p.points_gained),
                    "profile_gates": [
                        self.t(g.title)
                        for gid in p.profile_gates
                        if (g := self.fw.gate_by_id(gid)) is not None
                    ],
                    "steps": steps,
                }
            )
        return out

    def _step_title(self, items: tuple[str, ...]) -> str:
        """A step made from a path keeps no title of its own: its item's action, in the report's language."""
        item = self.fw.item(items[0]) if items else None
        return (self.t(item.action) or self.t(item.text)) if item is not None else ""

    def actions(self) -> list[dict[str, Any]]:
        """The plan's actions on this framework: what, who, by when, how far."""
        status = {"open": _("Open"), "in_progress": _("In progress"), "done": _("Done")}
        numbers = {
            it.id: f"{n}.{m}" for n, s in enumerate(self.fw.sections, 1) for m, it in enumerate(s.items, 1)
        }
        titles = {tg.id: self.t(tg.title) for tg in self.fw.targets}
        return [
            {
                "title": a.title or self._step_title(a.items),
                "owner": a.owner or "—",
                "due": format_date(a.due_on, "medium") if a.due_on else "—",
                "status": status.get(a.status, a.status),
                "done": a.status == "done",
                "questions": [numbers[i] for i in a.items if i in numbers],
                "serves": [titles[x] for x in a.targets if x in titles],
            }
            for a in self.inputs.actions
        ]

    def plan(self) -> list[dict[str, Any]]:
        out = []
        for g in self.result.gaps:
            item = self.fw.item(g.item)
            if item is None:
                continue
            section = self.section_of[g.item]
            out.append(
                {
                    "priority": g.priority,
                    "item": g.item,
                    "section": self.t(section.title),
                    "text": self.t(item.text),
                    "action": self.t(g.action),
                    "gain": self.gain(g.points_recoverable),
                    "has_gain": g.points_recoverable > 0,
                    "points": number(g.points),
                    "max_points": number(g.max_points),
                    "effort": values.effort_label(g.effort.value),
                    "evidence": self.t(item.evidence),
                    "evidence_missing": g.evidence_missing,
                    "evidence_files": self.evidence.get(g.item, []),
                    "unanswered": g.unanswered,
                    "gates": [
                        self.t(x.title) for gid in g.gates if (x := self.fw.gate_by_id(gid)) is not None
                    ],
                    "sources": self.sources(g.sources),
                }
            )
        return out

    def benchmarks(self) -> list[dict[str, Any]]:
        out = []
        for b in benchmarks():
            item = next((it for iid in b["items"] if (it := self.fw.item(iid)) is not None), None)
            if item is None:
                continue
            score = self.result.item(item.id)
            answer = self.answers.get(item.id)
            value = answer.value if answer is not None and not answer.na_reason else None
            applicable = score is not None and score.applicable
            kind, target = b["kind"], Decimal(str(b["target"]))
            if not applicable:
                status, firm = "na", _("Does not apply")
            elif value is None:
                status, firm = "unanswered", _("Not answered")
            elif kind == "rate" and isinstance(value, (int, float)):
                status = "meets" if Decimal(str(value)) >= target else "below"
                firm = f"{number(value, 2)}%"
            elif kind == "member":
                status = "meets" if value is True else "below"
                firm = self.answer_text(item, value)
            else:  # count: an answered date means the firm is one of the firms the plan counts
                status, firm = "meets", self.answer_text(item, value)
            doc = b["source"]["doc"]
            out.append(
                {
                    "id": b["id"],
                    "kind": kind,
                    "title": self.t(Text(**b["title"])),
                    "scope": self.t(Text(**b["scope"])),
                    "target": number(target, 2),
                    "baseline": b["status"] == "baseline",
                    "year": b["year"],
                    "firm": firm,
                    "status": status,
                    "plan": self.t(plan_title(doc)),
                    "plan_year": plan_year(doc),
                    "quote": b["source"]["quote"],
                }
            )
        return out

    def comparison(self) -> dict[str, Any] | None:
        if self.previous is None or self.inputs.previous is None or self.previous_fw is None:
            return None
        c = scoring.compare(self.previous, self.result)
        prev = self.inputs.previous
        readiness = {
            "ready": _("Ready"),
            "near": _("Nearly ready"),
            "not_ready": _("Not ready"),
            "not_applicable": _("Not for your region"),
            "worth_full_evaluation": _("Worth a full self-evaluation"),
            "not_yet": _("Not yet"),
        }
        change = {
            "improved": _("Improved"),
            "worsened": _("Worsened"),
            "unchanged": _("Unchanged"),
            "added": _("New target"),
            "removed": _("No longer assessed"),
        }
        sections = []
        for s in c.sections:
            section = next((x for x in self.fw.sections if x.id == s.id), None)
            if section is None or not (s.max_after or s.max_before):
                continue
            sections.append(
                {
                    "title": self.t(section.title),
                    "before": number(s.percent_before) if s.percent_before is not None else "—",
                    "after": number(s.percent_after) if s.percent_after is not None else "—",
                    "delta": _f(s.percent_delta),
                    "delta_text": signed(s.percent_delta),
                }
            )
        targets = []
        for t in c.targets:
            target = next((x for x in self.fw.targets if x.id == t.id), None)
            targets.append(
                {
                    "title": self.t(target.title) if target else t.id,
                    "before": readiness.get(t.before or "", "—"),
                    "after": readiness.get(t.after or "", "—"),
                    "change": t.change,
                    "change_text": change[t.change],
                }
            )
        items: list[dict[str, Any]] = []
        for i in c.items:
            delta = i.points_delta
            if delta is None or delta == 0:
                continue
            item = self.fw.item(i.id) or self.previous_fw.item(i.id)
            items.append(
                {
                    "text": self.t(item.text) if item else i.id,
                    "delta": float(delta),
                    "delta_text": signed(delta * self.factor),
                }
            )
        items.sort(key=lambda x: -abs(x["delta"]))
        shown = items[:MOVED_SHOWN]
        return {
            "round": prev.round,
            "as_of": format_date(prev.as_of, "long"),
            "version_before": c.version_before,
            "version_after": c.version_after,
            "score_before": number(c.before.score),
            "score_after": number(c.after.score),
            "score_delta": signed(c.score_delta),
            "up": c.score_delta > 0,
            "down": c.score_delta < 0,
            "sections": sections,
            "targets": targets,
            "moved": shown,
            "moved_more": len(items) - len(shown),
        }

    def appendix(self) -> list[dict[str, Any]]:
        reason_text = {
            "applies_if": _("Does not apply to this firm"),
            "mode": _("Not asked in this mode"),
            "na": _("Declared not applicable"),
        }
        out = []
        n = 0
        for section in self.fw.sections:
            items = []
            for item in section.items:
                n += 1
                score = self.result.item(item.id)
                answer = self.answers.get(item.id)
                status = score.status if score is not None else "unanswered"
                value = ""
                if answer is not None and answer.value is not None and not answer.na_reason:
                    value = self.answer_text(item, answer.value)
                items.append(
                    {
                        "n": n,
                        "id": item.id,
                        "text": self.t(item.text),
                        "value": value,
                        "long": values.widget(item).long,
                        "status": status,
                        "reason": reason_text.get(score.reason or "", "") if score and score.reason else "",
                        "na_reason": answer.na_reason if answer is not None else None,
                        "narrative": answer.narrative if answer is not None else None,
                        "points": number(score.points) if score is not None and score.max_points else None,
                        "max_points": number(score.max_points)
                        if score is not None and score.max_points
                        else None,
                        "evidence": self.evidence.get(item.id, []),
                        "evidence_asked": self.t(item.evidence),
                        "dropped": item.id in self.dropped,
                        "comments": [
                            {
                                "author": c.author or _("Former user"),
                                "date": format_date(c.created_at, "medium"),
                                "body": c.body,
                            }
                            for c in self.comments.get(item.id, [])
                        ],
                    }
                )
            out.append({"title": self.t(section.title), "entries": items})
        return out


def _css_content(label: str) -> str:
    """A translated "Page %(page)s of %(pages)s" as a CSS `content` value with the two counters."""

    def quoted(text: str) -> str:
        return '"' + re.sub(r'["\\\n<>]', " ", text) + '"'

    parts = re.split(r"(%\(page\)s|%\(pages\)s)", label)
    out = []
    for part in parts:
        if part == "%(page)s":
            out.append("counter(page)")
        elif part == "%(pages)s":
            out.append("counter(pages)")
        elif part:
            out.append(quoted(part))
    return " ".join(out)


def assemble(inputs: ReportInputs, lang: str) -> dict[str, Any]:
    """The report as plain values, in `lang` (zh or en)."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}")
    with force_locale(lang):
        b = _Builder(inputs, lang)
        return {
            "lang": lang,
            # a CSS value for the <style> element; _css_content strips quotes and angle brackets
            "page_label_css": Markup(_css_content(_("Page %(page)s of %(pages)s"))),  # noqa: S704
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "draft": inputs.current.status != "submitted",
            "framework_id": inputs.current.framework_id,
            "consultancy_id": inputs.preparer.consultancy_id,
            "scale": number(b.fw.scale, 0),
            "cover": b.cover(),
            "summary": b.summary(),
            "sections": b.sections(),
            "gates": b.gates(),
            "paths": b.paths(),
            "plan": b.plan(),
            "actions": b.actions(),
            "benchmarks": b.benchmarks(),
            "comparison": b.comparison(),
            "appendix": b.appendix(),
        }


def build_report_data(
    assessment_id: int, lang: str, *, firm_id: int | None = None, preparer: Preparer | None = None
) -> dict[str, Any] | None:
    """Load and assemble in one call; None when the assessment is not visible."""
    inputs = load_inputs(assessment_id, firm_id=firm_id, preparer=preparer)
    return None if inputs is None else assemble(inputs, lang)


# ---- rendering ------------------------------------------------------------------------------------


def logo_url(inputs: ReportInputs, kind: str) -> str | None:
    p = inputs.preparer
    if not p.logo or p.consultancy_id is None:
        return None
    if kind == "pdf":
        return f"{SCHEME}branding/{p.consultancy_id}.png"
    return "data:image/png;base64," + base64.b64encode(p.logo).decode()


@functools.lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (ROOT / "webapp" / "static" / "reports" / "report.css").read_text(encoding="utf-8")


def render_html(data: Mapping[str, Any], *, kind: str = "html", logo: str | None = None) -> str:
    """`pdf`: the document WeasyPrint renders; `html`: the same document, standalone (stylesheet
    inside); `fragment`: the report alone, for the page in the app."""
    with force_locale(data["lang"]):
        if kind == "fragment":
            return render_template("reports/_report.html", r=data, pdf=False, logo=logo)
        return render_template(
            "reports/document.html",
            r=data,
            pdf=kind == "pdf",
            css=None if kind == "pdf" else Markup(_stylesheet()),  # noqa: S704 - our stylesheet file
            logo=logo,
        )


def pdf_assets(inputs: ReportInputs) -> dict[str, Asset]:
    """What the renderer may fetch for this report: the report stylesheet and the preparer's logo."""
    assets = static_assets()
    p = inputs.preparer
    if p.logo and p.consultancy_id is not None:
        assets[f"{SCHEME}branding/{p.consultancy_id}.png"] = Asset(p.logo, "image/png")
    return assets


# Settings of the reports: the app's config (create_app overrides) first, then the environment
# variable of the same name (listed in README.md), then the default.
SETTINGS: dict[str, Any] = {
    "REPORT_RENDER_TIMEOUT": 30.0,  # seconds one PDF may take before its worker is stopped
    "REPORT_RENDER_WORKERS": 1,  # PDF worker processes per app process
    "REPORT_CACHE_DIR": None,  # default: <instance>/report-cache
    "REPORT_CACHE_MAX_MB": 500,  # the cache prunes its least recently used reports past this
    "S3_REPORTS_PREFIX": "report-cache/",  # with EVIDENCE_STORAGE=s3: where reports and bulk zips go
}


def setting(name: str) -> Any:
    default = SETTINGS[name]
    value = current_app.config.get(name)
    if value in (None, ""):
        value = os.environ.get(name) or default
    if value is None:
        return None
    return type(default)(value) if default is not None else str(value)


def render_pdf(html: str, assets: dict[str, Asset]) -> render.Rendered:
    return render.render_pdf(
        html, assets, timeout=setting("REPORT_RENDER_TIMEOUT"), workers=setting("REPORT_RENDER_WORKERS")
    )


def bucket(prefix: str) -> Any | None:
    """With `EVIDENCE_STORAGE=s3`, the app's bucket under `prefix` (an `S3Store`); else None. Every node
    of a multi-node install sees the same objects there."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("EVIDENCE_STORAGE") != "s3":
        return None
    stores = app.extensions.setdefault("qready.buckets", {})
    if prefix not in stores:
        from webapp.questionnaire.storage import S3Store

        stores[prefix] = S3Store.from_config({**app.config, "S3_PREFIX": prefix})
    return stores[prefix]


def report_cache() -> ReportCache | StoredReportCache:
    """Where finished reports and bulk zips are kept: in the bucket beside the evidence when evidence
    goes to S3 (every node sees them), else on this node's disk."""
    stored = bucket(setting("S3_REPORTS_PREFIX"))
    if stored is not None:
        return StoredReportCache(stored)
    root = setting("REPORT_CACHE_DIR") or str(Path(current_app.instance_path) / "report-cache")
    return ReportCache(root, max_bytes=setting("REPORT_CACHE_MAX_MB") * 1024 * 1024)


@dataclass(frozen=True)
class Report:
    key: str
    kind: str  # pdf | html | fragment
    lang: str
    content: bytes
    cached: bool
    filename: str


def filename(inputs: ReportInputs, lang: str, kind: str) -> str:
    cur = inputs.current
    firm = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", inputs.firm.name).strip("_") or "firm"
    ext = "pdf" if kind == "pdf" else "html"
    return f"{firm}-{cur.framework_id}-R{cur.round}-{lang}.{ext}"


def get_report(inputs: ReportInputs, lang: str, kind: str = "pdf") -> Report:
    """The report from the cache, or built, rendered and cached now."""
    if kind not in ("pdf", "html", "fragment"):
        raise ValueError(f"unknown report kind {kind!r}")
    key = inputs.digest(lang)
    cache = report_cache()
    name = filename(inputs, lang, kind)
    hit = cache.get(key, kind)
    if hit is not None:
        return Report(key, kind, lang, hit, True, name)
    data = assemble(inputs, lang)
    html = render_html(data, kind=kind, logo=logo_url(inputs, kind))
    content = render_pdf(html, pdf_assets(inputs)).pdf if kind == "pdf" else html.encode()
    cache.put(key, kind, content)
    return Report(key, kind, lang, content, False, name)
