"""Submitted rounds for the demo's synthetic firms, so the regulator dashboard shows something real.

Each synthetic firm gets one or two submitted rounds of one to three frameworks, its answers drawn
around a quality level that varies by size, city, 规上 and industry (with noise), the second round
better than the first. Rows are written in bulk (answers, then the kept results) — the engine scores
each round once; nothing goes through the questionnaire's pages. Most answers that need evidence
get a file record (no file: nobody signs in to a synthetic firm to open it); the others keep half
their points, as the engine's evidence cap says. Fixed seed; firms that already have assessments
are left alone."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import insert, select

import scoring
from assessments.loader import load_framework
from scoring.model import AnswerType, Framework, Item
from webapp import db
from webapp.db import utcnow
from webapp.models import Answer, Assessment, Evidence, Firm
from webapp.orgs.services import profile_facts
from webapp.questionnaire.engine_bridge import submission, summary
from webapp.stats import counts, results

SEED = 18
SIZE_LEVEL = {"large": 0.68, "medium": 0.56, "small": 0.45, "micro": 0.36}
CITY_LEVEL = {
    "330100": 0.06, "330200": 0.05, "330300": 0.02, "330400": 0.02, "330500": 0.01, "330600": 0.04,
    "330700": 0.03, "330800": -0.05, "330900": -0.03, "331000": 0.0, "331100": -0.06,
}  # fmt: skip
TEXT = "本企业主要从事制造业务，已建立质量管理体系并持续改进。（演示数据）"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
NARRATIVE = "方法已在主要部门展开，关键指标按月统计并持续改进。（演示数据）"


def _value(
    fw: Framework,
    item: Item,
    mode: str,
    day: dt.date,
    level: float,
    rng: random.Random,
    cache: dict[Any, Any],
) -> Any:
    if item.answer_type is AnswerType.TEXT:
        return TEXT
    if item.answer_type is AnswerType.SCALE:
        scale = fw.scale_by_id(item.scale_for(mode) or "")
        assert scale is not None
        aim = max(0.0, min(100.0, rng.gauss(level * 100, 18)))
        return min(scale.levels, key=lambda lv: abs(float(lv.percent) - aim)).value
    # the basic conditions (registered here, no major incident, ...) hold for most firms
    good = rng.random() < (level + 0.25 if item.gate else level + 0.1)
    key = (fw.id, mode, item.id, good, day if item.answer_type is AnswerType.DATE else None)
    if key not in cache:
        pick = scoring.ideal_answer if good else scoring.zero_answer
        cache[key] = pick(fw, item, mode=mode, as_of=day)
    return cache[key]


def _plan(firm: Any, rng: random.Random) -> list[tuple[str, str | None]]:
    """Which frameworks (and modes) a firm assesses itself against."""
    manufacturing = 13 <= int(firm.industry_division) <= 43
    out: list[tuple[str, str | None]] = []
    if manufacturing and rng.random() < 0.75:
        out.append(("pinzibiao", None))
    if rng.random() < 0.45:
        out.append(("performance-excellence", "quick" if rng.random() < 0.8 else "full"))
    if rng.random() < 0.4:
        out.append(("chief-quality-officer", None))
    if manufacturing and rng.random() < 0.35:
        out.append(("standards-adoption", None))
    if manufacturing and firm.size_class in ("large", "medium") and rng.random() < 0.35:
        out.append(("labelling-four-100", None))
    return out[:3] or [("chief-quality-officer", None)]


def load(*, today: dt.date, frameworks: dict[str, Framework] | None = None) -> int:
    """Give every synthetic firm without assessments its rounds. Returns the assessments made.
    Run inside `tenancy.bypass()`; the caller commits."""
    rng = random.Random(SEED)
    s = db.session
    busy = set(s.scalars(select(Assessment.firm_id).distinct()))
    firms = [
        f
        for f in s.execute(
            select(
                Firm.id,
                Firm.region_code,
                Firm.industry_division,
                Firm.size_class,
                Firm.above_scale,
                Firm.founded_on,
            )
            .where(Firm.synthetic.is_(True))
            .order_by(Firm.id)
        )
        if f.id not in busy
    ]
    fws = frameworks or {}
    cache: dict[Any, Any] = {}
    made: list[tuple[Assessment, Any, scoring.Result, dict[str, Any]]] = []
    for firm in firms:
        city = (firm.region_code[:4] + "00") if firm.region_code else ""
        level = SIZE_LEVEL.get(firm.size_class or "", 0.4) + CITY_LEVEL.get(city, 0.0)
        level += 0.05 if firm.above_scale else 0.0
        level += rng.gauss(0, 0.1)
        rounds = 2 if rng.random() < 0.45 else 1
        first = today - dt.timedelta(days=rng.randint(200, 640))
        for fid, mode in _plan(firm, rng):
            fw = fws.get(fid) or fws.setdefault(fid, load_framework(fid))
            mode = mode or fw.default_mode
            previous: Assessment | None = None
            for n in range(rounds):
                day = first if n == 0 else min(today, first + dt.timedelta(days=rng.randint(90, 200)))
                lv = max(0.05, min(0.95, level + 0.12 * n))
                answers = {}
                for item in fw.items:
                    if item.answer_type is AnswerType.SCALE and item.scale_for(mode) is None:
                        continue
                    answers[item.id] = _value(fw, item, mode, day, lv, rng, cache)
                narratives = {i.id for i in fw.items if mode in i.narrative_modes and i.id in answers}
                # most firms file the evidence their answers need
                evidence = {
                    i.id for i in fw.items if i.evidence_required and i.id in answers and rng.random() < 0.8
                }
                sub = submission(
                    [(k, v, None) for k, v in answers.items()], evidence, profile_facts(firm, day), mode, day
                )
                result = scoring.score(fw, sub)
                stamp = dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)
                head = summary(result)
                a = Assessment(
                    firm_id=firm.id,
                    framework_id=fw.id,
                    framework_version=fw.version,
                    mode=mode,
                    status="submitted",
                    round=n + 1,
                    previous_id=previous.id if previous else None,
                    created_at=stamp - dt.timedelta(days=10),
                    updated_at=stamp,
                    submitted_at=stamp,
                    as_of=day,
                    summary=head,
                    result_percent=head["percent"],
                    result_points=head["points"],
                    scored_at=utcnow(),
                )
                s.add(a)
                s.flush()
                previous = a
                made.append(
                    (
                        a,
                        firm,
                        result,
                        {"answers": answers, "narratives": narratives, "day": day, "evidence": evidence},
                    )
                )
    answer_rows = []
    evidence_rows = []
    result_rows = []
    line_rows: list[dict[str, Any]] = []
    for a, firm, result, extra in made:
        stamp = dt.datetime.combine(extra["day"], dt.time(9, 0), tzinfo=dt.UTC)
        for item_id, value in extra["answers"].items():
            answer_rows.append(
                {
                    "firm_id": a.firm_id,
                    "assessment_id": a.id,
                    "item_id": item_id,
                    "value": value,
                    "narrative": NARRATIVE if item_id in extra["narratives"] else None,
                    "version": 1,
                    "updated_at": stamp,
                }
            )
        for item_id in sorted(extra["evidence"]):
            # the file's record only: nobody signs in to a synthetic firm, so nobody opens it
            evidence_rows.append(
                {
                    "firm_id": a.firm_id,
                    "assessment_id": a.id,
                    "item_id": item_id,
                    "filename": f"{item_id}.pdf",
                    "content_type": "application/pdf",
                    "size": 0,
                    "sha256": EMPTY_SHA256,
                    "storage_key": f"synthetic/{a.id}/{item_id}",
                    "uploaded_at": stamp,
                }
            )
        row, lines = results.rows_for(
            assessment_id=a.id,
            firm_id=a.firm_id,
            mode=a.mode,
            submitted_on=extra["day"],
            firm=firm,
            result=result,
        )
        result_rows.append(row)
        line_rows.extend(lines)
    if answer_rows:
        s.execute(insert(Answer.__table__), answer_rows)
    if evidence_rows:
        s.execute(insert(Evidence.__table__), evidence_rows)
    results.write(result_rows, line_rows)
    results.mark_all_latest()
    counts.rebuild()
    return len(made)
