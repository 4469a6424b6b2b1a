"""A framework as JSON-ready data, as YAML text and as an Excel workbook for consultants — and back.

* `to_dict(framework)`: the whole framework in the file format of docs/frameworks.md with every key
  spelled out, plus what a reader needs and cannot compute without the engine: each item's
  `ideal_answer` and `zero_answer` (from `scoring`), each section's `points`, and the `as_of` date the
  date answers are relative to. Numbers are JSON numbers: an int when integral, else a float (the
  loader allows at most 15 significant digits, so the float's shortest repr is the exact decimal).
  `from_dict(to_dict(fw)) == fw`.
* `framework_data(framework)`: the same without derived keys and without default values: what a
  framework file holds. `to_yaml(...)` writes it as YAML.
* `export_xlsx(framework, path)` / `import_xlsx(path)`: a workbook with one sheet per part, zh and en
  side by side; importing gives back the file-format data (validated), so export then import is the
  identity.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from assessments.loader import DEFAULT_MODE, FrameworkError, Problem, build
from assessments.validate import REFERENCE_AS_OF
from scoring import ideal_answer, zero_answer
from scoring.model import (
    AnswerType,
    Band,
    Condition,
    Effort,
    Framework,
    Gate,
    Item,
    Level,
    Mode,
    Rule,
    Scale,
    Section,
    Source,
    Target,
    Text,
)
from scoring.types import kind_of

__all__ = [
    "DEFAULT_AS_OF",
    "DERIVED_KEYS",
    "export_xlsx",
    "framework_data",
    "from_dict",
    "import_xlsx",
    "to_dict",
    "to_yaml",
    "xlsx_to_yaml",
]

DEFAULT_AS_OF = REFERENCE_AS_OF  # fixed, so an export is the same every day
DERIVED_KEYS = ("ideal_answer", "zero_answer", "ideal_answer_by_mode", "zero_answer_by_mode")
_FIXED_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)
_DEFAULTS = Framework(id="x", version="0.0.0", title=Text("x", "x"), description=Text("x", "x"), sections=())


# --------------------------------------------------------------------------------------------------
# Framework -> data


def _num(x: Decimal) -> int | float:
    return int(x) if x == x.to_integral_value() else float(x)


def _text(t: Text) -> dict[str, str]:
    return {"zh": t.zh, "en": t.en}


def _put_text(out: dict[str, Any], key: str, t: Text | None) -> None:
    if t is not None:
        out[key] = _text(t)


def _value(v: object) -> object:
    if isinstance(v, Decimal):
        return _num(v)
    if isinstance(v, (tuple, list)):
        return [_value(x) for x in v]
    return v


def _condition(c: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.item is not None:
        out["item"] = c.item
    if c.profile is not None:
        out["profile"] = c.profile
    out[c.op.value] = _value(c.value)
    return out


def _sources(sources: Sequence[Source]) -> list[dict[str, object]]:
    return [s.as_dict() for s in sources]


def _scale_ref(fw: Framework, item: Item) -> str | dict[str, str]:
    ids = {sid for _, sid in item.scales}
    if len(ids) == 1 and [m for m, _ in item.scales] == [m.id for m in fw.modes]:
        return next(iter(ids))
    return dict(item.scales)


def _item(fw: Framework, item: Item, explicit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id}
    if item.fact is not None:
        out["fact"] = item.fact
    out["text"] = _text(item.text)
    out["help"] = _text(item.help)
    out["action"] = _text(item.action)
    out["type"] = item.answer_type.value
    kind = kind_of(item.answer_type)
    if explicit or kind.scored or item.max_points:
        out["points"] = _num(item.max_points)
    if "options" in kind.keys and (kind.needs == "options" or item.options or explicit):
        out["options"] = [
            {"value": o.value, "label": _text(o.label), "points": _num(o.points)} for o in item.options
        ]
    if "bands" in kind.keys:
        out["bands"] = [_band(b) for b in item.bands]
    if "scale" in kind.keys:
        out["scale"] = _scale_ref(fw, item)
    if item.min_value is not None:
        out["min"] = _num(item.min_value)
    if item.max_value is not None:
        out["max"] = _num(item.max_value)
    _put_text(out, "unit", item.unit)
    _put_text(out, "evidence", item.evidence)
    if explicit or item.evidence_required:
        out["evidence_required"] = item.evidence_required
    if explicit or item.applies_if:
        out["applies_if"] = [_condition(c) for c in item.applies_if]
    if explicit or item.gate:
        out["gate"] = item.gate
    if explicit or not item.allow_na:
        out["allow_na"] = item.allow_na
    if explicit or not item.required:
        out["required"] = item.required
    if explicit or item.effort is not Effort.MEDIUM:
        out["effort"] = item.effort.value
    if explicit or item.narrative_modes:
        out["narrative"] = list(item.narrative_modes)
    out["sources"] = _sources(item.sources)
    return out


def _band(b: Band) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if b.min is not None:
        out["min"] = _num(b.min)
    if b.max is not None:
        out["max"] = _num(b.max)
    out["points"] = _num(b.points)
    _put_text(out, "label", b.label)
    return out


def _level(lv: Level) -> dict[str, Any]:
    out: dict[str, Any] = {"value": lv.value, "percent": _num(lv.percent), "label": _text(lv.label)}
    _put_text(out, "descriptor", lv.descriptor)
    return out


def _mode(m: Mode, explicit: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "title": _text(m.title)}
    _put_text(out, "description", m.description)
    if explicit or m.screening:
        out["screening"] = m.screening
    return out


def _rule(r: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("document", "issuer", "date", "in_force_from", "in_force_to"):
        value = getattr(r, key)
        if value is not None:
            out[key] = value
    _put_text(out, "unconfirmed", r.unconfirmed)
    _put_text(out, "assumption", r.assumption)
    return out


def _scale(s: Scale) -> dict[str, Any]:
    return {"id": s.id, "title": _text(s.title), "levels": [_level(lv) for lv in s.levels]}


def _section(fw: Framework, s: Section, explicit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.id, "title": _text(s.title)}
    _put_text(out, "description", s.description)
    out["items"] = [_item(fw, i, explicit) for i in s.items]
    return out


def _gate(g: Gate, explicit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": g.id, "title": _text(g.title), "passes_if": _condition(g.passes_if)}
    if explicit or g.sources:
        out["sources"] = _sources(g.sources)
    if g.exempt_if is not None:
        out["exempt_if"] = _condition(g.exempt_if)
    if g.rule is not None:
        out["rule"] = _rule(g.rule)
    return out


def _target(t: Target, explicit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "title": _text(t.title)}
    _put_text(out, "description", t.description)
    out["threshold"] = _num(t.threshold)
    out["gates"] = list(t.gates)
    if explicit or t.sources:
        out["sources"] = _sources(t.sources)
    if explicit or t.region:  # the region scope (derived from the location gates before 1.1.1)
        out["region"] = list(t.region)
    if t.rule is not None:
        out["rule"] = _rule(t.rule)
    return out


def framework_data(
    framework: Framework, *, status: str | None = None, explicit: bool = False
) -> dict[str, Any]:
    """The framework in the file format (docs/frameworks.md), JSON- and YAML-ready.

    `explicit=False` leaves out keys at their default value (what a hand-written file holds);
    `explicit=True` spells every key out. `status` is included when given.
    """
    fw = framework
    out: dict[str, Any] = {"id": fw.id, "version": fw.version}
    if status is not None:
        out["status"] = status
    out["title"] = _text(fw.title)
    out["description"] = _text(fw.description)
    _put_text(out, "notes", fw.notes)
    if explicit or fw.changes:
        out["changes"] = [_text(c) for c in fw.changes]
    for key in ("scale", "near_margin", "evidence_cap"):
        value: Decimal = getattr(fw, key)
        if explicit or value != getattr(_DEFAULTS, key):
            out[key] = _num(value)
    if explicit or fw.modes != (DEFAULT_MODE,):
        out["modes"] = [_mode(m, explicit) for m in fw.modes]
    if explicit or fw.scales:
        out["scales"] = [_scale(s) for s in fw.scales]
    out["sections"] = [_section(fw, s, explicit) for s in fw.sections]
    if explicit or fw.gates:
        out["gates"] = [_gate(g, explicit) for g in fw.gates]
    if explicit or fw.targets:
        out["targets"] = [_target(t, explicit) for t in fw.targets]
    return out


def _answer(value: object) -> object:
    if isinstance(value, Decimal):
        return _num(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_dict(
    framework: Framework, *, as_of: dt.date = DEFAULT_AS_OF, status: str | None = None
) -> dict[str, Any]:
    """The whole framework as JSON-ready data: `framework_data(explicit=True)` plus `as_of`, each
    section's `points` (the sum of its items' points) and each item's `ideal_answer` and `zero_answer`
    in the default mode (scale items of a framework with several modes also get `…_by_mode`)."""
    fw = framework
    out = framework_data(fw, status=status, explicit=True)
    data: dict[str, Any] = {k: out.pop(k) for k in ("id", "version", "status") if k in out}
    data["as_of"] = as_of.isoformat()
    data.update(out)
    for section, sd in zip(fw.sections, data["sections"], strict=True):
        total = sum((i.max_points for i in section.items), Decimal(0))
        items = sd.pop("items")
        sd["points"] = _num(total)
        sd["items"] = items
        for item, idict in zip(section.items, items, strict=True):
            idict["ideal_answer"] = _answer(ideal_answer(fw, item, as_of=as_of))
            idict["zero_answer"] = _answer(zero_answer(fw, item, as_of=as_of))
            if kind_of(item.answer_type).by_mode and len(fw.modes) > 1:
                idict["ideal_answer_by_mode"] = {
                    m.id: _answer(ideal_answer(fw, item, mode=m.id, as_of=as_of))
                    for m in fw.modes
                    if item.scale_for(m.id) is not None
                }
                idict["zero_answer_by_mode"] = {
                    m.id: _answer(zero_answer(fw, item, mode=m.id, as_of=as_of))
                    for m in fw.modes
                    if item.scale_for(m.id) is not None
                }
    return data


def _strip_derived(d: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in d.items() if k != "as_of"}
    sections = out.get("sections")
    if isinstance(sections, list):
        new_sections: list[object] = []
        for s in sections:
            if isinstance(s, dict) and isinstance(s.get("items"), list):
                s = dict(s)
                s["items"] = [
                    {k: v for k, v in i.items() if k not in DERIVED_KEYS} if isinstance(i, dict) else i
                    for i in s["items"]
                ]
            new_sections.append(s)
        out["sections"] = new_sections
    return out


def from_dict(d: Mapping[str, Any], *, source: str = "<dict>") -> Framework:
    """A framework from `to_dict` or `framework_data` output (derived keys are ignored; a section's
    `points`, when present, must equal its items' sum). `FrameworkError` when invalid."""
    fw, _ = build(_strip_derived(d), source)
    return fw


# --------------------------------------------------------------------------------------------------
# YAML


class _Dumper(yaml.SafeDumper):
    pass


def _is_scalar(v: object) -> bool:
    return v is None or isinstance(v, (str, bool, int, float, Decimal))


_FLOW_WIDTH = 120


def _flat_len(v: object) -> int | None:
    """Length of a value written on one line, or None when it holds a list of mappings."""
    if _is_scalar(v):
        return len(str(v)) + 2
    if isinstance(v, dict):
        parts = [_flat_len(x) for x in v.values()]
        if any(p is None for p in parts):
            return None
        return sum(p or 0 for p in parts) + sum(len(str(k)) + 4 for k in v)
    if isinstance(v, list):
        parts = [_flat_len(x) if _is_scalar(x) else None for x in v]
        if any(p is None for p in parts):
            return None
        return sum(p or 0 for p in parts) + 2
    return None


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    # Short leaf mappings (texts, options, bands, conditions, sources) on one line, as in the docs.
    n = _flat_len(data)
    flow = n is not None and n <= _FLOW_WIDTH
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=all(_is_scalar(x) for x in data)
    )


