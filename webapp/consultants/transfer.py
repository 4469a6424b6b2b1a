"""A client's whole record out (JSON and XLSX), and a client's answers in from the framework's workbook.

* `record(firm)`: the firm's profile, every assessment with its answers and its result as the engine
  scores it (targets, sections, top gaps), the plan's actions and the list of evidence files (names,
  sizes, checksums; the files themselves stay behind the evidence routes). `record_xlsx` writes the
  same as sheets. A fixed number of statements, whatever the number of assessments.
* `template_xlsx(assessment)`: the framework's own workbook (`assessments.export.export_xlsx`: items,
  options, bands, scales, …) with a first sheet `answers`: one row per question asked in the
  assessment's mode, its current answer filled in, and the columns to fill (`answer`,
  `not_applicable_because`, `narrative`).
* `read_answers(data, assessment)`: the `answers` sheet read back into changes for
  `questionnaire.save.save_answers` — the one way answers change — and, for every row that cannot
  be read, its row number, item and the reason in the reader's language. A blank row changes nothing.
  The caller saves only when no row is refused; `save_answers` then checks every value with the
  engine and writes all or nothing, and the request rolls back on any refusal.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

import scoring
from assessments.export import export_xlsx
from scoring.model import AnswerType, Framework, Item
from webapp import db
from webapp.models import Action, Answer, Assessment, Evidence, Firm
from webapp.plan.services import title_of
from webapp.questionnaire import answers, save
from webapp.questionnaire.present import t
from webapp.results.values import levels_of

TOP_GAPS = 10
MAX_ROWS = 2000  # an answers sheet longer than any framework: refused before it is read
COLUMNS = (
    "section",
    "item",
    "type",
    "question (zh)",
    "question (en)",
    "choices",
    "answer",
    "not_applicable_because",
    "narrative",
)
FILLED = ("answer", "not_applicable_because", "narrative")


def _iso(v: dt.date | dt.datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _n(x: Decimal | None) -> float | None:
    return None if x is None else float(round(x, 2))


# ---- the record out ----------------------------------------------------------------------------------


def _result_dict(r: scoring.Result) -> dict[str, Any]:
    return {
        "score": _n(r.score),
        "percent": _n(r.percent),
        "answered": r.confidence.answered,
        "applicable": r.confidence.applicable,
        "targets": {
            tg.id: {"readiness": tg.readiness, "score": _n(tg.score), "threshold": _n(tg.threshold)}
            for tg in r.targets
        },
        "sections": {s.id: _n(s.percent) for s in r.sections},
        "gaps": [
            {"item": g.item, "section": g.section, "points_recoverable": _n(g.points_recoverable)}
            for g in r.gaps[:TOP_GAPS]
        ],
    }


def record(firm: Firm, *, day: dt.date | None = None) -> dict[str, Any]:
    """Everything QReady holds about the client's work, as JSON-ready data."""
    day = day or answers.today()
    rows = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.firm_id == firm.id)
            .order_by(Assessment.framework_id, Assessment.round, Assessment.id)
        )
    )
    ids = [a.id for a in rows]
    states: dict[int, dict[str, answers.AnswerState]] = {i: {} for i in ids}
    evidence_rows = []
    if ids:
        for r in db.session.execute(
            select(
                Answer.assessment_id,
                Answer.item_id,
                Answer.value,
                Answer.na_reason,
                Answer.narrative,
                Answer.version,
                Answer.fact,
                Answer.updated_by_id,
                Answer.updated_at,
            )
            .where(Answer.firm_id == firm.id, Answer.assessment_id.in_(ids))
            .order_by(Answer.assessment_id, Answer.id)
        ):
            states[r[0]][r[1]] = answers.AnswerState(*r[1:])
        evidence_rows = list(
            db.session.scalars(
                select(Evidence)
                .where(Evidence.firm_id == firm.id)
                .order_by(Evidence.assessment_id, Evidence.id)
            )
        )
    actions = list(db.session.scalars(select(Action).where(Action.firm_id == firm.id).order_by(Action.id)))
    names = answers.user_names(
        [x.updated_by_id for s in states.values() for x in s.values()]
        + [e.uploaded_by_id for e in evidence_rows]
        + [a.owner_id for a in actions]
    )
    with_evidence: dict[int, set[str]] = {i: set() for i in ids}
    for e in evidence_rows:
        with_evidence[e.assessment_id].add(e.item_id)
    assessments = []
    for a in rows:
        result = answers.score_states(
            a, answers.framework(a), states[a.id], with_evidence[a.id], firm, answers.scoring_date(a, day)
        )
        assessments.append(
            {
                "id": a.id,
                "framework": a.framework_id,
                "framework_version": a.framework_version,
                "mode": a.mode,
                "round": a.round,
                "status": a.status,
                "created_at": _iso(a.created_at),
                "updated_at": _iso(a.updated_at),
                "submitted_at": _iso(a.submitted_at),
                "as_of": _iso(answers.scoring_date(a, day)),
                "answers": [
                    {
                        "item": x.item,
                        "value": x.value,
                        "not_applicable_because": x.na_reason,
                        "narrative": x.narrative,
                        "version": x.version,
                        "updated_by": names.get(x.updated_by_id) if x.updated_by_id else None,
                        "updated_at": _iso(x.updated_at),
                    }
                    for x in states[a.id].values()
                ],
                "result": _result_dict(result),
            }
        )
    return {
        "format": "qready-client-record/1",
        "exported_on": day.isoformat(),
        "firm": {
            "id": firm.id,
            "name": firm.name,
            "credit_code": firm.credit_code,
            "region_code": firm.region_code,
            "industry_division": firm.industry_division,
            "employees": firm.employees,
            "revenue_10k": _n(firm.revenue_10k),
            "total_assets_10k": _n(firm.total_assets_10k),
            "size_class": firm.size_class,
            "above_scale": firm.above_scale,
            "founded_on": _iso(firm.founded_on),
        },
        "assessments": assessments,
        "actions": [
            {
                **x.as_dict(),
                "title": title_of(x),
                "owner": names.get(x.owner_id) if x.owner_id else None,
                "effort": x.effort,
            }
            for x in actions
        ],
        "evidence": [
            {
                "id": e.id,
                "assessment_id": e.assessment_id,
                "item": e.item_id,
                "filename": e.filename,
                "content_type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
                "uploaded_by": names.get(e.uploaded_by_id) if e.uploaded_by_id else None,
                "uploaded_at": _iso(e.uploaded_at),
            }
            for e in evidence_rows
        ],
    }


