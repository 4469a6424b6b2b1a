"""The improvement plan's logic. Functions with explicit arguments; they flush, never commit.

Reads of actions go through the ORM, so the tenant filter applies: a user sees the actions of the
firms in their context only (their own firms, and the firms that granted one of their consultancies
access, while the grant lasts)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

import scoring
from assessments.loader import FrameworkNotFound
from scoring.model import Framework
from webapp import access, db, tenancy
from webapp.db import utcnow
from webapp.models import (
    Action,
    AnswerHistory,
    Assessment,
    CalendarFeed,
    ConsultancyGrant,
    Evidence,
    Membership,
    User,
)
from webapp.models.plan import OPEN_STATUSES
from webapp.questionnaire import answers, collaboration, rounds
from webapp.questionnaire.engine_bridge import framework_of
from webapp.questionnaire.present import section_of_item, t

# How long a step takes, by the item's effort: the plan made from a path spreads the due dates so
WEEKS_BY_EFFORT = {"low": 2, "medium": 4, "high": 8}


def today() -> dt.date:
    return answers.today()


# ---- who may own an action -------------------------------------------------------------------------


EDIT_ROLES = ("owner", "editor")  # the members' roles that may edit (access.FIRM_ROLE_RANK ≥ 2)


@dataclass(frozen=True)
class Owner:
    id: int
    name: str
    email: str
    kind: str  # firm | consultancy


def owner_choices(firm_id: int) -> list[Owner]:
    """The people who may edit the firm, as `access` rules: its owners and editors, then the people of
    the consultancies the firm granted edit access (while the grant lasts; a member's own role wins
    over a grant): those an action may be given to. None for a firm outside the tenant context."""
    m = Membership
    members = tenancy.execute(
        firm_id,
        select(User.id, User.name, User.email)
        .join(m, m.user_id == User.id)
        .where(m.firm_id == firm_id, m.role.in_(EDIT_ROLES), User.is_active_account.is_(True))
        .order_by(User.name, User.id),
    ).all()
    member_ids = select(m.user_id).where(m.firm_id == firm_id)
    consultants = tenancy.execute(
        firm_id,
        select(User.id, User.name, User.email)
        .join(m, m.user_id == User.id)
        .join(ConsultancyGrant, ConsultancyGrant.consultancy_id == m.consultancy_id)
        .where(
            ConsultancyGrant.firm_id == firm_id,
            ConsultancyGrant.revoked_at.is_(None),
            ConsultancyGrant.access == "edit",
            User.id.not_in(member_ids),
            User.is_active_account.is_(True),
        )
        .order_by(User.name, User.id),
    ).all()
    out: dict[int, Owner] = {}
    for kind, rows in (("firm", members), ("consultancy", consultants)):
        for uid, name, email in rows:
            out.setdefault(uid, Owner(uid, name, email, kind))
    return list(out.values())


def firm_roles_of(user_id: int) -> dict[int, str]:
    """The firms a user may reach now, with their role in each, as `access.load_context` builds the
    context of a request: for the calendar feed and the digest, which run without one."""
    roles: dict[int, str] = {}
    consultancies = []
    for firm_id, consultancy_id, role in db.session.execute(
        select(Membership.firm_id, Membership.consultancy_id, Membership.role).where(
            Membership.user_id == user_id
        )
    ):
        if firm_id is not None:
            roles[firm_id] = role
        elif consultancy_id is not None:
            consultancies.append(consultancy_id)
    if consultancies:
        access.granted_roles(roles, consultancies)
    return roles


# ---- reading ---------------------------------------------------------------------------------------


def actions_of(
    firm_id: int, *, owner_id: int | None = None, target: str | None = None, assessment_id: int | None = None
) -> list[Action]:
    stmt = select(Action).where(Action.firm_id == firm_id)
    if owner_id is not None:
        stmt = stmt.where(Action.owner_id == owner_id)
    if assessment_id is not None:
        stmt = stmt.where(Action.assessment_id == assessment_id)
    rows = list(db.session.scalars(stmt.order_by(Action.due_on.is_(None), Action.due_on, Action.id)))
    if target:
        fw_id, _sep, target_id = target.partition(":")
        rows = [a for a in rows if a.framework_id == fw_id and target_id in (a.targets or ())]
    return rows


def action_of(firm_id: int, action_id: int) -> Action | None:
    a = db.session.get(Action, action_id)  # tenant-scoped: another firm's action is not found
    if a is None or a.firm_id != firm_id:
        return None
    return a


def my_actions(user_id: int) -> list[Action]:
    """The user's actions in every firm of the context (the tenant filter drops the others)."""
    stmt = select(Action).where(Action.owner_id == user_id)
    return list(db.session.scalars(stmt.order_by(Action.due_on.is_(None), Action.due_on, Action.id)))


