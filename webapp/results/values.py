"""How numbers and answers read: one formatter for the questionnaire's pages and the reports alike.

Numbers are grouped in the reader's locale with at most a given number of decimals ("1,234.5").
A change carries its sign: "+1.5", "−1.5", "±0". The minus is the real minus sign U+2212, not the
hyphen: it is as wide as the plus and sits on the same axis, so a column of changes lines up, and it
reads as "minus" to a screen reader; the hyphen is shorter, and in the CJK face (Noto Sans CJK SC,
which both the pages and the PDF report use) it sits low beside a full-height plus. Both faces carry
U+2212. Machine-readable values (an input's value, CSV and XLSX exports) stay plain numbers.

Each answer type's web half is a `Widget` in `WIDGETS`, keyed by the same `AnswerType` as the
engine's registry (`scoring.types.KINDS`): how an answer reads (`text`), the input the questionnaire
shows (`template`: `templates/questionnaire/widgets/<type>.html`, and the radio choices it offers),
how a posted form field becomes a value (`parse`) and what to ask for when it was wrong (`expect`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scoring.model import AnswerType, Framework, Item, Level, Rule, Text
from scoring.types import kind_of
from scoring.types.number import NUMBER_LIMIT
from scoring.values import as_number, parse_date
from webapp.refdata import regions

MINUS = "\u2212"
DASH = "—"  # no value

# ---- numbers -----------------------------------------------------------------------------------------


def _decimal(x: Decimal | float | int) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


def number(x: Decimal | float | int | None, places: int = 1) -> str:
    """A number for reading: grouped, at most `places` decimals, no trailing zeros; "—" for None."""
    if x is None:
        return DASH
    d = _decimal(x)
    if not d.is_finite():
        return str(x)
    fmt = "#,##0" if places == 0 else "#,##0." + "#" * places
    with localcontext() as ctx:  # every digit of a large number (one stored before answers were bounded)
        ctx.prec = max(ctx.prec, d.adjusted() + places + 2)
        return str(format_decimal(d, fmt))


def sign(x: Decimal | float | int | None, places: int = 1) -> int:
    """1, -1 or 0: the sign of `x` as `signed` shows it (a change that rounds to 0 is 0)."""
    if x is None:
        return 0
    r = _decimal(x).quantize(Decimal(1).scaleb(-places))
    return (r > 0) - (r < 0)


def signed(x: Decimal | float | int | None, places: int = 1) -> str:
    """A change: "+1.5", "−1.5" (U+2212), "±0"; "—" for None."""
    if x is None:
        return DASH
    s = sign(x, places)
    return ("+" if s > 0 else MINUS if s < 0 else "±") + number(abs(_decimal(x)) if s else 0, places)


def plain(x: Decimal | float | int | None) -> str:
    """A number as an input's value or an attribute: every digit, no grouping; "" for None."""
    if x is None:
        return ""
    d = _decimal(x)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def rule_text(rule: Rule, *, target: bool, lang: str, region: Iterable[str] = ()) -> tuple[str, str]:
    """Where a target's line (`target`) or a gate's condition comes from, as (line, note): the document,
    its year and when it is in force ("杭政办函〔2022〕48号, 2022 · in force from …") and why it is not
    confirmed; or "a QReady estimate" and why QReady assumes it. A target for a region names it first
    ("杭州市 · 杭政办函〔2022〕48号, 2022")."""
    scope = regions.names_of_prefixes(region, lang) + " · " if region else ""
    if rule.assumption is not None:
        line = (
            _("QReady estimate — not an official line")
            if target
            else _("QReady assumption — not an official rule")
        )
        return scope + line, rule.assumption.get(lang)
    line = ", ".join(x for x in (rule.document, (rule.date or "")[:4]) if x)
    if rule.in_force_from and rule.in_force_to:
        line += " · " + _("in force %(start)s to %(end)s", start=rule.in_force_from, end=rule.in_force_to)
    elif rule.in_force_from:
        line += " · " + _("in force from %(start)s", start=rule.in_force_from)
    elif rule.in_force_to:
        line += " · " + _("in force until %(end)s", end=rule.in_force_to)
    why = rule.unconfirmed
    return scope + line, (_("Not confirmed: %(why)s", why=why.get(lang)) if why is not None else "")


