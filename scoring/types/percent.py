"""percent: a number within 0..100 (or the item's narrower `min`, `max`), earning its band's points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..model import AnswerType, Framework, Item
from .number import Number

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class Percent(Number):
    type = AnswerType.PERCENT
    name = ("a number from 0 to 100", "0 到 100 之间的数字")

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        return {"lo": self.domain(item)[0], "hi": self.domain(item)[1]}

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        lo = _ZERO if item.min_value is None else item.min_value
        hi = _HUNDRED if item.max_value is None else item.max_value
        return lo, hi


KIND = Percent()