def _represent_decimal(dumper: yaml.SafeDumper, data: Decimal) -> yaml.Node:
    value = _num(data)
    if isinstance(value, int):
        return dumper.represent_int(value)
    return dumper.represent_float(value)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(Decimal, _represent_decimal)


def to_yaml(data: Framework | Mapping[str, Any], *, status: str | None = None) -> str:
    """YAML text of a framework (or of file-format data) that the loader reads back identically."""
    if isinstance(data, Framework):
        d = framework_data(data, status=status)
    else:
        d = dict(data)
        if status is not None:
            rest = {k: v for k, v in d.items() if k not in ("id", "version", "status")}
            d = {k: d[k] for k in ("id", "version") if k in d} | {"status": status} | rest
    text = yaml.dump(d, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1_000_000, indent=2)
    return str(text)


# --------------------------------------------------------------------------------------------------
# XLSX

_META_ROWS = (
    "id",
    "version",
    "status",
    "title",
    "description",
    "notes",
    "scale",
    "near_margin",
    "evidence_cap",
)
_META_TEXTS = ("title", "description", "notes")
_HEADERS: dict[str, tuple[str, ...]] = {
    "framework": ("field", "value", "zh", "en"),
    "modes": ("id", "title_zh", "title_en", "description_zh", "description_en", "screening"),
    "scales": ("id", "title_zh", "title_en"),
    "levels": ("scale", "value", "percent", "label_zh", "label_en", "descriptor_zh", "descriptor_en"),
    "sections": ("id", "title_zh", "title_en", "description_zh", "description_en"),
    "items": (
        "section",
        "id",
        "type",
        "points",
        "text_zh",
        "text_en",
        "help_zh",
        "help_en",
        "action_zh",
        "action_en",
        "fact",
        "scale",
        "min",
        "max",
        "unit_zh",
        "unit_en",
        "evidence_zh",
        "evidence_en",
        "evidence_required",
        "gate",
        "allow_na",
        "required",
        "effort",
        "narrative",
        "applies_if",
    ),
    "options": ("item", "value", "points", "label_zh", "label_en"),
    "bands": ("item", "min", "max", "points", "label_zh", "label_en"),
    "gates": ("id", "title_zh", "title_en", "passes_if", "exempt_if"),
    "targets": (
        "id",
        "title_zh",
        "title_en",
        "description_zh",
        "description_en",
        "threshold",
        "gates",
        "region",
    ),
    "sources": ("for", "id", "doc", "quote", "standard", "verify", "note"),
    "rules": (
        "for",
        "id",
        "document",
        "issuer",
        "date",
        "in_force_from",
        "in_force_to",
        "unconfirmed_zh",
        "unconfirmed_en",
        "assumption_zh",
        "assumption_en",
    ),
}
# Columns an older workbook may lack (added later): the targets' region scope (1.1.1)
_OPTIONAL_COLUMNS = frozenset({("targets", "region")})
_WIDE = re.compile(r"_(zh|en)$|^(quote|note|applies_if|passes_if|exempt_if)$")
_HELP = (
    ("sheet", "what it holds"),
    ("framework", "id, version, status (draft / published), title, description, notes; scale, near_margin,"),
    ("", "evidence_cap as numbers. zh and en side by side."),
    ("", "changes: what is new in this version, one row per line (zh and en), as many rows as needed."),
    ("modes", "assessment modes; the first is the default. Leave empty for the single mode 'default'."),
    ("scales / levels", "maturity scales and their levels (percent = share of an item's points)."),
    ("sections", "sections in order; items name their section."),
    ("items", "one row per item in order. type: yes_no, choice, scale, percent, number, date, text."),
    ("", "scale: a scale id, or per mode 'quick: four-step; full: adli'. narrative: modes, comma-separated."),
    ("", "applies_if: one condition per line: 'item <id> <op> <value>' or 'profile <fact> <op> <value>',"),
    ("", 'op = eq, ne, in, gte, lte; value in JSON: true, 5, "published", ["small", "micro"].'),
    ("options / bands", "one row per option or band, in order, naming the item. Bands: min <= x < max."),
    (
        "gates",
        "passes_if: one condition as in applies_if; exempt_if (optional): the gate passes when it holds.",
    ),
    ("targets", "threshold on the framework's scale; gates comma-separated; region: GB/T 2260 code prefixes"),
    ("", "comma-separated (33 Zhejiang, 3301 Hangzhou, 3306 Shaoxing), empty for everywhere."),
    ("sources", "for = item, gate or target; either doc + quote (verbatim in the seed plan) or standard."),
    ("rules", "for = gate or target: the document (number, issuer, date, in force from / to; unconfirmed:"),
    ("", "why it is not confirmed) or an assumption (the reason). At most one row per gate or target."),
    ("modes", "screening: true for a mode whose targets get a screening band, never a verdict."),
    ("", "The full format: docs/frameworks.md. Check a workbook with `flask frameworks import-xlsx`."),
)


