"""The consultant's portfolio: every client firm with its latest verdict per target, the progress of
its drafts, its last activity and its plan's open and overdue actions.

A fixed number of statements whatever the number of clients: the firms, their assessments, the
answers and evidence of drafts whose kept numbers are out of date (scored here, in memory), and the
actions, each read once for all clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from scoring.model import Framework
from webapp import db
from webapp.models import Action, Answer, Assessment, ConsultancyGrant, Evidence, Firm
from webapp.models.plan import OPEN_STATUSES
from webapp.orgs.services import profile_facts
from webapp.questionnaire import answers
from webapp.questionnaire.engine_bridge import summary
from webapp.questionnaire.present import t
from webapp.refdata import regions
from webapp.results import home

READINESS_ORDER = {"ready": 0, "near": 1, "not_ready": 2, None: 3}


@dataclass
class TargetCell:
    key: str  # "framework:target"
    title: str
    readiness: str | None  # None: not assessed
    score: float | None
    threshold: float
    provisional: bool
    assessment_id: int | None


@dataclass
class ClientLine:
    firm: Any  # the firm's columns (id, name, credit code, region, industry, size, …)
    city: str
    targets: list[TargetCell]
    draft_answered: int
    draft_applicable: int
    draft_id: int | None
    last_activity: dt.datetime | None
    open_actions: int = 0
    overdue_actions: int = 0

    @property
    def draft_percent(self) -> int | None:
        if not self.draft_applicable:
            return None
        return round(100 * self.draft_answered / self.draft_applicable)

    def target(self, key: str) -> TargetCell | None:
        return next((c for c in self.targets if c.key == key), None)


@dataclass
class Portfolio:
    lines: list[ClientLine]
    total: int
    cities: list[tuple[str, str]]
    industries: list[str]
    targets: list[tuple[str, str]]
    filters: dict[str, Any] = field(default_factory=dict)


def _stale_headlines(
    rows: list[Any], firms: dict[int, Any], day: dt.date, clients: Any
) -> dict[int, dict[str, Any]]:
    """Drafts whose kept numbers a save left out of date, scored again in memory (two statements for
    all of them; nothing is written by a page that only reads)."""
    stale = [a for a in rows if a.status == "draft" and a.scored_at is None]
    if not stale:
        return {}
    ids = [a.id for a in stale]
    conn = db.session.connection()
    states: dict[int, dict[str, answers.AnswerState]] = {i: {} for i in ids}
    for r in conn.execute(
        select(
            Answer.assessment_id,
            Answer.item_id,
            Answer.value,
            Answer.na_reason,
        ).where(Answer.firm_id.in_(clients), Answer.assessment_id.in_(ids))
    ):
        states[r[0]][r[1]] = answers.AnswerState(r[1], r[2], r[3])
    evidence: dict[int, set[str]] = {i: set() for i in ids}
    for aid, item in conn.execute(
        select(Evidence.assessment_id, Evidence.item_id)
        .where(Evidence.firm_id.in_(clients), Evidence.assessment_id.in_(ids))
        .distinct()
    ):
        evidence[aid].add(item)
    out = {}
    for a in stale:
        result = answers.score_states(
            a,
            answers.framework(a),
            states[a.id],
            evidence[a.id],
            firms[a.firm_id],
            answers.scoring_date(a, day),
            explain=False,
        )
        out[a.id] = summary(result)
    return out


def _shown(mine: list[Any], frameworks: dict[str, Framework]) -> tuple[dict[str, Any], Any]:
    """The assessments a client's line shows: per framework its latest submitted one (else its latest
    draft), and its latest draft of any framework (the progress column)."""
    of_framework: dict[str, list[Any]] = {}
    for a in mine:
        of_framework.setdefault(a.framework_id, []).append(a)
    latest = {}
    for fw_id in frameworks:
        theirs = of_framework.get(fw_id, [])
        done = [a for a in theirs if a.status == "submitted"]
        drafts = [a for a in theirs if a.status == "draft"]
        if done:
            latest[fw_id] = max(done, key=lambda a: a.submitted_at or a.updated_at)
        elif drafts:
            latest[fw_id] = max(drafts, key=lambda a: a.updated_at)
    drafts = [a for a in mine if a.status == "draft"]
    return latest, (max(drafts, key=lambda a: a.updated_at) if drafts else None)


def portfolio(consultancy_id: int, *, day: dt.date | None = None) -> Portfolio:
    day = day or answers.today()
    # The clients are the firms whose grant to this consultancy stands, named in every read below by
    # this subquery (short SQL, whatever the number of clients). The reads run with Core on the
    # session's connection: plain rows, the columns the lines need, no objects to build.
    clients = (
        select(ConsultancyGrant.firm_id)
        .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
        .scalar_subquery()
    )
    conn = db.session.connection()
    firms: dict[int, Any] = {
        f.id: f
        for f in conn.execute(
            select(
                Firm.id,
                Firm.name,
                Firm.credit_code,
                Firm.region_code,
                Firm.industry_division,
                Firm.employees,
                Firm.size_class,
                Firm.above_scale,
                Firm.founded_on,
            ).where(Firm.id.in_(clients))
        )
    }
    rows: list[Any] = list(
        conn.execute(
            select(
                Assessment.id,
                Assessment.firm_id,
                Assessment.framework_id,
                Assessment.framework_version,
                Assessment.mode,
                Assessment.status,
                Assessment.as_of,
                Assessment.submitted_at,
                Assessment.updated_at,
                Assessment.scored_at,
                Assessment.summary,
            )
            .where(Assessment.firm_id.in_(clients))
            .order_by(Assessment.id)
        )
    )
    # each client's actions counted by the database: open, overdue, the latest change
    open_ = Action.status.in_(OPEN_STATUSES)
    actions = {
        r.firm_id: r
        for r in conn.execute(
            select(
                Action.firm_id,
                func.count().filter(open_).label("open"),
                func.count().filter(open_, Action.due_on < day).label("overdue"),
                func.max(Action.updated_at).label("changed"),
            )
            .where(Action.firm_id.in_(clients))
            .group_by(Action.firm_id)
        )
    }
    latest_versions = frameworks()
    by_firm: dict[int, list[Any]] = {}
    for a in rows:
        by_firm.setdefault(a.firm_id, []).append(a)
    shown = {fid: _shown(by_firm.get(fid, []), latest_versions) for fid in firms}
    # only the assessments a line shows are scored when their kept numbers are out of date
    needed = {a.id for latest, draft in shown.values() for a in (*latest.values(), draft) if a is not None}
    heads = _stale_headlines([a for a in rows if a.id in needed], firms, day, clients)
    lines = []
    target_titles: dict[str, str] = {}
    # each target's key and titles once, not once per client
    titled = {
        fw_id: [(tg, f"{fw_id}:{tg.id}", t(tg.title), f"{t(fw.title)} · {t(tg.title)}") for tg in fw.targets]
        for fw_id, fw in latest_versions.items()
    }
    for fid, firm in firms.items():
        mine = by_firm.get(fid, [])
        profile = profile_facts(firm, day)
        cells = []
        latest_of, draft = shown[fid]
        for fw_id in latest_versions:
            latest = latest_of.get(fw_id)
            head = (heads.get(latest.id) or latest.summary or {}) if latest is not None else {}
            for tg, key, title, full in titled[fw_id]:
                if tg.in_region(profile) is False:
                    continue
                target_titles[key] = full
                cells.append(
                    TargetCell(
                        key,
                        title,
                        head.get("targets", {}).get(tg.id) if latest is not None else None,
                        head.get("score") if latest is not None else None,
                        float(tg.threshold),
                        latest is not None and latest.status == "draft",
                        latest.id if latest is not None else None,
                    )
                )
        dhead = (heads.get(draft.id) or draft.summary or {}) if draft is not None else {}
        counts = actions.get(fid)
        activity = [a.updated_at for a in mine] + ([counts.changed] if counts is not None else [])
        line = ClientLine(
            firm,
            regions.city_of(firm.region_code) or "",
            cells,
            int(dhead.get("answered") or 0),
            int(dhead.get("applicable") or 0),
            draft.id if draft is not None else None,
            max(activity) if activity else None,
        )
        if counts is not None:
            line.open_actions, line.overdue_actions = counts.open, counts.overdue
        lines.append(line)
    cities = sorted({ln.city for ln in lines if ln.city})
    return Portfolio(
        lines,
        len(lines),
        [(c, regions.name(c, q_lang())) for c in cities],
        sorted({ln.firm.industry_division for ln in lines}),
        sorted(target_titles.items(), key=lambda x: x[1]),
    )


def most_assessed_of(consultancy_id: int, firm_ids: list[int], framework_ids: list[str]) -> str | None:
    """The framework the most of the clients `firm_ids` (all clients if none) have assessed (a submitted
    round first, else a draft; ties: the earlier framework): what a comparison of them is most likely on."""
    clients = select(ConsultancyGrant.firm_id).where(
        ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None)
    )
    if firm_ids:
        clients = clients.where(ConsultancyGrant.firm_id.in_(firm_ids))
    submitted = func.count(func.distinct(Assessment.firm_id)).filter(Assessment.status == "submitted")
    counts = {
        r.framework_id: (r.submitted, r.started)
        for r in db.session.execute(
            select(
                Assessment.framework_id,
                submitted.label("submitted"),
                func.count(func.distinct(Assessment.firm_id)).label("started"),
            )
            .where(Assessment.firm_id.in_(clients.scalar_subquery()))
            .group_by(Assessment.framework_id)
        )
    }
    known = [k for k in framework_ids if k in counts]
    return max(known, key=lambda k: (*counts[k], -framework_ids.index(k)), default=None)


def frameworks() -> dict[str, Framework]:
    """The latest version of each framework, looked up once a request (`results.home`
    lists and reads the framework files' stamps on every call)."""
    from flask import g, has_app_context

    if not has_app_context():
        return home._frameworks()
    cached: dict[str, Framework] | None = g.get("desk_frameworks")
    if cached is None:
        cached = g.desk_frameworks = home._frameworks()
    return cached


def q_lang() -> str:
    from webapp.i18n import current_lang

    return current_lang()


SORTS = ("name", "activity", "progress", "open", "overdue", "score")


def select_lines(
    p: Portfolio,
    *,
    search: str = "",
    city: str = "",
    industry: str = "",
    target: str = "",
    readiness: str = "",
    sort: str = "name",
    descending: bool = False,
) -> list[ClientLine]:
    """Filter and sort the portfolio's lines as the page asks."""
    lines: Iterable[ClientLine] = p.lines
    needle = search.strip().lower()
    if needle:
        lines = [
            ln for ln in lines if needle in ln.firm.name.lower() or needle in ln.firm.credit_code.lower()
        ]
    if city:
        lines = [ln for ln in lines if ln.city == city]
    if industry:
        lines = [ln for ln in lines if ln.firm.industry_division == industry]
    if target:
        lines = [ln for ln in lines if ln.target(target) is not None]
    if readiness:
        wanted = None if readiness == "none" else readiness

        def matches(ln: ClientLine) -> bool:
            cells = [ln.target(target)] if target else ln.targets
            return any(c is not None and c.readiness == wanted for c in cells)

        lines = [ln for ln in lines if matches(ln)]

    def score(ln: ClientLine) -> float:
        cells = [ln.target(target)] if target else ln.targets
        scores = [c.score for c in cells if c is not None and c.score is not None]
        return max(scores) if scores else -1.0

    keys = {
        "name": lambda ln: ln.firm.name,
        "activity": lambda ln: ln.last_activity or dt.datetime.min.replace(tzinfo=dt.UTC),
        "progress": lambda ln: ln.draft_percent if ln.draft_percent is not None else -1,
        "open": lambda ln: ln.open_actions,
        "overdue": lambda ln: ln.overdue_actions,
        "score": score,
    }
    key = keys.get(sort, keys["name"])
    return sorted(lines, key=lambda ln: (key(ln), ln.firm.name), reverse=descending)
