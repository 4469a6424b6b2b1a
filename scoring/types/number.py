"""number: a number within the item's bounds (`min`, `max`), earning the points of the band holding it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item
from ..values import as_number
from . import AnswerKind, Day, Found, gate_values

if TYPE_CHECKING:
    from ..tables import ItemTable

# No answer is a number this large (in size), whatever an item's bounds: beyond what any question
# counts, and beyond what the reports can format and the database's numbers hold exactly.
NUMBER_LIMIT = Decimal("1e15")
_STEPS = (Decimal(0), Decimal(1), Decimal("0.5"), Decimal("0.01"))


def _fmt(x: Decimal | None) -> str:
    return "…" if x is None else str(x)


def json_number(x: Decimal) -> object:
    return int(x) if x == x.to_integral_value() else float(x)


class Number(AnswerKind):
    type = AnswerType.NUMBER
    name = ("a number", "数字")
    keys = frozenset({"bands", "min", "max", "unit"})
    needs = "bands"
    ordered = True
    numeric = True
    limits: tuple[Decimal | None, Decimal | None] = (None, None)  # what any item's bounds lie within

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        lo, hi = self.domain(item)
        return {"lo": lo, "hi": hi}

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        """The item's bounds; a bound it does not give is the type's limit."""
        lo = self.limits[0] if item.min_value is None else item.min_value
        hi = self.limits[1] if item.max_value is None else item.max_value
        return lo, hi

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        x = as_number(value)
        if x is None:
            return self.wrong()
        if (t.lo is not None and x < t.lo) or (t.hi is not None and x > t.hi):
            return ("out_of_range", f"{_fmt(t.lo)}..{_fmt(t.hi)}")
        if x.copy_abs() >= NUMBER_LIMIT:
            return ("number_too_large", "")
        return None

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        x = as_number(value)
        assert x is not None
        return t.band_points(x)

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        """At, around and between every band edge, bound and gate value, within the bounds."""
        points: set[Decimal] = {Decimal(0), Decimal(100)}
        for b in t.bands:
            if b.lo is not None:
                points.add(b.lo)
            if b.hi is not None:
                points.add(b.hi)
            if b.lo is not None and b.hi is not None:
                points.add((b.lo + b.hi) / 2)
        if t.lo is not None:
            points.add(t.lo)
        if t.hi is not None:
            points.add(t.hi)
        for v in gate_values(t, fw):
            x = as_number(v)
            if x is not None:
                points.add(x)
        out: set[Decimal] = set()
        for p in points:
            for s in _STEPS:
                for x in (p - s, p + s):
                    if (t.lo is None or x >= t.lo) and (t.hi is None or x <= t.hi):
                        out.add(x)
        # whole numbers first, then the rest; each ascending
        return [json_number(x) for x in sorted(out, key=lambda x: (x != x.to_integral_value(), x))]

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        return None if isinstance(value, Decimal) else f"compare with a number, got {value!r}"


KIND = Number()
