"""The results kept per submitted assessment for the regulator statistics.

Written when an assessment is submitted (`webapp.stats.results.record`) and rebuilt by
`flask rescore`. One row per submitted assessment with the firm's place, industry section, size
class and 规上 as they were then, and one line per target readiness, section score, gate status
and top gap: the statistics count these with GROUP BY, never firm by firm in Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String
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


class StatsCount(Base):
    """The statistics' counts, added up ahead (`webapp.stats.counts`): for one figure's row (`figure`,
    `k1`–`k4`) and one cell — a region prefix (`region`: "33", "3301", "330106") with nothing more
    (`dim` "all") or one cut inside it (`dim` industry / size / scale / city / county and its `value`)
    — the number of sharing firms counted in it, with the sums its averages need. Kept in the same
    transaction as the results it counts (on submit, a consent change, a firm's deletion) and written
    again from them by `flask rescore`. Not tenant-scoped: it names no firm."""

    __tablename__ = "stats_counts"

    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    figure: Mapped[str] = mapped_column(String(16), primary_key=True)
    k1: Mapped[str] = mapped_column(String(64), primary_key=True)
    k2: Mapped[str] = mapped_column(String(64), primary_key=True)
    k3: Mapped[str] = mapped_column(String(64), primary_key=True)
    k4: Mapped[str] = mapped_column(String(32), primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(8), primary_key=True)
    firms: Mapped[int] = mapped_column(Integer, default=0)  # distinct firms
    assessments: Mapped[int] = mapped_column(Integer, default=0)  # kept results (overview, quarters)
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)  # sum of the percents averaged
    scored: Mapped[int] = mapped_column(Integer, default=0)  # how many percents that sum holds