def _cell(ws: Worksheet, row: int, col: int, value: object) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        value = _num(value)
    c = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        c.data_type = "s"  # never a formula, even when the text starts with "="


def _sheet(wb: openpyxl.Workbook, name: str, rows: Sequence[Sequence[object]]) -> None:
    ws = wb.create_sheet(name)
    headers = _HEADERS[name]
    for col, h in enumerate(headers, start=1):
        ws.cell(row=1, column=col, value=h).font = Font(bold=True)
        letter = ws.cell(row=1, column=col).column_letter
        ws.column_dimensions[letter].width = 48 if _WIDE.search(h) else 14
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            _cell(ws, r, col, value)
            if _WIDE.search(headers[col - 1]):
                ws.cell(row=r, column=col).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def _zh(t: Text | None) -> str | None:
    return None if t is None else t.zh


def _en(t: Text | None) -> str | None:
    return None if t is None else t.en


def _rule_row(kind: str, owner: str, r: Rule) -> list[object]:
    return [
        kind,
        owner,
        r.document,
        r.issuer,
        r.date,
        r.in_force_from,
        r.in_force_to,
        _zh(r.unconfirmed),
        _en(r.unconfirmed),
        _zh(r.assumption),
        _en(r.assumption),
    ]


def _cond_line(c: Condition) -> str:
    subject = f"item {c.item}" if c.item is not None else f"profile {c.profile}"
    value = json.dumps(_value(c.value), ensure_ascii=False)
    return f"{subject} {c.op.value} {value}"


