"""The statistics as plain values — one structure for the page, its charts, the exports and the API, so
all of them show the same figures with the same cells hidden."""

from __future__ import annotations

import csv
import functools
import io
import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext

from assessments.loader import FrameworkNotFound, load_framework
from scoring.model import Framework
from webapp.i18n import current_lang
from webapp.questionnaire.plans import plan_title
from webapp.refdata import industries, regions
from webapp.stats import plans
from webapp.stats.service import (
    ALL,
    SIZE_ORDER,
    STATUSES,
    Cell,
    Stats,
    View,
    dimension_values,
    dimensions,
    quarter_label,
    top,
)


@functools.lru_cache(maxsize=64)
def _framework(fid: str) -> Framework | None:
    try:
        return load_framework(fid)
    except FrameworkNotFound:
        return None


def _t(text: Any, lang: str) -> str:
    if text is None:
        return ""
    return str(text.en if lang.startswith("en") else text.zh)


def framework_title(fid: str, lang: str) -> str:
    fw = _framework(fid)
    return _t(fw.title, lang) if fw else fid


def mode_title(fid: str, mode: str, lang: str) -> str:
    fw = _framework(fid)
    if fw is None or len(fw.modes) < 2:
        return ""
    for m in fw.modes:
        if m.id == mode:
            return _t(m.title, lang)
    return mode


def _part_title(fid: str, kind: str, key: str, lang: str) -> str:
    fw = _framework(fid)
    if fw is None:
        return key
    if kind == "target":
        found: Any = next((t for t in fw.targets if t.id == key), None)
        return _t(found.title, lang) if found else key
    if kind == "section":
        found = next((s for s in fw.sections if s.id == key), None)
        return _t(found.title, lang) if found else key
    if kind == "gate":
        found = fw.gate_by_id(key)
        return _t(found.title, lang) if found else key
    found = fw.item(key)
    return _t(found.text, lang) if found else key


def size_label(key: str) -> str:
    from webapp.templating import SIZE_LABELS

    return str(SIZE_LABELS[key]) if key in SIZE_LABELS else _("not determined")


def dimension_label(dim: str) -> str:
    return {
        "region": _("City or county"),
        "industry": _("Industry section (GB/T 4754)"),
        "size": _("Size class"),
        "scale": _("Above designated size (规模以上)"),
    }[dim]


def value_label(jurisdiction: str, dim: str, value: str, lang: str) -> str:
    if dim == "region":
        return regions.name(value, lang)
    if dim == "industry":
        return f"{value} {industries.name(value, lang)}" if value != "?" else _("not known")
    if dim == "size":
        return size_label(value)
    return _("Above designated size (规模以上)") if value == "yes" else _("Below designated size")


def view_label(jurisdiction: str, view: View, lang: str) -> str:
    if view == ALL:
        return _("All firms")
    return f"{dimension_label(view[0])}: {value_label(jurisdiction, view[0], view[1], lang)}"


def filter_groups(jurisdiction: str, lang: str) -> list[dict[str, Any]]:
    """The cuts offered, grouped by kind, for the filter's <select>."""
    out = []
    for dim in dimensions(jurisdiction):
        values = dimension_values(jurisdiction, dim)
        if dim == "size":
            values = list(SIZE_ORDER)
        out.append(
            {
                "label": dimension_label(dim),
                "options": [(f"{dim}:{v}", value_label(jurisdiction, dim, v, lang)) for v in values],
            }
        )
    return out


def shown(cell: Cell | None, k: int, *, digits: int | None = None) -> Any:
    """A cell as the exports and the API give it: the number, "< k" for a small group, "suppressed"
    for a cell hidden so that no small group follows from the others; 0 for an empty one."""
    if cell is None:
        return 0
    if cell.value is None:
        return f"< {k}" if cell.hidden == "small" else "suppressed"
    if digits is not None:
        return round(float(cell.value), digits)
    return int(cell.value)