def title_of(a: Action) -> str:
    """The action's title. A step made from a path keeps no text of its own (an empty title): it reads
    as its item's action, in the reader's language."""
    if a.title or not a.framework_id or not a.items:
        return a.title
    try:
        fw = framework_of(a.framework_id, rounds.latest_version(a.framework_id))
    except (rounds.StartError, FrameworkNotFound):
        return a.items[0]
    item = fw.item(a.items[0])
    if item is None:
        return a.items[0]
    return t(item.action) or t(item.text)


def is_overdue(a: Action, day: dt.date) -> bool:
    return a.status in OPEN_STATUSES and a.due_on is not None and a.due_on < day


def due_this_week(a: Action, day: dt.date) -> bool:
    return a.status in OPEN_STATUSES and a.due_on is not None and day <= a.due_on < day + dt.timedelta(days=7)


@dataclass
class Counts:
    overdue: int = 0
    this_week: int = 0
    open: int = 0
    done: int = 0
    total: int = 0


def counts(actions: Iterable[Action], day: dt.date) -> Counts:
    c = Counts()
    for a in actions:
        if a.status == "dropped":
            continue
        c.total += 1
        if a.status == "done":
            c.done += 1
        else:
            c.open += 1
        if is_overdue(a, day):
            c.overdue += 1
        elif due_this_week(a, day):
            c.this_week += 1
    return c


# ---- writing ---------------------------------------------------------------------------------------


def set_status(a: Action, status: str) -> None:
    if status == a.status:
        return
    a.status = status
    a.done_at = utcnow() if status == "done" else None
    a.updated_at = utcnow()


def create(
    firm_id: int,
    *,
    title: str,
    by: User,
    framework_id: str | None = None,
    items: Iterable[str] = (),
    targets: Iterable[str] = (),
    owner_id: int | None = None,
    due_on: dt.date | None = None,
    status: str = "open",
    notes: str | None = None,
    evidence_id: int | None = None,
    assessment_id: int | None = None,
    effort: str | None = None,
) -> Action:
    for model, oid in ((Evidence, evidence_id), (Assessment, assessment_id)):  # the firm's own, or refused
        if oid is not None and db.session.scalar(select(model.firm_id).where(model.id == oid)) != firm_id:
            raise tenancy.TenancyError(f"{model.__name__} {oid} is not of firm {firm_id}")
    a = Action(
        firm_id=firm_id,
        title=title.strip(),
        framework_id=framework_id,
        items=list(items),
        targets=list(targets),
        owner_id=owner_id,
        due_on=due_on,
        status="open",
        notes=notes or None,
        evidence_id=evidence_id,
        assessment_id=assessment_id,
        effort=effort,
        created_by_id=by.id,
    )
    set_status(a, status)
    db.session.add(a)
    db.session.flush()
    return a