def effort_label(e: str) -> str:
    return {"low": _("Low effort"), "medium": _("Medium effort"), "high": _("High effort")}[e]


# ---- the answer types' web half ----------------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    checked: bool
    descriptor: str = ""
    points: str = ""


@dataclass
class LevelGroup:
    title: str
    descriptor: str
    choices: list[Choice]


Choices = tuple[list[Choice], list[LevelGroup]]  # the radio buttons, or (long scales) their bands


@dataclass(frozen=True)
class Field:
    """What a number input shows beside it: its unit and bounds (plain numbers; "" when open)."""

    unit: str = ""
    min: str = ""
    max: str = ""


_PAREN = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")
_BAND = re.compile(r"^\s*(?:【([^】]+)】|\[([^\]]+)\])\s*")


def levels_of(fw: Framework, item: Item, mode: str) -> tuple[Level, ...]:
    scale_id = item.scale_for(mode)
    scale = fw.scale_by_id(scale_id) if scale_id else None
    return scale.levels if scale is not None else ()


class Widget:
    """The web half of one answer type. `lang` is the reader's language ("zh", "en")."""

    type: AnswerType
    long = False  # its answers are paragraphs: reports print them as blocks
    # how the page's script reads and writes its input (static/js/questionnaire.js): "bool" and
    # "option" are radios (values "yes"/"no", or the option's value), "number", "date" and "text" one
    # field; a new type picks one of these and needs no script of its own
    reads = "text"

    @property
    def template(self) -> str:
        return f"questionnaire/widgets/{self.type.value}.html"

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        return str(value)

    def choices(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> Choices:
        return [], []

    def field(self, item: Item, lang: str) -> Field:
        return Field()

    def parse(self, raw: str) -> tuple[Any, bool]:
        """(value, parsed ok) of a posted form field; None = no answer."""
        return (raw if raw.strip() else None), True

    def expect(self, item: Item) -> str:
        return _("Enter text.")


class YesNoWidget(Widget):
    type = AnswerType.YES_NO
    reads = "bool"

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        key = "yes" if value is True else "no" if value is False else str(value)
        for o in item.options:
            if o.value == key:
                return o.label.get(lang)
        return _("Yes") if value is True else _("No") if value is False else str(value)

    def choices(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> Choices:
        return [Choice("yes", _("Yes"), value is True), Choice("no", _("No"), value is False)], []

    def parse(self, raw: str) -> tuple[Any, bool]:
        return {"yes": True, "no": False}.get(raw, raw or None), raw in ("yes", "no", "")

    def expect(self, item: Item) -> str:
        return _("Answer yes or no.")


class ChoiceWidget(Widget):
    type = AnswerType.CHOICE
    reads = "option"

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        for o in item.options:
            if o.value == value:
                return o.label.get(lang)
        return str(value)

    def choices(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> Choices:
        return [
            Choice(o.value, o.label.get(lang), o.value == value, points=plain(o.points)) for o in item.options
        ], []

    def parse(self, raw: str) -> tuple[Any, bool]:
        return raw or None, True

    def expect(self, item: Item) -> str:
        return _("Choose one of the options.")


class ScaleWidget(ChoiceWidget):
    type = AnswerType.SCALE

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        for lv in levels_of(fw, item, mode):
            if lv.value == value:
                return lv.label.get(lang)
        return str(value)

    def choices(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> Choices:
        levels = levels_of(fw, item, mode)
        if len(levels) > 6:
            return [], _groups(levels, value, lang)
        return [
            Choice(lv.value, lv.label.get(lang), lv.value == value, _t(lv.descriptor, lang)) for lv in levels
        ], []


class NumberWidget(Widget):
    type = AnswerType.NUMBER
    reads = "number"

    def unit(self, item: Item, lang: str) -> str:
        return _t(item.unit, lang)

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        x = as_number(value)
        return str(value) if x is None else f"{number(x, 2)} {self.unit(item, lang)}".strip()

    def field(self, item: Item, lang: str) -> Field:
        lo, hi = kind_of(self.type).domain(item)
        return Field(self.unit(item, lang), plain(lo), plain(hi))

    def parse(self, raw: str) -> tuple[Any, bool]:
        text = raw.strip().replace(",", "").replace("，", "").replace("%", "")
        if not text:
            return None, True
        try:
            d = Decimal(text)
        except InvalidOperation:
            return raw, False
        if not d.is_finite():
            return raw, False
        if d.copy_abs() >= NUMBER_LIMIT:
            return d, True  # refused by the engine's check, with its message (never turned into a huge int)
        return (int(d) if d == d.to_integral_value() else float(d)), True

    def expect(self, item: Item) -> str:
        lo, hi = kind_of(self.type).domain(item)
        if lo is not None and hi is not None:
            return _("Enter a number from %(lo)s to %(hi)s.", lo=plain(lo), hi=plain(hi))
        if lo is not None:
            return _("Enter a number of at least %(lo)s.", lo=plain(lo))
        if hi is not None:
            return _("Enter a number of at most %(hi)s.", hi=plain(hi))
        return str(NOT_A_NUMBER)


class PercentWidget(NumberWidget):
    type = AnswerType.PERCENT

    def unit(self, item: Item, lang: str) -> str:
        return "%"

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        x = as_number(value)
        return str(value) if x is None else f"{number(x, 2)}%"


class DateWidget(Widget):
    type = AnswerType.DATE
    reads = "date"

    def text(self, fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
        d = parse_date(value)
        return str(value) if d is None else str(format_date(d, "long"))

    def expect(self, item: Item) -> str:
        return str(BAD_DATE)


class TextWidget(Widget):
    type = AnswerType.TEXT
    long = True


NOT_A_NUMBER = _l("Enter a number.")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")

WIDGETS: dict[AnswerType, Widget] = {
    w.type: w
    for w in (
        YesNoWidget(),
        ChoiceWidget(),
        ScaleWidget(),
        PercentWidget(),
        NumberWidget(),
        DateWidget(),
        TextWidget(),
    )
}


def widget(item: Item) -> Widget:
    return WIDGETS[item.answer_type]


def answer_text(fw: Framework, item: Item, value: object, mode: str, lang: str) -> str:
    """How an answer reads: the option's or level's label, the number with its unit, the date; "" for
    no answer. The questionnaire's pages and the reports both print answers through this."""
    if value is None:
        return ""
    return widget(item).text(fw, item, value, mode, lang)


def _t(text: Text | None, lang: str) -> str:
    return "" if text is None else text.get(lang)


def _groups(levels: tuple[Level, ...], value: object, lang: str) -> list[LevelGroup]:
    """Levels that share a descriptor form one band (the 21 ADLI / LeTCI levels form six)."""
    groups: list[LevelGroup] = []
    last: Text | None = None
    for lv in levels:
        choice = Choice(lv.value, lv.label.get(lang), lv.value == value)
        if groups and lv.descriptor is not None and lv.descriptor == last:
            groups[-1].choices.append(choice)
            continue
        desc = _t(lv.descriptor, lang)
        m = _BAND.match(desc)
        title = (m.group(1) or m.group(2)) if m else ""
        groups.append(LevelGroup(title, desc[m.end() :] if m else desc, [choice]))
        last = lv.descriptor
    for g in groups:
        if len(g.choices) > 1:
            for c in g.choices:
                c.label = _PAREN.sub("", c.label) or c.label
        if not g.title and g.choices:
            g.title = (
                g.choices[0].label if len(g.choices) == 1 else f"{g.choices[0].label} – {g.choices[-1].label}"
            )
    return groups
