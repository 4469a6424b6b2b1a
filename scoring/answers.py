"""Reference answers for one item: the best one (`ideal_answer`) and a worthless one (`zero_answer`).

Both choose among a finite list of candidate values that the item's answer type gives
(`scoring.types`: every option or level; numbers at and around every band edge, bound and gate value;
dates a whole number of years before `as_of`), score each as the engine would (evidence assumed present), and check the gates the
item decides. Results are JSON values: bool, str, int, or float for a non-integral number.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, localcontext

from .engine import item_points
from .model import Framework, Item
from .tables import tables_for
from .values import CONTEXT, condition_holds


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
        for value in it.rules.candidates(it, framework, mode, as_of, ideal):
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
