"""date: an ISO date "YYYY-MM-DD". Its bands count the whole years between the date and the scoring
date `as_of` (which every submission with a date answer must give)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item, Op
from ..values import as_number, parse_date, whole_years, years_before
from . import AnswerKind, Day, Found

if TYPE_CHECKING:
    from ..tables import ItemTable


class Date(AnswerKind):
    type = AnswerType.DATE
    name = ("a date YYYY-MM-DD", "YYYY-MM-DD 格式的日期")
    keys = frozenset({"bands"})
    needs = "bands"
    ordered = True
    dated = True

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        if not isinstance(value, str):
            return self.wrong()
        if parse_date(value) is None:
            return ("bad_date", "")
        if as_of is None:
            return ("missing_as_of", "")
        return None

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        d = parse_date(value)
        assert d is not None and as_of is not None
        return t.band_points(Decimal(whole_years(d, as_of)))

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        """Dates a whole number of years before `as_of`: at and either side of every band edge and of
        every gate's number of years; then the dates gates name."""
        if as_of is None:
            raise ValueError(f"item {t.item.id!r} is a date item: give as_of")
        years: set[int] = {0, 1}
        for b in t.bands:
            for edge in (b.lo, b.hi):
                if edge is not None:
                    y = math.ceil(edge)
                    years.update((y - 1, y, y + 1))
        dates: list[object] = [
            years_before(as_of, y).isoformat() for y in sorted(years, key=lambda y: (y < 0, abs(y)))
        ]
        for gp in t.gates:
            cond = fw.gates[gp].passes_if
            if cond.op in (Op.YEARS_GTE, Op.YEARS_LT):  # whole years: the edge and either side of it
                n = as_number(cond.value)
                if n is not None:
                    y = math.ceil(n)
                    for day in (years_before(as_of, y).isoformat(), years_before(as_of, y - 1).isoformat()):
                        if day not in dates:
                            dates.append(day)
                continue
            for v in cond.value if isinstance(cond.value, (list, tuple)) else (cond.value,):
                if parse_date(v) is not None and v not in dates:
                    dates.append(v)
        return dates

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        return Decimal(0), None  # whole years before the scoring date

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        ok = isinstance(value, str) and parse_date(value) is not None
        return None if ok else f'compare with a date "YYYY-MM-DD", got {value!r}'


KIND = Date()