def latest_assessment(firm_id: int, framework_id: str) -> Assessment | None:
    """The firm's current answers to a framework: its draft if one is open, else the newest round."""
    rows = db.session.scalars(
        select(Assessment)
        .where(Assessment.firm_id == firm_id, Assessment.framework_id == framework_id)
        .order_by(Assessment.round.desc(), Assessment.id.desc())
    ).all()
    return next((r for r in rows if r.status == "draft"), rows[0] if rows else None)


def score_now(a: Assessment) -> scoring.Result:
    """The assessment's result from the answers stored now. Only read: the pages that show the plan
    are GETs, and the verdict keeps a draft's headline numbers itself."""
    return answers.scored(a).result


def plan_from_path(
    a: Assessment, by: User, *, target: str | None = None, day: dt.date | None = None
) -> list[Action]:
    """One action per step of the path to ready of each target not ready yet (or of `target`):
    an item on the paths of several targets is one action serving them all; an item that already
    has an open action gets no second one (that action serves these targets too). Owners: whoever is assigned the item's section, else `by`.
    Due dates follow one another per owner, each step taking 2, 4 or 8 weeks by its effort."""
    start = day or today()
    fw = answers.framework(a)
    result = score_now(a)
    wanted: dict[str, list[str]] = {}  # item -> targets, in path order
    for path in result.paths:
        tr = next((x for x in result.targets if x.id == path.target), None)
        if tr is None or tr.readiness in ("ready", "not_applicable"):
            continue
        if target is not None and path.target != target:
            continue
        for iid in path.items:
            wanted.setdefault(iid, [])
            if path.target not in wanted[iid]:
                wanted[iid].append(path.target)
    taken: dict[str, Action] = {
        iid: act
        for act in actions_of(a.firm_id)
        if act.framework_id == a.framework_id and act.status in OPEN_STATUSES
        for iid in act.items or ()
    }
    assignees = collaboration.assignments_of(a.firm_id, a.id)
    allowed = {o.id for o in owner_choices(a.firm_id)}
    due_by_owner: dict[int, dt.date] = {}
    made = []
    for iid, targets in wanted.items():
        item = fw.item(iid)
        if item is None:
            continue
        if iid in taken:  # its open action now serves these targets too
            act = taken[iid]
            missing = [x for x in targets if x not in (act.targets or ())]
            if missing:
                act.targets = [*(act.targets or ()), *missing]
            continue
        owner = assignees.get(section_of_item(fw, iid) or "")
        if owner not in allowed:
            owner = by.id
        effort = item.effort.value
        due = due_by_owner.get(owner, start) + dt.timedelta(weeks=WEEKS_BY_EFFORT.get(effort, 4))
        due_by_owner[owner] = due
        made.append(
            create(
                a.firm_id,
                title="",  # read as the item's action, in each reader's language (`title_of`)
                by=by,
                framework_id=a.framework_id,
                items=[iid],
                targets=targets,
                owner_id=owner,
                due_on=due,
                assessment_id=a.id,
                effort=effort,
            )
        )
    return made


# ---- progress: the plan beside a re-score of the current answers -----------------------------------


@dataclass
class TargetProgress:
    framework_id: str
    target_id: str
    title: str
    readiness: str
    score: Decimal
    threshold: Decimal
    done: int
    total: int
    path: list[str]  # the item ids still on the path to ready, re-planned from the current answers
    path_open: list[str]  # of those, the ones no open action covers


@dataclass
class FrameworkProgress:
    framework_id: str
    assessment: Assessment
    framework: Framework
    targets: list[TargetProgress] = field(default_factory=list)