def _put(ws: Any, values: list[Any], *, bold: bool = False) -> None:
    """A row of values kept as what they are: text a person typed that starts with "=" stays text."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
        if bold:
            cell.font = Font(bold=True)


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    import json

    return json.dumps(v, ensure_ascii=False)


def _widths(ws: Any, widths: tuple[int, ...]) -> None:
    for n, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = w
    ws.freeze_panes = "A2"


def record_xlsx(data: dict[str, Any]) -> bytes:
    """`record(...)` as a workbook: firm, assessments, results, answers, actions, evidence."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "firm"
    _put(ws, ["field", "value"], bold=True)
    for k, v in data["firm"].items():
        _put(ws, [k, _cell(v)])
    _widths(ws, (20, 50))
    ws = wb.create_sheet("assessments")
    _put(
        ws,
        [
            "id",
            "framework",
            "framework_version",
            "mode",
            "round",
            "status",
            "created_at",
            "submitted_at",
            "as_of",
            "score",
            "percent",
            "answered",
            "applicable",
        ],
        bold=True,
    )
    for a in data["assessments"]:
        r = a["result"]
        _put(
            ws,
            [
                a["id"],
                a["framework"],
                a["framework_version"],
                a["mode"],
                a["round"],
                a["status"],
                a["created_at"],
                a["submitted_at"],
                a["as_of"],
                r["score"],
                r["percent"],
                r["answered"],
                r["applicable"],
            ],
        )
    _widths(ws, (8, 22, 10, 8, 6, 10, 26, 26, 12, 8, 8, 9, 10))
    ws = wb.create_sheet("results")
    _put(ws, ["assessment_id", "kind", "id", "readiness", "value", "threshold"], bold=True)
    for a in data["assessments"]:
        r = a["result"]
        for tid, tg in r["targets"].items():
            _put(ws, [a["id"], "target", tid, tg["readiness"], tg["score"], tg["threshold"]])
        for sid, pct in r["sections"].items():
            _put(ws, [a["id"], "section", sid, None, pct, None])
        for g in r["gaps"]:
            _put(ws, [a["id"], "gap", g["item"], None, g["points_recoverable"], None])
    _widths(ws, (12, 10, 30, 14, 10, 10))
    ws = wb.create_sheet("answers")
    _put(
        ws,
        [
            "assessment_id",
            "item",
            "answer",
            "not_applicable_because",
            "narrative",
            "version",
            "updated_by",
            "updated_at",
        ],
        bold=True,
    )
    for a in data["assessments"]:
        for x in a["answers"]:
            _put(
                ws,
                [
                    a["id"],
                    x["item"],
                    _cell(x["value"]),
                    x["not_applicable_because"],
                    x["narrative"],
                    x["version"],
                    x["updated_by"],
                    x["updated_at"],
                ],
            )
    _widths(ws, (12, 24, 24, 30, 48, 8, 20, 26))
    ws = wb.create_sheet("actions")
    keys = (
        "id",
        "assessment_id",
        "framework",
        "title",
        "items",
        "targets",
        "owner",
        "due_on",
        "status",
        "effort",
        "notes",
        "done_at",
    )
    _put(ws, list(keys), bold=True)
    for x in data["actions"]:
        _put(ws, [_cell(x.get(k)) if k not in ("items", "targets") else ", ".join(x[k]) for k in keys])
    _widths(ws, (6, 12, 20, 48, 24, 24, 16, 12, 12, 8, 40, 26))
    ws = wb.create_sheet("evidence")
    keys = (
        "id",
        "assessment_id",
        "item",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    _put(ws, list(keys), bold=True)
    for e in data["evidence"]:
        _put(ws, [e[k] for k in keys])
    _widths(ws, (6, 12, 24, 36, 24, 10, 66, 16, 26))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- the template, and answers in --------------------------------------------------------------------


def asked(fw: Framework, item: Item, mode: str) -> bool:
    return item.answer_type is not AnswerType.SCALE or item.scale_for(mode) is not None


def _choices(fw: Framework, item: Item, mode: str) -> str | None:
    kind = item.answer_type
    if kind is AnswerType.YES_NO:
        return "true = 是 / yes\nfalse = 否 / no"
    if kind is AnswerType.CHOICE:
        return "\n".join(f"{o.value} = {o.label.zh} / {o.label.en}" for o in item.options)
    if kind is AnswerType.SCALE:
        return "\n".join(f"{lv.value} = {lv.label.zh} / {lv.label.en}" for lv in levels_of(fw, item, mode))
    if kind is AnswerType.DATE:
        return "YYYY-MM-DD"
    if kind in (AnswerType.NUMBER, AnswerType.PERCENT):
        lo = item.min_value if item.min_value is not None else (0 if kind is AnswerType.PERCENT else None)
        hi = item.max_value if item.max_value is not None else (100 if kind is AnswerType.PERCENT else None)
        return f"{lo if lo is not None else ''} … {hi if hi is not None else ''}".strip()
    return None


def template_xlsx(a: Assessment) -> bytes:
    """The framework's workbook with a first sheet `answers` to fill, holding the current answers."""
    fw = answers.framework(a)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "framework.xlsx"
        export_xlsx(fw, path)
        wb = load_workbook(path)
    ws = wb.create_sheet("answers", 0)
    _put(ws, list(COLUMNS), bold=True)
    states = answers.answer_states(a.firm_id, a.id)
    for s in fw.sections:
        for item in s.items:
            if not asked(fw, item, a.mode):
                continue
            cur = states.get(item.id) or answers.AnswerState(item.id)
            _put(
                ws,
                [
                    s.id,
                    item.id,
                    item.answer_type.value,
                    item.text.zh,
                    item.text.en,
                    _choices(fw, item, a.mode),
                    _cell(cur.value),
                    cur.na_reason,
                    cur.narrative if a.mode in item.narrative_modes else None,
                ],
            )
    _widths(ws, (14, 24, 9, 48, 48, 36, 20, 30, 40))
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class RowError:
    row: int | None  # the sheet's row number (None: the workbook as a whole)
    item: str | None
    message: str


_YES = {"true", "yes", "y", "是", "1", "√", "✓"}
_NO = {"false", "no", "n", "否", "0", "×"}


def _value(fw: Framework, item: Item, mode: str, v: Any) -> Any:
    """A cell as the engine's JSON value (what the engine cannot read is passed on for it to refuse)."""
    kind = item.answer_type
    if isinstance(v, str):
        v = v.strip()
    if kind is AnswerType.YES_NO:
        if isinstance(v, bool):
            return v
        key = str(v).lower()
        return True if key in _YES else False if key in _NO else str(v)
    if kind in (AnswerType.CHOICE, AnswerType.SCALE):
        if isinstance(v, float) and v == int(v):
            v = int(v)
        s = str(v)
        pairs = (
            [(o.value, o.label) for o in item.options]
            if kind is AnswerType.CHOICE
            else [(lv.value, lv.label) for lv in levels_of(fw, item, mode)]
        )
        for value, label in pairs:
            if s in (str(value), label.zh, label.en):
                return value
        return s
    if kind in (AnswerType.NUMBER, AnswerType.PERCENT):
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, (int, float)):
            return v
        try:
            d = Decimal(str(v).replace(",", "").rstrip("%").strip())
        except InvalidOperation:
            return str(v)
        if not d.is_finite():
            return str(v)
        return int(d) if d == d.to_integral_value() and abs(d) < 10**15 else float(d)
    if kind is AnswerType.DATE:
        if isinstance(v, dt.datetime):
            return v.date().isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        return str(v)
    return str(v) if not isinstance(v, str) else v


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def read_answers(
    data: bytes, a: Assessment
) -> tuple[dict[str, answers.ItemChange], dict[str, int], list[RowError]]:
    """The `answers` sheet as changes (item -> change), each item's row number, and the rows refused."""
    fw = answers.framework(a)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        return {}, {}, [RowError(None, None, _("This file is not an Excel workbook (.xlsx)."))]
    if "answers" not in wb.sheetnames:
        return (
            {},
            {},
            [RowError(None, None, _("The workbook has no sheet “answers”: start from the template."))],
        )
    ws = wb["answers"]
    if (ws.max_row or 0) > MAX_ROWS:
        return {}, {}, [RowError(None, None, _("The sheet “answers” has more than %(n)s rows.", n=MAX_ROWS))]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    if "item" not in header or not set(FILLED) & set(header):
        return (
            {},
            {},
            [
                RowError(
                    1,
                    None,
                    _("The first row must name the columns “item” and “answer”: start from the template."),
                )
            ],
        )
    col = {name: header.index(name) for name in ("item", *FILLED) if name in header}
    changes: dict[str, answers.ItemChange] = {}
    where: dict[str, int] = {}
    errors: list[RowError] = []
    for n, row in enumerate(rows, start=2):
        if n > MAX_ROWS:  # a sheet whose stated size was wrong
            return (
                {},
                {},
                [RowError(None, None, _("The sheet “answers” has more than %(n)s rows.", n=MAX_ROWS))],
            )
        cells = {k: (row[i] if i < len(row) else None) for k, i in col.items()}
        if all(_blank(cells.get(k)) for k in FILLED):
            continue
        item_id = str(cells["item"]).strip() if not _blank(cells.get("item")) else ""
        item = fw.item(item_id) if item_id else None
        if item is None:
            errors.append(RowError(n, item_id or None, _("There is no such question in this assessment.")))
            continue
        if item_id in where:
            errors.append(
                RowError(
                    n, item_id, _("This question is already answered in row %(row)s.", row=where[item_id])
                )
            )
            continue
        where[item_id] = n
        answer, na, narrative = (cells.get(k) for k in FILLED)
        fields: dict[str, Any] = {}
        if not _blank(na):
            fields["na_reason"] = str(na).strip()
        elif not _blank(answer):
            fields["value"] = _value(fw, item, a.mode, answer)
        if not _blank(narrative):
            fields["narrative"] = str(narrative)
        changes[item_id] = answers.ItemChange(**fields)
    return changes, where, errors


