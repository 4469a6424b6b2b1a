"""Reference answers for one item: the best one (`ideal_answer`) and a worthless one (`zero_answer`).

Both choose among a finite list of candidate values for the item's answer type (every option or
level; numbers at and around every band edge, bound and gate value; dates a whole number of years
before `as_of`), score each as the engine would (evidence assumed present), and check the gates the
item decides. Results are JSON values: bool, str, int, or float for a non-integral number.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal, localcontext

from .engine import item_points
from .model import AnswerType, Framework, Item, Op
from .tables import ItemTable, tables_for
from .values import CONTEXT, as_number, condition_holds, parse_date, years_before

_ONE = Decimal(1)
_STEPS = (Decimal(0), _ONE, Decimal("0.5"), Decimal("0.01"))
SAMPLE_TEXT = "示例回答 / Sample answer"


def _json_number(x: Decimal) -> object:
    return int(x) if x == x.to_integral_value() else float(x)


def _numeric_candidates(t: ItemTable, fw: Framework) -> list[Decimal]:
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
    for gp in t.gates:
        for v in _values(fw.gates[gp].passes_if.value):
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
    return sorted(out, key=lambda x: (x != x.to_integral_value(), x))


def _values(v: object) -> tuple[object, ...]:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


def _candidates(
    t: ItemTable, fw: Framework, mode: str, as_of: datetime.date | None, ideal: bool
) -> list[object]:
    kind = t.kind
    if kind is AnswerType.YES_NO:
        return [True, False]
    if kind is AnswerType.CHOICE:
        return list(t.choice_points)
    if kind is AnswerType.SCALE:
        levels = t.level_points.get(mode)
        if levels is None:
            raise ValueError(f"item {t.item.id!r} has no scale in mode {mode!r}")
        return list(levels)
    if kind is AnswerType.PERCENT or kind is AnswerType.NUMBER:
        return [_json_number(x) for x in _numeric_candidates(t, fw)]
    if kind is AnswerType.DATE:
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
            for v in _values(cond.value):
                if parse_date(v) is not None and v not in dates:
                    dates.append(v)
        return dates
    # TEXT: no points either way; a gate on a text item may name the text it wants
    texts: list[object] = [SAMPLE_TEXT] if ideal else [""]
    for gp in t.gates:
        texts.extend(v for v in _values(fw.gates[gp].passes_if.value) if isinstance(v, str))
    return texts


def _pick(
    framework: Framework, item: Item | str, mode: str | None, as_of: datetime.date | None, ideal: bool
) -> object:
    t = tables_for(framework)
    iid = item if isinstance(item, str) else item.id
    it = t.by_id.get(iid)
    if it is None:
        raise ValueError(f"no item {iid!r} in framework {framework.id!r}")
    mode = framework.default_mode if mode is None else mode
    with localcontext(CONTEXT):
        best: tuple[tuple[Decimal, Decimal], object] | None = None
        for value in _candidates(it, framework, mode, as_of, ideal):
            pts = item_points(it, value, mode, as_of)
            conds = [framework.gates[gp].passes_if for gp in it.gates]
            passing = Decimal(sum(condition_holds(c.op, value, c.value, as_of) for c in conds))
            # ideal: most gates passed, then most points; zero: fewest points, then most gates failed
            key = (passing, pts) if ideal else (-pts, len(conds) - passing)
            if best is None or key > best[0]:
                best = (key, value)
        assert best is not None
        return best[1]


def ideal_answer(
    framework: Framework, item: Item | str, *, mode: str | None = None, as_of: datetime.date | None = None
) -> object:
    """A value that earns the item's full points and passes every gate the item decides.

    Among the candidates, the first (in candidate order) that passes the most of the item's gates and,
    among those, earns the most points. Raises ValueError for a date item without `as_of`, or a scale
    item with no scale in the mode.
    """
    return _pick(framework, item, mode, as_of, ideal=True)


def zero_answer(
    framework: Framework, item: Item | str, *, mode: str | None = None, as_of: datetime.date | None = None
) -> object:
    """A value that earns the fewest points (0 in any sound framework), failing the item's gates if it can.

    Text items get "" (text earns nothing). Raises like `ideal_answer`.
    """
    return _pick(framework, item, mode, as_of, ideal=False)
