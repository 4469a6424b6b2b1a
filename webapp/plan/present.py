"""Plain values for the plan's templates (pages, firm home, verdict, report)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from assessments.loader import FrameworkNotFound
from scoring.model import Framework
from webapp import db
from webapp.models import Action, Assessment, Evidence
from webapp.plan import services
from webapp.plan.forms import STATUS_LABELS
from webapp.questionnaire import answers, rounds
from webapp.questionnaire.engine_bridge import framework_of
from webapp.questionnaire.present import item_numbers, readiness_label, section_of_item, t


@dataclass
class ItemLink:
    id: str
    number: str
    text: str
    section: str | None
    assessment_id: int | None
    changes: int | None = None  # done actions: answer changes since the action was made


@dataclass
class ActionView:
    id: int
    firm_id: int
    firm_name: str
    title: str
    status: str
    status_label: str
    owner_id: int | None
    owner: str
    due_on: dt.date | None
    overdue: bool
    this_week: bool
    items: list[ItemLink]
    targets: list[str]
    notes: str
    evidence: str
    evidence_id: int | None
    evidence_assessment_id: int | None
    framework_id: str | None
    framework_title: str


@dataclass
class Frameworks:
    """Each framework an action names, with the firm's current assessment of it (for links)."""

    by_id: dict[str, Framework] = field(default_factory=dict)
    current: dict[str, Assessment] = field(default_factory=dict)
    numbers: dict[str, dict[str, str]] = field(default_factory=dict)


def frameworks_of(firm_id: int, framework_ids: Iterable[str | None]) -> Frameworks:
    out = Frameworks()
    for fid in sorted({f for f in framework_ids if f}):
        a = services.latest_assessment(firm_id, fid)
        try:
            fw = answers.framework(a) if a is not None else framework_of(fid, rounds.latest_version(fid))
        except (rounds.StartError, FrameworkNotFound):  # no longer shipped: the action shows without links
            continue
        out.by_id[fid] = fw
        out.numbers[fid] = item_numbers(fw)
        if a is not None:
            out.current[fid] = a
    return out


def action_views(
    actions: Iterable[Action],
    day: dt.date,
    *,
    firm_names: Mapping[int, str] | None = None,
    with_changes: bool = False,
) -> list[ActionView]:
    actions = list(actions)
    names = services.names(a.owner_id for a in actions)
    fws_by_firm: dict[int, Frameworks] = {}
    for firm_id in {a.firm_id for a in actions}:
        fws_by_firm[firm_id] = frameworks_of(
            firm_id, (a.framework_id for a in actions if a.firm_id == firm_id)
        )
    changes: dict[tuple[int, str], int] = {}
    if with_changes:
        for firm_id in fws_by_firm:
            changes.update(services.changes_since(firm_id, [a for a in actions if a.firm_id == firm_id]))
    ev_ids = {a.evidence_id for a in actions if a.evidence_id}
    evidence = {
        e.id: (e.filename, e.assessment_id)
        for e in (db.session.scalars(select(Evidence).where(Evidence.id.in_(ev_ids))) if ev_ids else [])
    }
    out = []
    for a in actions:
        fws = fws_by_firm[a.firm_id]
        fw = fws.by_id.get(a.framework_id or "")
        cur = fws.current.get(a.framework_id or "")
        items = []
        targets = []
        if fw is not None:
            for iid in a.items or ():
                item = fw.item(iid)
                if item is None:
                    continue
                items.append(
                    ItemLink(
                        iid,
                        fws.numbers[fw.id].get(iid, ""),
                        t(item.text),
                        section_of_item(fw, iid),
                        cur.id if cur is not None else None,
                        changes.get((a.id, iid)) if a.status == "done" else None,
                    )
                )
            titles = {x.id: t(x.title) for x in fw.targets}
            targets = [titles.get(tid, tid) for tid in a.targets or ()]
        ev = evidence.get(a.evidence_id or 0)
        out.append(
            ActionView(
                a.id,
                a.firm_id,
                (firm_names or {}).get(a.firm_id, ""),
                services.title_of(a),
                a.status,
                str(STATUS_LABELS.get(a.status, a.status)),
                a.owner_id,
                names.get(a.owner_id or 0, "") if a.owner_id else "",
                a.due_on,
                services.is_overdue(a, day),
                services.due_this_week(a, day),
                items,
                targets,
                a.notes or "",
                ev[0] if ev else "",
                a.evidence_id if ev else None,
                ev[1] if ev else None,
                a.framework_id,
                t(fw.title) if fw is not None else "",
            )
        )
    return out


@dataclass
class TargetProgressView:
    title: str
    framework_title: str
    readiness: str
    readiness_label: str
    score: str
    threshold: str
    done: int
    total: int
    assessment_id: int
    path: list[ItemLink]
    uncovered: int


def progress_views(firm_id: int, actions: Iterable[Action]) -> list[TargetProgressView]:
    from webapp.questionnaire.present import num

    out = []
    for fp in services.progress(firm_id, actions):
        numbers = item_numbers(fp.framework)
        for tp in fp.targets:
            path = []
            for iid in tp.path:
                item = fp.framework.item(iid)
                if item is not None:
                    path.append(
                        ItemLink(
                            iid,
                            numbers.get(iid, ""),
                            t(item.text),
                            section_of_item(fp.framework, iid),
                            fp.assessment.id,
                        )
                    )
            out.append(
                TargetProgressView(
                    tp.title,
                    t(fp.framework.title),
                    tp.readiness,
                    readiness_label(tp.readiness),
                    num(tp.score.quantize(services.Decimal("0.1"))),
                    num(tp.threshold),
                    tp.done,
                    tp.total,
                    fp.assessment.id,
                    path,
                    len(tp.path_open),
                )
            )
    return out


def group_by_status(views: list[ActionView]) -> list[tuple[str, str, list[ActionView]]]:
    order = ("open", "in_progress", "done", "dropped")
    return [(s, str(STATUS_LABELS[s]), [v for v in views if v.status == s]) for s in order]


@dataclass
class PlanPanel:
    """The plan as the firm home and the verdict show it: what is overdue, due this week, done."""

    firm_id: int
    can_edit: bool
    counts: services.Counts
    overdue: list[ActionView]
    this_week: list[ActionView]
    done: list[ActionView]
    progress: list[TargetProgressView]
    by_item: dict[str, ActionView] = field(default_factory=dict)  # the newest action on each item
    framework_id: str | None = None


def plan_panel(
    firm_id: int, *, can_edit: bool, framework_id: str | None = None, with_progress: bool = True
) -> PlanPanel:
    day = services.today()
    actions = services.actions_of(firm_id)
    if framework_id is not None:
        actions = [a for a in actions if a.framework_id == framework_id]
    views = action_views(actions, day, with_changes=True)
    pairs = sorted(
        ((a, v) for a, v in zip(actions, views, strict=True) if a.status == "done"),
        key=lambda p: p[0].done_at or p[0].updated_at,
        reverse=True,
    )
    done = [v for _a, v in pairs]
    return PlanPanel(
        firm_id,
        can_edit,
        services.counts(actions, day),
        [v for v in views if v.overdue],
        [v for v in views if v.this_week],
        done[:5],
        progress_views(firm_id, actions) if with_progress else [],
        {it.id: v for v in views if v.status != "dropped" for it in v.items},
        framework_id,
    )
