"""Assessments and what hangs off them. Every row here belongs to one firm (tenant-scoped)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow
from webapp.tenancy import FirmOwned

if TYPE_CHECKING:
    from webapp.models.orgs import Firm

ASSESSMENT_STATUSES = ("draft", "submitted")


class Assessment(FirmOwned, Base):
    """One round of one framework (id and version) for one firm.

    The framework version is stored with it, so an old result re-scores the same forever. The
    engine's headline numbers are kept with it, refreshed on every change and by `flask rescore`.
    """

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(64), index=True)
    framework_version: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(32), default="default")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)  # last change by a person
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    as_of: Mapped[dt.date | None] = mapped_column()  # the scoring date (submission date once submitted)
    # The latest engine result's headline numbers (for lists, statistics and trends): percent,
    # points, score, each section's percent and each target's readiness (ready / near / not_ready, or
    # not_applicable for a target of another region: a count of targets not ready leaves it out). The
    # full result is recomputed on demand (under a millisecond).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    result_points: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Answer.id"
    )
    firm: Mapped[Firm] = relationship()  # the profile its score depends on (`access.assessment` loads it)


class Answer(FirmOwned, Base):
    """The current answer to one item of one assessment. `version` rises with every change, so two
    editors never silently overwrite each other."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # the JSON value; None = not answered
    na_reason: Mapped[str | None] = mapped_column(Text)  # a justified "not applicable"
    narrative: Mapped[str | None] = mapped_column(Text)  # the written self-evaluation (full mode)
    fact: Mapped[str | None] = mapped_column(String(64))  # the shared fact this answer also sets
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="answers")


class AnswerHistory(FirmOwned, Base):
    """Every change of an answer, and every file added to or removed from its evidence: who, when,
    old → new."""

    __tablename__ = "answer_history"
    # rows are only ever added (and go with their assessment): the newest id of an assessment's rows
    # tells whether anything changed (see questionnaire/pagecache.py), one index lookup with this
    __table_args__ = (Index("ix_answer_history_assessment_id_id", "assessment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    old_na_reason: Mapped[str | None] = mapped_column(Text)
    new_na_reason: Mapped[str | None] = mapped_column(Text)
    old_narrative: Mapped[str | None] = mapped_column(Text)
    new_narrative: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    via_fact: Mapped[str | None] = mapped_column(String(64))  # set when a shared fact changed it
    # set when the change was to the item's evidence ("added" | "removed"; the answer is unchanged)
    evidence_action: Mapped[str | None] = mapped_column(String(8))
    evidence_name: Mapped[str | None] = mapped_column(String(255))


class FactAnswer(FirmOwned, Base):
    """A firm's answer to a shared fact (asked by several frameworks): answered once, used everywhere."""

    __tablename__ = "fact_answers"
    __table_args__ = (UniqueConstraint("firm_id", "fact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fact: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    source_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )
    source_item_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Evidence(FirmOwned, Base):
    """A file attached to one item of one assessment, stored outside the web root."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Comment(FirmOwned, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SectionAssignment(FirmOwned, Base):
    __tablename__ = "section_assignments"
    __table_args__ = (UniqueConstraint("assessment_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