def save_errors(result: answers.SaveResult, fw: Framework, where: dict[str, int]) -> list[RowError]:
    """`save_answers`' refusals as rows of the sheet, in the reader's language."""
    from webapp.questionnaire.messages import error_message

    out = []
    for e in result.errors:
        item = fw.item(e.item) if e.item else None
        out.append(RowError(where.get(e.item or ""), e.item, error_message(e, item)))
    for c in result.conflicts:
        out.append(
            RowError(
                where.get(c.item),
                c.item,
                _("Someone changed this answer while the file was being saved: import it again."),
            )
        )
    return sorted(out, key=lambda e: (e.row or 0, e.item or ""))


def check_errors(
    a: Assessment, changes: dict[str, answers.ItemChange], where: dict[str, int]
) -> list[RowError]:
    """What the engine would refuse among the rows that were read (`check_changes`, as `save_answers`
    checks them), so that one upload lists every row to correct, not only those the reader refused."""
    fw = answers.framework(a)
    errors, _targets = save.check_changes(
        a, fw, answers.answer_states(a.firm_id, a.id), changes, answers.scoring_date(a)
    )
    return save_errors(answers.SaveResult(errors=errors), fw, where)


def item_text(fw: Framework, item_id: str | None) -> str:
    item = fw.item(item_id) if item_id else None
    return t(item.text) if item is not None else ""
