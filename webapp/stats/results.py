"""Results kept per submitted assessment (`AssessmentResult` and its lines), for the statistics.

`record` is called once when an assessment is submitted; `rebuild` writes them all again from the
stored answers (`flask rescore`). Both keep the statistics' counts (`webapp.stats.counts`) with them. Functions with explicit arguments; they flush, never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

import scoring
from webapp import db
from webapp.models import Answer, Assessment, AssessmentResult, AssessmentResultLine, Evidence, Firm
from webapp.refdata import industries, regions
from webapp.stats import counts

TOP_GAPS = 10  # the gaps kept per result: the first ones by priority


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _dec(x: Decimal | None) -> Decimal | None:
    return None if x is None else round(x, 2)


def rows_for(
    *,
    assessment_id: int,
    firm_id: int,
    mode: str,
    submitted_on: dt.date,
    firm: Any,
    result: scoring.Result,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The result row and its lines for one scored, submitted assessment; `firm` has the firm's
    region_code, industry_division, size_class and above_scale as they are at submission."""
    row = {
        "assessment_id": assessment_id,
        "firm_id": firm_id,
        "framework_id": result.framework,
        "framework_version": result.version,
        "mode": mode,
        "score": _dec(result.score),
        "percent": _dec(result.percent),
        "submitted_on": submitted_on,
        "quarter": quarter_of(submitted_on),
        "region_code": firm.region_code,
        "city_code": regions.city_of(firm.region_code),
        "industry_section": industries.section_of(firm.industry_division),
        "size_class": firm.size_class,
        "above_scale": bool(firm.above_scale),
        "latest": False,
    }
    base = {"assessment_id": assessment_id, "firm_id": firm_id}
    lines: list[dict[str, Any]] = []
    for t in result.targets:
        lines.append({**base, "kind": "target", "key": t.id, "status": t.readiness, "percent": None})
    for s in result.sections:
        lines.append({**base, "kind": "section", "key": s.id, "status": None, "percent": _dec(s.percent)})
    for g in result.gates:
        lines.append({**base, "kind": "gate", "key": g.id, "status": g.status, "percent": None})
    for gap in sorted(result.gaps, key=lambda x: x.priority)[:TOP_GAPS]:
        lines.append({**base, "kind": "gap", "key": gap.item, "status": None, "percent": None})
    return row, lines


def _mark_latest(pairs: Iterable[tuple[int, str, str]]) -> None:
    """Set `latest` on the newest result (submission date, then id) of each (firm, framework, mode)."""
    t = AssessmentResult.__table__
    for firm_id, framework_id, mode in set(pairs):
        same = and_(t.c.firm_id == firm_id, t.c.framework_id == framework_id, t.c.mode == mode)
        newest = db.session.execute(
            select(t.c.assessment_id)
            .where(same)
            .order_by(t.c.submitted_on.desc(), t.c.assessment_id.desc())
            .limit(1)
        ).scalar()
        db.session.execute(update(t).where(same).values(latest=t.c.assessment_id == newest))


def record(a: Assessment, result: scoring.Result) -> None:
    """Keep the result of an assessment just submitted (replacing one kept before); the statistics'
    counts follow in the same transaction."""
    assert a.as_of is not None
    with counts.firm_changing(a.firm_id):
        _record(a, result)


def _record(a: Assessment, result: scoring.Result) -> None:
    assert a.as_of is not None
    firm = db.session.execute(
        select(Firm.region_code, Firm.industry_division, Firm.size_class, Firm.above_scale).where(
            Firm.id == a.firm_id
        )
    ).one()
    row, lines = rows_for(
        assessment_id=a.id, firm_id=a.firm_id, mode=a.mode, submitted_on=a.as_of, firm=firm, result=result
    )
    write([row], lines, replace=True)
    _mark_latest([(a.firm_id, row["framework_id"], a.mode)])


def write(rows: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]], *, replace: bool = False) -> None:
    if not rows:
        return
    if replace:
        ids = [r["assessment_id"] for r in rows]
        db.session.execute(delete(AssessmentResult.__table__).where(AssessmentResult.assessment_id.in_(ids)))
    db.session.execute(insert(AssessmentResult.__table__), list(rows))
    if lines:
        db.session.execute(insert(AssessmentResultLine.__table__), list(lines))


