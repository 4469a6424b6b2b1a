"""percent: a number within 0..100 (or the item's narrower `min`, `max`), earning its band's points."""

from __future__ import annotations

from decimal import Decimal

from ..model import AnswerType
from .number import Number


class Percent(Number):
    type = AnswerType.PERCENT
    name = ("a number from 0 to 100", "0 到 100 之间的数字")
    limits = (Decimal(0), Decimal(100))


KIND = Percent()
