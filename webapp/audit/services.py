"""Reading the audit log: a firm's events (for its owners) and everyone's (for platform admins)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import or_, select

from assessments.loader import FrameworkNotFound, load_framework
from webapp import db
from webapp.audit import ACTIONS
from webapp.i18n import current_lang
from webapp.models import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    number: int
    has_next: bool


def _page(q: Any, number: int) -> Page:
    number = max(1, number)
    rows = list(
        db.session.scalars(
            q.order_by(AuditEvent.id.desc()).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    )
    return Page(events=rows[:PAGE_SIZE], number=number, has_next=len(rows) > PAGE_SIZE)


def firm_events(firm_id: int, *, since: dt.datetime, action: str | None = None, page: int = 1) -> Page:
    """The events recorded with this firm since it was created (the log names ids without foreign
    keys, and SQLite may give a deleted firm's id to a new one), newest first. The caller admitted
    the firm's owner."""
    q = select(AuditEvent).where(AuditEvent.firm_id == firm_id, AuditEvent.created_at >= since)
    if action:
        q = q.where(AuditEvent.action == action)
    return _page(q, page)


def all_events(
    *,
    org: tuple[str, int] | None = None,
    user: str | None = None,
    action: str | None = None,
    page: int = 1,
) -> Page:
    """Every event, newest first, for platform admins: of one organisation (an event of a firm, or
    one naming the organisation), by or about one user (an id or an email address), of one action."""
    q = select(AuditEvent)
    if org is not None:
        kind, org_id = org
        named = (AuditEvent.org_kind == kind) & (AuditEvent.org_id == org_id)
        q = q.where(or_(AuditEvent.firm_id == org_id, named) if kind == "firm" else named)
    if user:
        user = user.strip().lower()
        if user.isdigit():
            q = q.where(
                or_(
                    AuditEvent.actor_id == int(user),
                    (AuditEvent.target_type == "user") & (AuditEvent.target_id == int(user)),
                )
            )
        else:
            q = q.where(
                or_(
                    AuditEvent.actor_email == user,
                    (AuditEvent.target_type == "user") & (AuditEvent.target_label == user),
                )
            )
    if action:
        q = q.where(AuditEvent.action == action)
    return _page(q, page)


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def _assessment(event: AuditEvent) -> str:
    """An assessment round named in the reader's language: "品字标… , round 2"."""
    d = event.detail or {}
    if not d.get("framework"):
        return event.target_label or ""
    try:
        title = load_framework(d["framework"], d.get("version", "")).title.get(current_lang())
    except FrameworkNotFound:
        title = d["framework"]
    return _("%(framework)s, round %(n)s", framework=title, n=d.get("round", "?"))


def _date(iso: str) -> str:
    """A date of the detail (ISO, UTC) as the reader's calendar has it (Asia/Shanghai)."""
    try:
        return format_date(dt.datetime.fromisoformat(iso))
    except ValueError:
        return iso


def describe(event: AuditEvent, role_labels: dict[str, Any]) -> str:
    """The particulars of an event in the reader's language, one line."""
    d = event.detail or {}
    target = event.target_label or ""

    def role(key: str = "role") -> str:
        return str(role_labels.get(d.get(key, ""), d.get(key, "")))

    a = event.action
    if a in ("member.invited", "member.invitation_accepted", "member.invitation_revoked"):
        return _("%(email)s as %(role)s", email=target, role=role())
    if a == "member.role_changed":
        return _("%(email)s: %(old)s → %(new)s", email=target, old=role("old"), new=role("new"))
    if a == "member.removed":
        return _("%(email)s (was %(role)s)", email=target, role=role())
    if a == "export.report":
        fmt = str(d.get("format", "")).upper()
        return _(
            "%(assessment)s (%(format)s, %(lang)s)",
            assessment=_assessment(event),
            format=fmt,
            lang=d.get("lang", ""),
        )
    if a == "export.bulk_reports":
        return _("%(n)s reports (%(format)s)", n=d.get("count", 0), format=str(d.get("format", "")).upper())
    if a in ("export.evidence", "evidence.deleted"):
        return target
    if a == "assessment.draft_discarded":
        return _assessment(event)
    if a in ("token.created", "token.revoked"):
        return f"{target} ({d.get('prefix', '')}…)"
    if a in ("firm.deletion_scheduled", "firm.deleted") and d.get("due"):
        return _("%(firm)s, due %(date)s", firm=target, date=_date(d["due"]))
    if a == "plan.changed":
        return _(
            "%(old)s → %(new)s (%(source)s)",
            old=d.get("old") or "—",
            new=d.get("new") or "—",
            source=d.get("source", ""),
        )
    return target