def rebuild(*, framework_id: str | None = None, batch: int = 2000) -> int:
    """Write the kept results of every submitted assessment again (of one framework, if given), from
    the stored answers and the firm as it is now (a profile's past is not kept). Run inside
    `tenancy.bypass()`; the caller commits. Returns how many were written."""
    from assessments.loader import load_framework
    from webapp.orgs.services import profile_facts
    from webapp.questionnaire.engine_bridge import submission

    s = db.session
    t = AssessmentResult.__table__
    doomed = delete(t) if framework_id is None else delete(t).where(t.c.framework_id == framework_id)
    if s.get_bind().dialect.name == "sqlite":  # SQLite cascades only with its foreign keys on
        lt = AssessmentResultLine.__table__
        sub = select(t.c.assessment_id)
        if framework_id is not None:
            sub = sub.where(t.c.framework_id == framework_id)
        s.execute(delete(lt).where(lt.c.assessment_id.in_(sub)))
    s.execute(doomed)
    firms = {
        f.id: f
        for f in s.execute(
            select(
                Firm.id,
                Firm.region_code,
                Firm.industry_division,
                Firm.above_scale,
                Firm.size_class,
                Firm.founded_on,
            )
        )
    }
    frameworks: dict[tuple[str, str], Any] = {}
    written = 0
    last = 0
    while True:
        q = (
            select(
                Assessment.id,
                Assessment.firm_id,
                Assessment.framework_id,
                Assessment.framework_version,
                Assessment.mode,
                Assessment.as_of,
                Assessment.submitted_at,
            )
            .where(Assessment.status == "submitted", Assessment.id > last)
            .order_by(Assessment.id)
            .limit(batch)
        )
        if framework_id is not None:
            q = q.where(Assessment.framework_id == framework_id)
        batch_rows = s.execute(q).all()
        if not batch_rows:
            break
        ids = [r.id for r in batch_rows]
        answers: dict[int, list[tuple[str, Any, str | None]]] = {}
        for aid, item, value, na in s.execute(
            select(Answer.assessment_id, Answer.item_id, Answer.value, Answer.na_reason).where(
                Answer.assessment_id.in_(ids)
            )
        ):
            answers.setdefault(aid, []).append((item, value, na))
        evidence: dict[int, set[str]] = {}
        for aid, item in s.execute(
            select(Evidence.assessment_id, Evidence.item_id).where(Evidence.assessment_id.in_(ids))
        ):
            evidence.setdefault(aid, set()).add(item)
        rows: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        for r in batch_rows:
            key = (r.framework_id, r.framework_version)
            if key not in frameworks:
                frameworks[key] = load_framework(*key)
            day = r.as_of or r.submitted_at.date()
            firm = firms[r.firm_id]
            sub = submission(
                answers.get(r.id, ()), evidence.get(r.id, ()), profile_facts(firm, day), r.mode, day
            )
            try:
                result = scoring.score(frameworks[key], sub)
            except scoring.InvalidSubmission:
                continue
            row, ls = rows_for(
                assessment_id=r.id, firm_id=r.firm_id, mode=r.mode, submitted_on=day, firm=firm, result=result
            )
            rows.append(row)
            lines.extend(ls)
        write(rows, lines)
        written += len(rows)
        last = ids[-1]
    mark_all_latest()
    counts.rebuild()
    s.flush()
    return written


def mark_all_latest() -> None:
    """Set `latest` on the newest result of every (firm, framework, mode), in two statements."""
    s = db.session
    t = AssessmentResult.__table__
    newest = (
        select(t.c.firm_id, t.c.framework_id, t.c.mode, func.max(t.c.submitted_on).label("day"))
        .group_by(t.c.firm_id, t.c.framework_id, t.c.mode)
        .subquery()
    )
    s.execute(update(t).values(latest=False))
    top = (
        select(func.max(t.c.assessment_id))
        .select_from(
            t.join(
                newest,
                and_(
                    t.c.firm_id == newest.c.firm_id,
                    t.c.framework_id == newest.c.framework_id,
                    t.c.mode == newest.c.mode,
                    t.c.submitted_on == newest.c.day,
                ),
            )
        )
        .group_by(t.c.firm_id, t.c.framework_id, t.c.mode)
    )
    s.execute(update(t).where(t.c.assessment_id.in_(top)).values(latest=True))
