"""Compare: clients side by side on one framework, or one client across its rounds.

Each column is one assessment scored by the engine (`questionnaire.answers.score_states`, with its
gaps): every section's percent, every target's verdict and score, the top gaps. Which assessment
stands for a client: its latest submitted one of the framework, else its latest draft (provisional),
as the portfolio chooses.

A fixed number of statements whatever the number of columns: the firms, their assessments of the
framework, then the answers and the evidence of the chosen assessments, each read once for all.
Nothing is written: a page that only reads keeps no numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

import scoring
from scoring.model import Framework
from webapp import db
from webapp.consultants.portfolio import frameworks
from webapp.models import Answer, Assessment, ConsultancyGrant, Evidence, Firm
from webapp.questionnaire import answers

TOP_GAPS = 5
MAX_CLIENTS = 50


@dataclass
class Column:
    firm: Firm
    assessment: Assessment | None  # None: the client has not assessed this framework
    result: scoring.Result | None = None

    @property
    def provisional(self) -> bool:
        return self.assessment is not None and self.assessment.status == "draft"

    def section(self, section_id: str) -> Decimal | None:
        s = self.result.section(section_id) if self.result is not None else None
        return s.percent if s is not None else None

    def target(self, target_id: str) -> scoring.TargetResult | None:
        return self.result.target(target_id) if self.result is not None else None

    @property
    def gaps(self) -> list[scoring.Gap]:
        return list(self.result.gaps[:TOP_GAPS]) if self.result is not None else []


@dataclass
class Comparison:
    framework: Framework  # the latest version: its sections and targets are the rows
    columns: list[Column]
    common_gaps: list[tuple[str, int]] = field(default_factory=list)  # item, in how many columns' top gaps
    dropped: int = 0  # asked for but not compared (not a granted client, or past MAX_CLIENTS)


def granted_firms(consultancy_id: int, firm_ids: Iterable[int]) -> list[Firm]:
    """The firms among `firm_ids` that granted the consultancy access now, by name."""
    ids = sorted(set(firm_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Firm)
            .join(ConsultancyGrant, ConsultancyGrant.firm_id == Firm.id)
            .where(
                ConsultancyGrant.consultancy_id == consultancy_id,
                ConsultancyGrant.revoked_at.is_(None),
                Firm.id.in_(ids),
            )
            .order_by(Firm.name, Firm.id)
        )
    )


def _latest(rows: Sequence[Assessment]) -> Assessment | None:
    done = [a for a in rows if a.status == "submitted"]
    if done:
        return max(done, key=lambda a: (a.submitted_at or a.updated_at, a.id))
    drafts = [a for a in rows if a.status == "draft"]
    return max(drafts, key=lambda a: (a.updated_at, a.id)) if drafts else None


def _score_all(columns: list[Column], firms: dict[int, Firm], day: dt.date) -> None:
    """Score every column's assessment with its gaps: two statements for all of them."""
    chosen = [c.assessment for c in columns if c.assessment is not None]
    if not chosen:
        return
    ids = [a.id for a in chosen]
    states: dict[int, dict[str, answers.AnswerState]] = {i: {} for i in ids}
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
        ).where(Answer.assessment_id.in_(ids))
    ):
        states[r[0]][r[1]] = answers.AnswerState(*r[1:])
    evidence: dict[int, set[str]] = {i: set() for i in ids}
    for aid, item in db.session.execute(
        select(Evidence.assessment_id, Evidence.item_id).where(Evidence.assessment_id.in_(ids))
    ):
        evidence[aid].add(item)
    for c in columns:
        a = c.assessment
        if a is None:
            continue
        c.result = answers.score_states(
            a,
            answers.framework(a),
            states[a.id],
            evidence[a.id],
            firms[a.firm_id],
            answers.scoring_date(a, day),
        )


def _common_gaps(columns: list[Column]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for c in columns:
        for g in c.gaps:
            counts[g.item] = counts.get(g.item, 0) + 1
    return sorted(((k, n) for k, n in counts.items() if n > 1), key=lambda x: (-x[1], x[0]))[:TOP_GAPS]


def compare_clients(
    consultancy_id: int, firm_ids: Sequence[int], framework_id: str, *, day: dt.date | None = None
) -> Comparison:
    """The granted clients among `firm_ids` (at most MAX_CLIENTS) side by side on one framework."""
    day = day or answers.today()
    fw = frameworks()[framework_id]
    wanted = list(dict.fromkeys(firm_ids))
    firms = granted_firms(consultancy_id, wanted[:MAX_CLIENTS])
    by_id = {f.id: f for f in firms}
    rows: dict[int, list[Assessment]] = {f.id: [] for f in firms}
    if firms:
        for a in db.session.scalars(
            select(Assessment).where(
                Assessment.firm_id.in_(list(by_id)), Assessment.framework_id == framework_id
            )
        ):
            rows[a.firm_id].append(a)
    columns = [Column(f, _latest(rows[f.id])) for f in firms]
    _score_all(columns, by_id, day)
    return Comparison(fw, columns, _common_gaps(columns), len(wanted) - len(firms))


def compare_rounds(firm: Firm, framework_id: str, *, day: dt.date | None = None) -> Comparison:
    """One firm's assessments of a framework, oldest round first (every round, its draft included)."""
    day = day or answers.today()
    fw = frameworks()[framework_id]
    rows = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.firm_id == firm.id, Assessment.framework_id == framework_id)
            .order_by(Assessment.round, Assessment.created_at, Assessment.id)
        )
    )
    columns = [Column(firm, a) for a in rows]
    _score_all(columns, {firm.id: firm}, day)
    return Comparison(fw, columns, _common_gaps(columns))