def progress(firm_id: int, actions: Iterable[Action]) -> list[FrameworkProgress]:
    """For each framework the plan works on: the firm's current answers re-scored, and for each
    target the plan serves, its readiness and score now, the actions done of those serving it, and
    its path to ready re-planned from the current answers."""
    by_fw: dict[str, list[Action]] = {}
    for act in actions:
        if act.framework_id and act.status != "dropped":
            by_fw.setdefault(act.framework_id, []).append(act)
    out = []
    for fw_id, acts in sorted(by_fw.items()):
        a = latest_assessment(firm_id, fw_id)
        if a is None:
            continue
        fw = answers.framework(a)
        result = score_now(a)
        paths = {p.target: p for p in result.paths}
        covered = {iid for act in acts if act.status in OPEN_STATUSES for iid in act.items or ()}
        fp = FrameworkProgress(fw_id, a, fw)
        served = {tid for act in acts for tid in act.targets or ()}
        for tr in result.targets:
            if tr.id not in served:
                continue
            target = next((x for x in fw.targets if x.id == tr.id), None)
            mine = [act for act in acts if tr.id in (act.targets or ())]
            path = paths.get(tr.id)
            steps = (
                list(path.items)
                if path is not None and tr.readiness not in ("ready", "not_applicable")
                else []
            )
            fp.targets.append(
                TargetProgress(
                    fw_id,
                    tr.id,
                    t(target.title) if target is not None else tr.id,
                    tr.readiness,
                    tr.score,
                    tr.threshold,
                    sum(1 for act in mine if act.status == "done"),
                    len(mine),
                    steps,
                    [iid for iid in steps if iid not in covered],
                )
            )
        out.append(fp)
    return out


def changes_since(firm_id: int, actions: Iterable[Action]) -> dict[tuple[int, str], int]:
    """For each done action and each of its items: how many answer changes were made to the item in
    the action's framework since the action was made (the answers it changed)."""
    done = [a for a in actions if a.status == "done" and a.framework_id and a.items]
    if not done:
        return {}
    ids = {
        r.id
        for r in db.session.scalars(
            select(Assessment).where(
                Assessment.firm_id == firm_id,
                Assessment.framework_id.in_({a.framework_id for a in done}),
            )
        )
    }
    rows = db.session.execute(
        select(AnswerHistory.item_id, AnswerHistory.changed_at, Assessment.framework_id)
        .join(Assessment, Assessment.id == AnswerHistory.assessment_id)
        .where(AnswerHistory.firm_id == firm_id, AnswerHistory.assessment_id.in_(ids))
    ).all()
    out: dict[tuple[int, str], int] = {}
    for act in done:
        for iid in act.items:
            out[(act.id, iid)] = sum(
                1
                for r in rows
                if r.item_id == iid and r.framework_id == act.framework_id and r.changed_at >= act.created_at
            )
    return out


# ---- the calendar feed -----------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(user: User) -> str:
    """A new private calendar address for the user (the older one stops working); the token is
    returned once and kept only as its hash."""
    revoke_feeds(user)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token)))
    db.session.flush()
    return token


def revoke_feeds(user: User) -> None:
    for f in db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    ):
        f.revoked_at = utcnow()


def has_feed(user: User) -> bool:
    return (
        db.session.scalar(
            select(CalendarFeed.id).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        )
        is not None
    )


def feed_user(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.is_active_account else None


@contextmanager
def as_user(user_id: int) -> Iterator[None]:
    """Read as the user may now (outside a request: the calendar feed, the digest): the context is
    built here, so a revoked grant drops that firm at once."""
    before = tenancy.context()
    tenancy.set_context(tenancy.TenantContext(roles=firm_roles_of(user_id)))
    try:
        yield
    finally:
        tenancy.set_context(before)


def actions_for_user(user_id: int) -> tuple[list[Action], dict[int, str]]:
    """The user's actions in the firms they may reach now, with those firms' names."""
    with as_user(user_id):
        actions = my_actions(user_id)
        return actions, firm_names(a.firm_id for a in actions)


def firm_names(firm_ids: Iterable[int]) -> dict[int, str]:
    from webapp.models import Firm

    ids = set(firm_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Firm.id, Firm.name).where(Firm.id.in_(ids))).tuples().all())


def names(ids: Iterable[int | None]) -> Mapping[int, str]:
    return answers.user_names(ids)
