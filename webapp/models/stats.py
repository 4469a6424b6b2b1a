"""The results kept per submitted assessment for the regulator statistics.

Written when an assessment is submitted (`webapp.stats.results.record`) and rebuilt by
`flask rescore`. One row per submitted assessment with the firm's place, industry section, size
class and 规上 as they were then, and one line per target readiness, section score, gate status
and top gap: the statistics count these with GROUP BY, never firm by firm in Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.tenancy import FirmOwned

LINE_KINDS = ("target", "section", "gate", "gap")


class AssessmentResult(FirmOwned, Base):
    __tablename__ = "assessment_results"
    __table_args__ = (
        Index("ix_assessment_results_latest_region", "latest", "region_code"),
        Index("ix_assessment_results_quarter_region", "quarter", "region_code"),
    )

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(32))
    score: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    quarter: Mapped[str] = mapped_column(String(6))  # "2026Q3"
    # the firm as it was when it submitted
    region_code: Mapped[str] = mapped_column(String(6))  # county (GB/T 2260)
    city_code: Mapped[str | None] = mapped_column(String(6))
    industry_section: Mapped[str | None] = mapped_column(String(1))  # GB/T 4754 section letter
    size_class: Mapped[str | None] = mapped_column(String(8))
    above_scale: Mapped[bool] = mapped_column(Boolean)
    # the firm's newest submitted result of this framework and mode
    latest: Mapped[bool] = mapped_column(Boolean, default=True)


class AssessmentResultLine(FirmOwned, Base):
    """One figure of a kept result: a target's readiness (ready / near / not_ready / not_applicable), a
    section's percent, a gate's status (pass / fail / unknown / not_applicable) or a gap (one of the
    result's ten first gaps, by priority)."""

    __tablename__ = "assessment_result_lines"
    __table_args__ = (Index("ix_assessment_result_lines_kind_key", "kind", "key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_results.assessment_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
