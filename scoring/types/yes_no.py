"""yes_no: true or false. Without options, true earns the item's points and false nothing; with the
options "yes" and "no", each earns its option's points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item
from . import AnswerKind, Day, Found

if TYPE_CHECKING:
    from ..tables import ItemTable


class YesNo(AnswerKind):
    type = AnswerType.YES_NO
    name = ("true or false", "是/否（true 或 false）")
    keys = frozenset({"options"})

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        out: dict[str, object] = {}
        for opt in item.options:
            if opt.value in ("yes", "no"):
                out[f"{opt.value}_points"] = opt.points
        return out

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        return None if isinstance(value, bool) else self.wrong()

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        return t.yes_points if value else t.no_points

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        return [True, False]

    def item_problems(self, item: Item) -> list[str]:
        values = sorted(o.value for o in item.options)
        if item.options and values != ["no", "yes"]:
            return [f"options: a yes_no item has exactly the options 'yes' and 'no', got {values}"]
        return []

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        return None if isinstance(value, bool) else f"compare with true or false, got {value!r}"


KIND = YesNo()
