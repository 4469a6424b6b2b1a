"""Demo assessments for `flask demo`: the demo firm gets two submitted rounds of `pinzibiao` and of
`performance-excellence` (full mode), the second better than the first, with evidence files, plus a
draft in progress, so the verdict, the trend and the reports show something real.

Made through the same services as the questionnaire (history, shared facts, evidence checks), with
fixed seeds. Idempotent: nothing is added for a firm that already has assessments.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from typing import Any

from flask import current_app
from sqlalchemy import func, select

import scoring
from scoring.model import AnswerType, Framework, Item
from webapp import db
from webapp.models import Assessment, Firm, User
from webapp.questionnaire import answers, evidence, rounds, save, storage
from webapp.questionnaire import submit as submitting
from webapp.questionnaire.answers import ItemChange

SEED = 5


def pdf_bytes(title: str) -> bytes:
    """A small valid one-page PDF with one line of (ASCII) text."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    content = b"BT /F1 16 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_bytes(width: int = 160, height: int = 90, color: tuple[int, int, int] = (179, 38, 30)) -> bytes:
    """A small valid PNG: a coloured band on white, like a photo placeholder."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for _x in range(width):
            rows += bytes(color) if height // 3 <= y < 2 * height // 3 else b"\xff\xff\xff"
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


NARRATIVES = (
    "公司已建立覆盖主要部门的制度和流程，由分管领导牵头，每季度检查执行情况并记录改进措施。（演示数据）",
    "方法已在主要车间和职能部门展开，关键指标按月统计，与行业标杆对比后制定了改进计划。（演示数据）",
    "近三年数据呈上升趋势，部分指标达到行业先进水平，改进成果已纳入年度经营计划。（演示数据）",
)
PROFILE_TEXT = (
    "杭州精工阀门有限公司主要生产工业阀门，员工约 420 人，产品销往国内石化、电力行业并出口东南亚。"
    "公司以“精工制造、质量第一”为使命，主要竞争优势是精密加工能力和快速交付。（演示数据）"
)


def _level_near(fw: Framework, item: Item, mode: str, lo: int, hi: int, rng: random.Random) -> str:
    scale = fw.scale_by_id(item.scale_for(mode) or "")
    assert scale is not None
    levels = [lv.value for lv in scale.levels if lo <= lv.percent <= hi] or [scale.levels[0].value]
    return rng.choice(levels)


def _answers(
    fw: Framework, mode: str, day: dt.date, good: float, rng: random.Random, force: dict[str, Any]
) -> dict[str, ItemChange]:
    """Answers for every item: the best answer with probability `good`, else the worst; scale items at
    a level band (better rounds score higher); `force` fixes some items."""
    lo, hi = (50, 70) if good > 0.7 else (25, 45)
    out = {}
    for item in fw.items:
        if item.answer_type is AnswerType.SCALE and item.scale_for(mode) is None:
            continue
        if item.id in force:
            value = force[item.id]
        elif (
            item.answer_type is AnswerType.SCALE
            and len(fw.scale_by_id(item.scale_for(mode) or "").levels) > 6
        ):  # type: ignore[union-attr]
            value = _level_near(fw, item, mode, lo, hi, rng)
        elif item.answer_type is AnswerType.TEXT:
            value = PROFILE_TEXT
        elif rng.random() < good or item.gate:
            value = scoring.ideal_answer(fw, item, mode=mode, as_of=day)
        else:
            value = scoring.zero_answer(fw, item, mode=mode, as_of=day)
        narrative = rng.choice(NARRATIVES) if mode in item.narrative_modes else answers.UNSET
        out[item.id] = ItemChange(value=value, narrative=narrative)
    return out


def _evidence_for(a: Assessment, user: User, store: storage.EvidenceStore) -> int:
    """Attach a file to every answer that needs one before submitting (PDF, every third a PNG photo)."""
    fw = answers.framework(a)
    s = answers.scored(a)
    done = 0
    for n, p in enumerate(submitting.submit_problems(a, fw, s.states, s.result, s.evidence)):
        if p.code != "evidence_missing" or p.item is None:
            continue
        if n % 3 == 2:
            name, data = f"{p.item}-photo.png", png_bytes()
        else:
            name, data = f"{p.item}.pdf", pdf_bytes(f"QReady demo evidence: {p.item}, round {a.round}")
        got = evidence.add_evidence(a, p.item, name, data, user, store, max_bytes=storage.max_bytes())
        assert not isinstance(got, evidence.EvidenceRefused), got
        done += 1
    return done


def _round(
    a: Assessment,
    user: User,
    day: dt.date,
    good: float,
    rng: random.Random,
    force: dict[str, Any],
    store: storage.EvidenceStore,
    *,
    submit: bool = True,
    share: float = 1.0,
) -> None:
    fw = answers.framework(a)
    changes = _answers(fw, a.mode, day, good, rng, force)
    if share < 1.0:
        keep = sorted(changes)[: int(len(changes) * share)]
        changes = {k: changes[k] for k in keep}
    got = save.save_answers(a, changes, user, day=day)
    assert got.ok, (got.errors, got.conflicts)
    stamp = dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC)
    a.created_at = stamp - dt.timedelta(days=12)
    a.updated_at = stamp
    if not submit:
        return
    _evidence_for(a, user, store)
    problems = submitting.submit(a, user, day=day)
    assert not problems, problems
    a.submitted_at = stamp


def load(firm: Firm, owner: User, *, today: dt.date | None = None) -> int:
    """Give `firm` its demo assessments unless it has some already. Returns the number created."""
    has = db.session.scalar(select(func.count()).select_from(Assessment).where(Assessment.firm_id == firm.id))
    if has:
        return 0
    today = today or answers.today()
    rng = random.Random(SEED)
    store = storage.store(current_app)
    first, second = today - dt.timedelta(days=400), today - dt.timedelta(days=45)
    made = 0
    for fid, mode, good, force1, force2 in (
        (
            "pinzibiao",
            None,
            (0.4, 0.55),
            {"pzb-certified": False, "pzb-zj-standard": "drafting"},
            {"pzb-certified": False, "pzb-zj-standard": "published"},
        ),
        ("performance-excellence", "full", (0.45, 0.85), {}, {}),
    ):
        a, _ = rounds.start(firm.id, fid, mode, owner, day=first)
        _round(a, owner, first, good[0], rng, force1, store)
        b, _ = rounds.new_round(a, owner, day=second)
        _round(b, owner, second, good[1], rng, force2, store)
        made += 2
    draft, _ = rounds.start(firm.id, "standards-adoption", None, owner, day=today)
    _round(draft, owner, today - dt.timedelta(days=3), 0.7, rng, {}, store, submit=False, share=0.5)
    return made + 1
