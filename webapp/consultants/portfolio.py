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

from sqlalchemy import select

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
    firm: Firm
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
    rows: list[Assessment], firms: dict[int, Firm], day: dt.date
) -> dict[int, dict[str, Any]]:
    """Drafts whose kept numbers a save left out of date, scored again in memory (two statements for
    all of them; nothing is written by a page that only reads)."""
    stale = [a for a in rows if a.status == "draft" and a.scored_at is None]
    if not stale:
        return {}
    ids = [a.id for a in stale]
    states: dict[int, dict[str, answers.AnswerState]] = {i: {} for i in ids}
    for r in db.session.execute(
        select(
            Answer.assessment_id,
            Answer.item_id,
            Answer.value,
            Answer.na_reason,
            Answer.narrative,
            Answer.version,
            Answer.fact,
            Answer.updated_by_id,
            Answer.updated_at,
        ).where(Answer.assessment_id.in_(ids))
    ):
        states[r[0]][r[1]] = answers.AnswerState(*r[1:])
    evidence: dict[int, set[str]] = {i: set() for i in ids}
    for aid, item in db.session.execute(
        select(Evidence.assessment_id, Evidence.item_id).where(Evidence.assessment_id.in_(ids))
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


def portfolio(consultancy_id: int, *, day: dt.date | None = None) -> Portfolio:
    day = day or answers.today()
    firms = {
        f.id: f
        for f in db.session.scalars(
            select(Firm)
            .join(ConsultancyGrant, ConsultancyGrant.firm_id == Firm.id)
            .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
        )
    }
    ids = list(firms)
    rows = (
        list(
            db.session.scalars(select(Assessment).where(Assessment.firm_id.in_(ids)).order_by(Assessment.id))
        )
        if ids
        else []
    )
    heads = _stale_headlines(rows, firms, day)
    actions = (
        db.session.execute(
            select(Action.firm_id, Action.status, Action.due_on, Action.updated_at).where(
                Action.firm_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    frameworks: dict[str, Framework] = home._frameworks()
    by_firm: dict[int, list[Assessment]] = {}
    for a in rows:
        by_firm.setdefault(a.firm_id, []).append(a)
    lines = []
    target_titles: dict[str, str] = {}
    for fid, firm in firms.items():
        mine = by_firm.get(fid, [])
        profile = profile_facts(firm, day)
        cells = []
        for fw_id, fw in frameworks.items():
            done = sorted(
                (a for a in mine if a.framework_id == fw_id and a.status == "submitted"),
                key=lambda a: a.submitted_at or a.updated_at,
                reverse=True,
            )
            drafts = sorted(
                (a for a in mine if a.framework_id == fw_id and a.status == "draft"),
                key=lambda a: a.updated_at,
                reverse=True,
            )
            latest = done[0] if done else (drafts[0] if drafts else None)
            head = (heads.get(latest.id) or latest.summary or {}) if latest is not None else {}
            for tg in fw.targets:
                if tg.in_region(profile) is False:
                    continue
                key = f"{fw_id}:{tg.id}"
                title = t(tg.title)
                target_titles[key] = f"{t(fw.title)} · {title}"
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
        drafts = [a for a in mine if a.status == "draft"]
        draft = max(drafts, key=lambda a: a.updated_at) if drafts else None
        dhead = (heads.get(draft.id) or draft.summary or {}) if draft is not None else {}
        activity = [a.updated_at for a in mine] + [x.updated_at for x in actions if x.firm_id == fid]
        line = ClientLine(
            firm,
            regions.city_of(firm.region_code) or "",
            cells,
            int(dhead.get("answered") or 0),
            int(dhead.get("applicable") or 0),
            draft.id if draft is not None else None,
            max(activity) if activity else None,
        )
        for x in actions:
            if x.firm_id == fid and x.status in OPEN_STATUSES:
                line.open_actions += 1
                if x.due_on is not None and x.due_on < day:
                    line.overdue_actions += 1
        lines.append(line)
    cities = sorted({ln.city for ln in lines if ln.city})
    return Portfolio(
        lines,
        len(lines),
        [(c, regions.name(c, q_lang())) for c in cities],
        sorted({ln.firm.industry_division for ln in lines}),
        sorted(target_titles.items(), key=lambda x: x[1]),
    )


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