def _scale_cell(fw: Framework, item: Item) -> str | None:
    if not kind_of(item.answer_type).by_mode:
        return None
    ref = _scale_ref(fw, item)
    if isinstance(ref, str):
        return ref
    return "; ".join(f"{m}: {s}" for m, s in ref.items())


def export_xlsx(framework: Framework, path: Path | str, *, status: str | None = None) -> None:
    """Write the framework as a workbook (see `_HEADERS` for the sheets); deterministic bytes."""
    fw = framework
    wb = openpyxl.Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    meta: list[list[object]] = []
    for key in _META_ROWS:
        if key in _META_TEXTS:
            text: Text | None = getattr(fw, key)
            meta.append([key, None, _zh(text), _en(text)])
        elif key == "status":
            meta.append([key, status, None, None])
        else:
            meta.append([key, getattr(fw, key), None, None])
    meta.extend(["changes", None, c.zh, c.en] for c in fw.changes)  # one row per line of "what is new"
    _sheet(wb, "framework", meta)
    modes = [] if fw.modes == (DEFAULT_MODE,) else fw.modes
    _sheet(
        wb,
        "modes",
        [
            [
                m.id,
                m.title.zh,
                m.title.en,
                _zh(m.description),
                _en(m.description),
                True if m.screening else None,
            ]
            for m in modes
        ],
    )
    _sheet(wb, "scales", [[s.id, s.title.zh, s.title.en] for s in fw.scales])
    _sheet(
        wb,
        "levels",
        [
            [s.id, lv.value, lv.percent, lv.label.zh, lv.label.en, _zh(lv.descriptor), _en(lv.descriptor)]
            for s in fw.scales
            for lv in s.levels
        ],
    )
    _sheet(
        wb,
        "sections",
        [[s.id, s.title.zh, s.title.en, _zh(s.description), _en(s.description)] for s in fw.sections],
    )
    items: list[list[object]] = []
    options: list[list[object]] = []
    bands: list[list[object]] = []
    sources: list[list[object]] = []
    for s in fw.sections:
        for i in s.items:
            items.append(
                [
                    s.id,
                    i.id,
                    i.answer_type.value,
                    i.max_points,
                    i.text.zh,
                    i.text.en,
                    i.help.zh,
                    i.help.en,
                    i.action.zh,
                    i.action.en,
                    i.fact,
                    _scale_cell(fw, i),
                    i.min_value,
                    i.max_value,
                    _zh(i.unit),
                    _en(i.unit),
                    _zh(i.evidence),
                    _en(i.evidence),
                    i.evidence_required,
                    i.gate,
                    i.allow_na,
                    i.required,
                    i.effort.value,
                    ", ".join(i.narrative_modes) or None,
                    "\n".join(_cond_line(c) for c in i.applies_if) or None,
                ]
            )
            options.extend([i.id, o.value, o.points, o.label.zh, o.label.en] for o in i.options)
            bands.extend([i.id, b.min, b.max, b.points, _zh(b.label), _en(b.label)] for b in i.bands)
            sources.extend(_source_row("item", i.id, src) for src in i.sources)
    _sheet(wb, "items", items)
    _sheet(wb, "options", options)
    _sheet(wb, "bands", bands)
    _sheet(
        wb,
        "gates",
        [
            [
                g.id,
                g.title.zh,
                g.title.en,
                _cond_line(g.passes_if),
                _cond_line(g.exempt_if) if g.exempt_if else None,
            ]
            for g in fw.gates
        ],
    )
    _sheet(
        wb,
        "targets",
        [
            [
                t.id,
                t.title.zh,
                t.title.en,
                _zh(t.description),
                _en(t.description),
                t.threshold,
                ", ".join(t.gates),
                ", ".join(t.region),
            ]
            for t in fw.targets
        ],
    )
    for g in fw.gates:
        sources.extend(_source_row("gate", g.id, src) for src in g.sources)
    for t in fw.targets:
        sources.extend(_source_row("target", t.id, src) for src in t.sources)
    _sheet(wb, "sources", sources)
    rules = [_rule_row("gate", g.id, g.rule) for g in fw.gates if g.rule is not None]
    rules += [_rule_row("target", t.id, t.rule) for t in fw.targets if t.rule is not None]
    _sheet(wb, "rules", rules)
    ws = wb.create_sheet("help")
    for r, (a, b) in enumerate(_HELP, start=1):
        _cell(ws, r, 1, a)
        _cell(ws, r, 2, b)
    ws["A1"].font = Font(bold=True)
    ws["B1"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110
    Path(path).write_bytes(_save(wb))


def _source_row(kind: str, owner: str, s: Source) -> list[object]:
    return [kind, owner, s.doc, s.quote, s.standard, True if s.verify else None, s.note]


def _save(wb: openpyxl.Workbook) -> bytes:
    """The workbook's bytes with fixed timestamps (document properties and zip entries)."""
    wb.properties.creator = "QReady"
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


class _Reader:
    """Reads the workbook's sheets back into file-format data, collecting problems."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []

    def err(self, where: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def rows(self, wb: Any, name: str) -> list[dict[str, object]]:
        if name not in wb.sheetnames:
            self.err(None, f"missing sheet {name!r}")
            return []
        ws = wb[name]
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        if not grid:
            return []
        header = [str(h).strip() if h is not None else "" for h in grid[0]]
        while header and not header[-1]:
            header.pop()
        expected = _HEADERS[name]
        unknown = [h for h in header if h not in expected]
        missing = [h for h in expected if h not in header and (name, h) not in _OPTIONAL_COLUMNS]
        if unknown or missing:
            self.err(
                None,
                f"sheet {name!r}: columns must be {', '.join(expected)} "
                f"(unknown {unknown}, missing {missing})",
            )
            return []
        out: list[dict[str, object]] = []
        for r, values in enumerate(grid[1:], start=2):
            row = {h: _clean(values[c]) if c < len(values) else None for c, h in enumerate(header)}
            if any(v is not None for v in row.values()):
                row["_row"] = f"{name}!{r}"
                out.append(row)
        return out

    def text(self, row: Mapping[str, object], key: str) -> dict[str, object] | None:
        zh, en = row.get(f"{key}_zh"), row.get(f"{key}_en")
        if zh is None and en is None:
            return None
        return {"zh": "" if zh is None else _str(zh), "en": "" if en is None else _str(en)}

    def put_text(
        self, out: dict[str, Any], row: Mapping[str, object], key: str, out_key: str | None = None
    ) -> None:
        t = self.text(row, key)
        if t is not None:
            out[out_key or key] = t

    def number(self, row: Mapping[str, object], key: str) -> object:
        v = row.get(key)
        if isinstance(v, str):
            try:
                return Decimal(v.strip())
            except InvalidOperation:
                return v  # the loader reports it
        return v

    def boolean(self, row: Mapping[str, object], key: str) -> object:
        v = row.get(key)
        if isinstance(v, str) and v.strip().lower() in ("true", "false"):
            return v.strip().lower() == "true"
        return v

    def condition(self, text: str, where: str) -> object:
        parts = text.split(None, 3)
        if len(parts) != 4 or parts[0] not in ("item", "profile"):
            self.err(where, f"condition {text!r}: write '<item|profile> <name> <op> <value>'")
            return None
        subject, name, op, raw = parts
        try:
            value: object = json.loads(raw, parse_float=Decimal)
        except ValueError:
            value = raw  # a bare word: a string
        return {subject: name, op: value}

    def read(self, path: Path) -> dict[str, Any]:
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # not a workbook: report, never crash
            self.err(None, f"cannot read the workbook: {exc}")
            raise FrameworkError(self.problems) from None
        try:
            return self._read(wb)
        finally:
            wb.close()

    def _read(self, wb: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        rows = [r for r in self.rows(wb, "framework") if r.get("field") is not None]
        meta = {str(r.get("field")): r for r in rows if r.get("field") != "changes"}
        changes = [
            self.text({"x_zh": r.get("zh"), "x_en": r.get("en")}, "x")
            for r in rows
            if r.get("field") == "changes"
        ]
        if changes:
            out["changes"] = changes
        for key in meta:
            if key not in _META_ROWS:
                self.err(None, f"sheet 'framework': unknown field {key!r}")
        for key in _META_ROWS:
            row = meta.get(key)
            if row is None:
                continue
            if key in _META_TEXTS:
                t = self.text({"x_zh": row.get("zh"), "x_en": row.get("en")}, "x")
                if t is not None:
                    out[key] = t
            elif key in ("id", "version", "status"):
                if row.get("value") is not None:
                    out[key] = _str(row["value"])
            elif row.get("value") is not None:
                out[key] = self.number(row, "value")
        modes = []
        for r in self.rows(wb, "modes"):
            m: dict[str, Any] = {"id": r.get("id")}
            self.put_text(m, r, "title")
            self.put_text(m, r, "description")
            screening = self.boolean(r, "screening")
            if screening is not None and screening is not False:
                m["screening"] = screening  # true, or something the loader reports
            modes.append(m)
        if modes:
            out["modes"] = modes
        scales: dict[str, dict[str, Any]] = {}
        for r in self.rows(wb, "scales"):
            s: dict[str, Any] = {"id": r.get("id")}
            self.put_text(s, r, "title")
            s["levels"] = []
            scales[_str(r.get("id"))] = s
        for r in self.rows(wb, "levels"):
            lv: dict[str, Any] = {"value": r.get("value"), "percent": self.number(r, "percent")}
            self.put_text(lv, r, "label")
            self.put_text(lv, r, "descriptor")
            owner = scales.get(_str(r.get("scale")))
            if owner is None:
                self.err(None, f"{r['_row']}: unknown scale {r.get('scale')!r}")
            else:
                owner["levels"].append(lv)
        if scales:
            out["scales"] = list(scales.values())
        sections: dict[str, dict[str, Any]] = {}
        for r in self.rows(wb, "sections"):
            s = {"id": r.get("id")}
            self.put_text(s, r, "title")
            self.put_text(s, r, "description")
            s["items"] = []
            sections[_str(r.get("id"))] = s
        items: dict[str, dict[str, Any]] = {}
        for r in self.rows(wb, "items"):
            item = self.item(r)
            items[_str(r.get("id"))] = item
            owner = sections.get(_str(r.get("section")))
            if owner is None:
                self.err(_str(r.get("id")), f"{r['_row']}: unknown section {r.get('section')!r}")
            else:
                owner["items"].append(item)
        for r in self.rows(wb, "options"):
            o: dict[str, Any] = {"value": r.get("value")}
            self.put_text(o, r, "label")
            o["points"] = self.number(r, "points")
            self.attach(items, r, "options", o)
        for r in self.rows(wb, "bands"):
            b: dict[str, Any] = {}
            for key in ("min", "max"):
                if r.get(key) is not None:
                    b[key] = self.number(r, key)
            b["points"] = self.number(r, "points")
            self.put_text(b, r, "label")
            self.attach(items, r, "bands", b)
        out["sections"] = list(sections.values())
        gates: dict[str, dict[str, Any]] = {}
        for r in self.rows(wb, "gates"):
            g: dict[str, Any] = {"id": r.get("id")}
            self.put_text(g, r, "title")
            cond = r.get("passes_if")
            g["passes_if"] = self.condition(_str(cond), _str(r["_row"])) if cond is not None else None
            if r.get("exempt_if") is not None:
                g["exempt_if"] = self.condition(_str(r["exempt_if"]), _str(r["_row"]))
            g["sources"] = []
            gates[_str(r.get("id"))] = g
        targets: dict[str, dict[str, Any]] = {}
        for r in self.rows(wb, "targets"):
            target: dict[str, Any] = {"id": r.get("id")}
            self.put_text(target, r, "title")
            self.put_text(target, r, "description")
            target["threshold"] = self.number(r, "threshold")
            target["gates"] = _split(r.get("gates"), ",")
            if r.get("region") is not None:  # a workbook exported before 1.1.1 has no region column
                target["region"] = _split(r.get("region"), ",")
            target["sources"] = []
            targets[_str(r.get("id"))] = target
        owners = {"item": items, "gate": gates, "target": targets}
        for r in self.rows(wb, "sources"):
            src: dict[str, Any] = {}
            for key in ("doc", "quote", "standard"):
                if r.get(key) is not None:
                    src[key] = _str(r[key])
            verify = self.boolean(r, "verify")
            if verify is not None and verify is not False:
                src["verify"] = verify  # true, or something the loader reports
            if r.get("note") is not None:
                src["note"] = _str(r["note"])
            kind = _str(r.get("for"))
            table = owners.get(kind)
            owner_id = _str(r.get("id"))
            if table is None:
                self.err(owner_id, f"{r['_row']}: 'for' must be item, gate or target, got {kind!r}")
            elif owner_id not in table:
                self.err(owner_id, f"{r['_row']}: unknown {kind} {owner_id!r}")
            else:
                table[owner_id]["sources"].append(src)
        rule_owners = {"gate": gates, "target": targets}
        for r in self.rows(wb, "rules") if "rules" in wb.sheetnames else ():  # older workbooks have none
            rule: dict[str, Any] = {}
            for key in ("document", "issuer", "date", "in_force_from", "in_force_to"):
                if r.get(key) is not None:
                    rule[key] = _str(r[key])
            self.put_text(rule, r, "unconfirmed")
            self.put_text(rule, r, "assumption")
            kind = _str(r.get("for"))
            table = rule_owners.get(kind)
            owner_id = _str(r.get("id"))
            if table is None:
                self.err(owner_id, f"{r['_row']}: 'for' must be gate or target, got {kind!r}")
            elif owner_id not in table:
                self.err(owner_id, f"{r['_row']}: unknown {kind} {owner_id!r}")
            elif "rule" in table[owner_id]:
                self.err(owner_id, f"{r['_row']}: a second rule for {kind} {owner_id!r}")
            else:
                table[owner_id]["rule"] = rule
        if gates:
            out["gates"] = list(gates.values())
        if targets:
            out["targets"] = list(targets.values())
        return out

    def item(self, r: Mapping[str, object]) -> dict[str, Any]:
        item: dict[str, Any] = {"id": r.get("id")}
        if r.get("fact") is not None:
            item["fact"] = r.get("fact")
        for key in ("text", "help", "action"):
            self.put_text(item, r, key)
        item["type"] = r.get("type")
        if r.get("points") is not None:
            item["points"] = self.number(r, "points")
        scale = r.get("scale")
        if scale is not None:
            s = _str(scale)
            if ":" in s:
                pairs = [p.split(":", 1) for p in _split(s, ";\n")]
                item["scale"] = {k.strip(): v.strip() for k, v in pairs}
            else:
                item["scale"] = s.strip()
        for key in ("min", "max"):
            if r.get(key) is not None:
                item[key] = self.number(r, key)
        self.put_text(item, r, "unit")
        self.put_text(item, r, "evidence")
        for key in ("evidence_required", "gate", "allow_na", "required"):
            if r.get(key) is not None:
                item[key] = self.boolean(r, key)
        if r.get("effort") is not None:
            item["effort"] = r.get("effort")
        item["narrative"] = _split(r.get("narrative"), ",")
        where = _str(r.get("id"))
        conds = _split(r.get("applies_if"), "\n")
        item["applies_if"] = [self.condition(c, where) for c in conds]
        item["sources"] = []
        known = item.get("type") in {a.value for a in AnswerType}
        kind = kind_of(AnswerType(item["type"])) if known else None
        for key in ("options", "bands"):
            if kind is not None and key in kind.keys:
                item[key] = []
        return item

    def attach(
        self, items: Mapping[str, dict[str, Any]], r: Mapping[str, object], key: str, value: object
    ) -> None:
        owner = items.get(_str(r.get("item")))
        if owner is None:
            self.err(None, f"{r['_row']}: unknown item {r.get('item')!r}")
        elif key not in owner:
            self.err(_str(r.get("item")), f"{r['_row']}: a {owner.get('type')} item has no {key}")
        else:
            owner[key].append(value)


def _clean(v: object) -> object:
    if isinstance(v, str) and not v.strip():
        return None
    if isinstance(v, float) and v == int(v) and abs(v) < 2**53:
        return int(v)
    return v


def _str(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def _split(v: object, seps: str) -> list[str]:
    if v is None:
        return []
    parts = re.split("[" + re.escape(seps) + "]", _str(v))
    return [p.strip() for p in parts if p.strip()]


def import_xlsx(path: Path | str) -> dict[str, Any]:
    """Read a workbook written by `export_xlsx` (and edited) back into file-format data.

    The result is validated (`FrameworkError` lists what is wrong) and canonical: what
    `framework_data` gives for the framework, with the workbook's `status` when it has one.
    """
    p = Path(path)
    reader = _Reader(p)
    data = reader.read(p)
    if reader.problems:
        raise FrameworkError(reader.problems)
    fw, status = build(data, str(p))
    return framework_data(fw, status=status if "status" in data else None)


def xlsx_to_yaml(path: Path | str) -> str:
    """The YAML text of a workbook: `to_yaml(import_xlsx(path))`."""
    return to_yaml(import_xlsx(path))