# ---- plain values for the page and the workbook ------------------------------------------------------


@dataclass
class Table:
    """A comparison as rows of plain values: the page and the XLSX show the same numbers."""

    title: str
    headers: list[tuple[str, str]]  # (column title, its note: round, date, "provisional")
    links: list[tuple[int, int] | None]  # (firm, assessment) of each column
    score: list[float | None]
    answered: list[int | None]  # answered % of applicable items
    sections: list[tuple[str, list[float | None]]]
    targets: list[tuple[str, float, list[tuple[str | None, float | None]]]]  # title, threshold, cells
    gaps: list[list[tuple[str, str, float]]]  # per column: (item, its action, points recoverable)
    common_gaps: list[tuple[str, str, int]]  # (item, its action, in how many columns)


def _f(x: Decimal | None) -> float | None:
    return None if x is None else float(round(x, 1))


def table(c: Comparison, *, rounds: bool = False) -> Table:
    from flask_babel import format_date
    from flask_babel import gettext as _

    from webapp.questionnaire.present import t

    fw = c.framework
    headers = []
    for col in c.columns:
        a = col.assessment
        if rounds:
            assert a is not None
            when = a.submitted_at or a.updated_at
            title = _("Round %(n)s", n=a.round)
            note = _("submitted %(date)s", date=format_date(when)) if a.status == "submitted" else _("draft")
        else:
            title = col.firm.name
            if a is None:
                note = _("Not assessed yet")
            elif a.status == "draft":
                note = _("Round %(n)s, draft (provisional)", n=a.round)
            else:
                note = _(
                    "Round %(n)s, submitted %(date)s",
                    n=a.round,
                    date=format_date(a.submitted_at or a.updated_at),
                )
        headers.append((title, note))

    def item_text(item_id: str) -> str:
        item = fw.item(item_id)
        if item is None:  # an item of an older version only
            for col in c.columns:
                if col.assessment is not None:
                    item = answers.framework(col.assessment).item(item_id)
                    if item is not None:
                        break
        return t(item.action) or t(item.text) if item is not None else item_id

    return Table(
        t(fw.title),
        headers,
        [(col.firm.id, col.assessment.id) if col.assessment is not None else None for col in c.columns],
        [_f(col.result.score) if col.result is not None else None for col in c.columns],
        [
            None
            if col.result is None or col.result.confidence.answered_percent is None
            else round(float(col.result.confidence.answered_percent))
            for col in c.columns
        ],
        [(t(s.title), [_f(col.section(s.id)) for col in c.columns]) for s in fw.sections],
        [
            (
                t(tg.title),
                float(tg.threshold),
                [
                    (r.readiness, _f(r.score) if r.applicable else None)
                    if (r := col.target(tg.id)) is not None
                    else (None, None)
                    for col in c.columns
                ],
            )
            for tg in fw.targets
        ],
        [
            [(g.item, item_text(g.item), float(round(g.points_recoverable, 1))) for g in col.gaps]
            for col in c.columns
        ],
        [(item, item_text(item), n) for item, n in c.common_gaps],
    )


def xlsx(tab: Table, label: Callable[[str | None], str] | None = None) -> bytes:
    """The comparison as a workbook: one sheet of numbers (sections, targets) and one of the top gaps."""
    import io

    from flask_babel import gettext as _
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from webapp.questionnaire.present import readiness_label

    label = label or readiness_label
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Comparison")[:31]
    put = _writer(ws)
    put([tab.title], bold=True)
    put([""] + [h for h, _n in tab.headers], bold=True)
    put([""] + [n for _h, n in tab.headers])
    put([_("Score"), *tab.score])
    put([_("Share answered (percent)"), *tab.answered])
    put([])
    put([_("Section scores (percent)")], bold=True)
    for title, values in tab.sections:
        put([title, *values])
    put([])
    put([_("Targets")], bold=True)
    for title, threshold, cells in tab.targets:
        put([f"{title} (≥ {threshold:g})"] + [label(r) if r is not None else "—" for r, _s in cells])
        put([_("score")] + [s for _r, s in cells])
    ws.column_dimensions["A"].width = 40
    for n in range(2, len(tab.headers) + 2):
        ws.column_dimensions[get_column_letter(n)].width = 22
    ws.freeze_panes = "B3"
    gs = wb.create_sheet(_("Top gaps")[:31])
    put = _writer(gs)
    put([_("Column"), _("Item"), _("What to do"), _("Points to gain")], bold=True)
    for (title, _note), gaps in zip(tab.headers, tab.gaps, strict=True):
        for item, text, points in gaps:
            put([title, item, text, points])
    for letter, width in zip("ABCD", (30, 22, 70, 14), strict=True):
        gs.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _writer(ws):  # type: ignore[no-untyped-def]
    """Append rows as data: text stays text (never a formula), characters a workbook cannot hold go."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def put(values: list[object], *, bold: bool = False) -> None:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
            if bold:
                cell.font = Font(bold=True)

    return put
