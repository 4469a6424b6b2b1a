"""Working together on an assessment: comments on items and sections given to members."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select

from webapp import db, tenancy
from webapp.db import utcnow
from webapp.models import Assessment, Comment, Membership, SectionAssignment, User
from webapp.questionnaire.answers import framework

COMMENT_MAX = 4_000


def add_comment(a: Assessment, item_id: str, body: str, user: User) -> Comment | str:
    """A comment on one item, or the code of what is wrong (unknown_item, empty, too_long)."""
    if framework(a).item(item_id) is None:
        return "unknown_item"
    body = (body or "").strip()
    if not body:
        return "empty"
    if len(body) > COMMENT_MAX:
        return "too_long"
    c = Comment(firm_id=a.firm_id, assessment_id=a.id, item_id=item_id, body=body, author_id=user.id)
    db.session.add(c)
    db.session.flush()
    return c


_COMMENTS = (
    select(Comment.item_id, Comment.body, Comment.author_id, Comment.created_at)
    .where(Comment.assessment_id == bindparam("a"), Comment.item_id.in_(bindparam("items", expanding=True)))
    .order_by(Comment.created_at, Comment.id)
)


def comments_of(firm_id: int, assessment_id: int, items: Iterable[str]) -> dict[str, list[Any]]:
    """Comments on some items, oldest first: rows with item_id, body, author_id, created_at."""
    out: dict[str, list[Any]] = {}
    for c in tenancy.execute(firm_id, _COMMENTS, {"a": assessment_id, "items": list(items)}):
        out.setdefault(c.item_id, []).append(c)
    return out


def assign_section(a: Assessment, section_id: str, assignee_id: int | None, by: User) -> str | None:
    """Give a section to a member of the firm (None takes it back). Returns an error code or None."""
    if section_id not in {s.id for s in framework(a).sections}:
        return "unknown_section"
    existing = db.session.scalar(
        select(SectionAssignment).where(
            SectionAssignment.assessment_id == a.id, SectionAssignment.section_id == section_id
        )
    )
    if assignee_id is None:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return None
    member = db.session.scalar(
        select(Membership.id).where(Membership.firm_id == a.firm_id, Membership.user_id == assignee_id)
    )
    if member is None:
        return "not_a_member"
    if existing is None:
        existing = SectionAssignment(firm_id=a.firm_id, assessment_id=a.id, section_id=section_id)
        db.session.add(existing)
    existing.user_id = assignee_id
    existing.assigned_by_id = by.id
    existing.assigned_at = utcnow()
    db.session.flush()
    return None


_ASSIGNMENTS = select(SectionAssignment.section_id, SectionAssignment.user_id).where(
    SectionAssignment.assessment_id == bindparam("a")
)


def assignments_of(firm_id: int, assessment_id: int) -> dict[str, int]:
    return dict(tenancy.execute(firm_id, _ASSIGNMENTS, {"a": assessment_id}).tuples().all())


def firm_member_choices(firm_id: int) -> list[tuple[int, str]]:
    """(id, name) of the firm's members (none for a firm outside the tenant context)."""
    q = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.firm_id == firm_id)
        .order_by(User.name)
    )
    return list(tenancy.execute(firm_id, q).tuples())
