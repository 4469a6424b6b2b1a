"""The improvement plan: actions with owners and due dates, and each user's calendar feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow
from webapp.tenancy import FirmOwned

ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
OPEN_STATUSES = ("open", "in_progress")


class Action(FirmOwned, Base):
    """One thing to do toward a readiness target: the items it improves and the targets it serves,
    an owner (a member of the firm or a consultant of a consultancy the firm granted access) and a
    due date. Made one by one or from a verdict's path to ready (`assessment_id`: that verdict)."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_owner_id_status", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), index=True
    )
    framework_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(1000))  # room for the longest item action and more
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # item ids of the framework
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)  # target ids of the framework
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    effort: Mapped[str | None] = mapped_column(String(8))  # low | medium | high, from the item
    notes: Mapped[str | None] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "firm_id": self.firm_id,
            "assessment_id": self.assessment_id,
            "framework": self.framework_id,
            "title": self.title,
            "items": list(self.items or ()),
            "targets": list(self.targets or ()),
            "owner_id": self.owner_id,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "notes": self.notes,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


class CalendarFeed(Base):
    """A user's private calendar address (iCalendar of their actions' due dates). The token is shown
    in the address only; the row keeps its SHA-256. Revoked by making a new one or turning it off."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