def build(stats: Stats, lang: str | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for one view, as plain values (hidden cells as in `shown`)."""
    lang = lang or current_lang()
    k = stats.k
    j = stats.jurisdiction
    over = stats.rows("overview").get((), {})
    out: dict[str, Any] = {
        "jurisdiction": {"code": j, "name": regions.name(j, lang)},
        "cut": {
            "dimension": None if stats.view == ALL else stats.view[0],
            "value": None if stats.view == ALL else stats.view[1],
            "label": view_label(j, stats.view, lang),
        },
        "min_group": k,
        "scope": _("Among firms assessed in QReady that agreed to share, not the whole region."),
        "overview": {"firms": shown(over.get("firms"), k), "assessments": shown(over.get("assessments"), k)},
    }
    out["quarters"] = [
        {
            "quarter": q,
            "label": quarter_label(q),
            "firms": shown(c.get("firms"), k),
            "assessments": shown(c.get("assessments"), k),
        }
        for (q,), c in sorted(stats.rows("quarters").items())
    ]
    out["readiness"] = [
        {
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "mode": mode,
            "mode_title": mode_title(fid, mode, lang),
            "screening": mode == "quick",
            "target": key,
            "target_title": _part_title(fid, "target", key, lang),
            "firms": shown(c.get("_n"), k),
            **{r: shown(c.get(r), k) for r in STATUSES},
        }
        for (fid, mode, key), c in sorted(
            stats.rows("readiness").items(), key=lambda kv: (kv[0][1] == "quick", kv[0])
        )
    ]
    out["sections"] = [
        {
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "mode": mode,
            "mode_title": mode_title(fid, mode, lang),
            "section": key,
            "section_title": _part_title(fid, "section", key, lang),
            "firms": shown(c.get("_n"), k),
            "average": shown(c.get("avg"), k, digits=1),
        }
        for (fid, mode, key), c in sorted(
            stats.rows("sections").items(), key=lambda kv: _section_order(kv[0])
        )
    ]
    out["gaps"] = [
        {
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "item": key,
            "title": _part_title(fid, "gap", key, lang),
            "firms": shown(c.get("firms"), k),
        }
        for (fid, key), c in top(stats.rows("gaps"))
    ]
    out["gates"] = [
        {
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "gate": key,
            "title": _part_title(fid, "gate", key, lang),
            "firms": shown(c.get("firms"), k),
        }
        for (fid, key), c in top(stats.rows("gates"))
    ]
    out["trend"] = [
        {
            "quarter": q,
            "label": quarter_label(q),
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "mode": mode,
            "mode_title": mode_title(fid, mode, lang),
            "firms": shown(c.get("_n"), k),
            "average": shown(c.get("avg"), k, digits=1),
        }
        for (q, fid, mode), c in sorted(stats.rows("trend").items())
    ]
    out["near"] = [
        {
            "dimension": view[0],
            "value": view[1],
            "label": value_label(j, view[0], view[1], lang),
            "framework": fid,
            "framework_title": framework_title(fid, lang),
            "mode": mode,
            "mode_title": mode_title(fid, mode, lang),
            "target": key,
            "target_title": _part_title(fid, "target", key, lang),
            "firms": shown(cell, k),
        }
        for view, (fid, mode, key), cell in stats.near
    ]
    figures = []
    rows = stats.rows("plans")
    for fig in plans.figures_for(j):
        c = rows.get((fig.id,), {})
        figures.append(
            {
                "id": fig.id,
                "plan": _t(plan_title(fig.doc), lang),
                "doc": fig.doc,
                "quote": fig.quote,
                "region": regions.name(fig.region + "0" * (6 - len(fig.region)), lang),
                "year": fig.year,
                "kind": fig.kind,
                "value": int(fig.value),
                "reached": fig.reached,
                "measure": str(fig.label),
                "population": shown(c.get("_n"), k),
                "firms": shown(c.get("yes"), k),
                "share": shown(c.get("share"), k, digits=1) if c else 0,
            }
        )
    out["plans"] = figures
    return out


def _section_order(key: tuple[str, ...]) -> tuple[Any, ...]:
    fid, mode, sid = key
    fw = _framework(fid)
    order = [s.id for s in fw.sections] if fw else []
    return (fid, mode, order.index(sid) if sid in order else 999, sid)


# ---- exports --------------------------------------------------------------------------------------


def table_rows(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables (title, header, rows) — the CSV and the XLSX hold the same cells."""
    r = STATUSES
    tables = [
        (
            _("Firms assessed"),
            [_("Firms"), _("Assessments")],
            [[data["overview"]["firms"], data["overview"]["assessments"]]],
        ),
        (
            _("Firms assessed and assessments per quarter"),
            [_("Quarter"), _("Firms"), _("Assessments")],
            [[q["label"], q["firms"], q["assessments"]] for q in data["quarters"]],
        ),
        (
            _("Readiness per target"),
            [
                _("Framework"),
                _("Mode"),
                _("Target"),
                _("Firms"),
                _("Ready"),
                _("Nearly ready"),
                _("Not ready"),
                _("Worth a full self-evaluation"),
                _("Not yet"),
            ],
            [
                [x["framework_title"], x["mode_title"], x["target_title"], x["firms"], *(x[c] for c in r)]
                for x in data["readiness"]
            ],
        ),
        (
            _("Where help would count: the most firms near a target"),
            [_("City, county or industry"), _("Target"), _("Framework"), _("Firms near the target")],
            [
                [
                    x["label"],
                    x["target_title"],
                    x["framework_title"] + (" · " + x["mode_title"] if x["mode_title"] else ""),
                    x["firms"],
                ]
                for x in data["near"]
            ],
        ),
        (
            _("Average section scores"),
            [_("Framework"), _("Mode"), _("Section"), _("Firms"), _("Average (%%)")],
            [
                [x["framework_title"], x["mode_title"], x["section_title"], x["firms"], x["average"]]
                for x in data["sections"]
            ],
        ),
        (
            _("Most common gaps"),
            [_("Framework"), _("Item"), _("Firms")],
            [[x["framework_title"], x["title"], x["firms"]] for x in data["gaps"]],
        ),
        (
            _("Most common failed gates"),
            [_("Framework"), _("Condition"), _("Firms")],
            [[x["framework_title"], x["title"], x["firms"]] for x in data["gates"]],
        ),
        (
            _("Average score across quarters"),
            [_("Quarter"), _("Framework"), _("Mode"), _("Firms"), _("Average (%%)")],
            [
                [x["label"], x["framework_title"], x["mode_title"], x["firms"], x["average"]]
                for x in data["trend"]
            ],
        ),
        (
            _("Against the plans (among firms assessed in QReady)"),
            [
                pgettext("policy", "Plan"),
                _("Quote"),
                _("Year"),
                _("Plan's value"),
                _("Measured here"),
                _("Firms counted"),
                _("Of firms"),
                _("Share (%%)"),
            ],
            [
                [
                    x["plan"],
                    x["quote"],
                    x["year"],
                    x["value"],
                    x["measure"],
                    x["firms"],
                    x["population"],
                    x["share"],
                ]
                for x in data["plans"]
            ],
        ),
    ]
    return tables


def _heading(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [_("Jurisdiction"), data["jurisdiction"]["name"], data["jurisdiction"]["code"]],
        [_("Firms shown"), data["cut"]["label"]],
        [data["scope"]],
        [_("Groups of fewer than %(n)s firms show as “< %(n)s”.", n=data["min_group"])],
    ]


def to_csv(data: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in _heading(data):
        w.writerow(row)
    for title, header, rows in table_rows(data):
        w.writerow([])
        w.writerow([title])
        w.writerow(header)
        w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM: Excel opens it as UTF-8


def _sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", " ", text)[:31].strip()


def to_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(_("About"))
    for row in _heading(data):
        ws.append(row)
    for n, (title, header, rows) in enumerate(table_rows(data), start=1):
        sheet = wb.create_sheet(_sheet_title(f"{n} {title}"))
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
