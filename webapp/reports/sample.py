"""A complete, realistic sample assessment: every question answered, self-evaluations written,
evidence on file. The report benchmark (`bench/bench_reports.py`) and the report tests use it, so
"a standard report" means the same thing everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import scoring
from assessments.loader import load_framework
from scoring.model import AnswerType, Framework
from webapp import db
from webapp.models import Answer, Assessment, Evidence

NARRATIVE = (
    "本条款由{who}牵头自评。我们已建立{what}，并在{where}实施，每季度检查一次，"
    "年度管理评审时评价其有效性。近三年共完成{n}项改进，典型案例已纳入知识库。"
    "不足之处：部分子公司和新建车间的展开程度还不一致，学习和分享的机制尚未制度化，"
    "与战略目标的衔接需要在下一年度的经营计划中进一步加强。"
)
WHO = ("总经理", "质量部", "战略发展部", "人力资源部", "财务部", "生产部", "营销中心", "首席质量官")
WHAT = ("成文的管理制度和流程", "关键绩效指标体系", "顾客满意度测量方法", "供方评价和协同改进机制")
WHERE = ("全部生产车间", "主要业务部门", "总部和两个生产基地", "大多数部门")
PROFILE = (
    "杭州精工阀门有限公司成立于2008年，主要生产工业球阀、蝶阀和智能控制阀，员工420人，"
    "拥有两个生产基地和一个省级企业技术中心。主要顾客为石化、电力和市政水务企业，"
    "主要供方为铸件、锻件和密封件企业。面临的战略挑战是高端市场的进口替代和数字化转型。"
)


@dataclass
class SampleAnswers:
    values: dict[str, Any] = field(default_factory=dict)
    na: dict[str, str] = field(default_factory=dict)
    narratives: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)


def sample_answers(
    fw: Framework, mode: str, as_of: dt.date, seed: int = 7, level: float = 0.55
) -> SampleAnswers:
    """Answers to every item of `fw` in `mode`. `level` (0..1) moves scale answers up or down."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    out = SampleAnswers()
    for section in fw.sections:
        for item in section.items:
            kind = item.answer_type
            if kind is AnswerType.SCALE:
                scale = fw.scale_by_id(item.scale_for(mode) or "")
                if scale is None:
                    continue
                levels = scale.levels
                centre = level * (len(levels) - 1)
                pick = round(min(max(rng.gauss(centre, len(levels) / 6), 0), len(levels) - 1))
                out.values[item.id] = levels[pick].value
            elif kind is AnswerType.TEXT:
                out.values[item.id] = PROFILE
            else:
                good = rng.random() < 0.8
                pick_fn = scoring.ideal_answer if good else scoring.zero_answer
                out.values[item.id] = pick_fn(fw, item, mode=mode, as_of=as_of)
            if mode in item.narrative_modes:
                out.narratives[item.id] = NARRATIVE.format(
                    who=rng.choice(WHO), what=rng.choice(WHAT), where=rng.choice(WHERE), n=rng.randint(3, 24)
                )
            if item.evidence is not None and rng.random() < 0.7:
                n = rng.randint(1, 3)
                out.evidence[item.id] = [f"{item.id}-证据{i + 1}.pdf" for i in range(n)]
    return out


def create_assessment(
    firm_id: int,
    framework_id: str = "performance-excellence",
    *,
    mode: str = "full",
    status: str = "submitted",
    round: int = 1,
    previous_id: int | None = None,
    as_of: dt.date = dt.date(2026, 11, 22),
    seed: int = 7,
    level: float = 0.55,
    user_id: int | None = None,
) -> Assessment:
    """A sample assessment of `firm_id` with every question answered, in the current session (flushed,
    not committed). The caller's tenant context must include the firm."""
    fw = load_framework(framework_id, None)
    sample = sample_answers(fw, mode, as_of, seed=seed, level=level)
    a = Assessment(
        firm_id=firm_id,
        framework_id=fw.id,
        framework_version=fw.version,
        mode=mode,
        status=status,
        round=round,
        previous_id=previous_id,
        as_of=as_of,
        created_by_id=user_id,
        submitted_at=db.utcnow() if status == "submitted" else None,
        submitted_by_id=user_id if status == "submitted" else None,
    )
    db.session.add(a)
    db.session.flush()
    for item in fw.items:
        if item.id not in sample.values and item.id not in sample.na:
            continue
        db.session.add(
            Answer(
                firm_id=firm_id,
                assessment_id=a.id,
                item_id=item.id,
                value=sample.values.get(item.id),
                na_reason=sample.na.get(item.id),
                narrative=sample.narratives.get(item.id),
                updated_by_id=user_id,
            )
        )
    for item_id, names in sample.evidence.items():
        for name in names:
            key = uuid.uuid4().hex
            db.session.add(
                Evidence(
                    firm_id=firm_id,
                    assessment_id=a.id,
                    item_id=item_id,
                    filename=name,
                    content_type="application/pdf",
                    size=1024,
                    sha256=hashlib.sha256(key.encode()).hexdigest(),
                    storage_key=f"sample/{key}",
                    uploaded_by_id=user_id,
                )
            )
    db.session.flush()
    return a
