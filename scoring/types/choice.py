"""choice: one of the item's options (its `value`, a string), earning the option's points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item
from . import AnswerKind, Day, Found

if TYPE_CHECKING:
    from ..tables import ItemTable


class Choice(AnswerKind):
    type = AnswerType.CHOICE
    name = ("an option value (text)", "选项值（文本）")
    keys = frozenset({"options"})
    needs = "options"

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        return {"choice_points": {opt.value: opt.points for opt in item.options}}

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        if not isinstance(value, str):
            return self.wrong()
        if value not in t.choice_points:
            return ("unknown_option", ", ".join(t.choice_points))
        return None

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        return t.choice_points[value]  # type: ignore[index]

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        return list(t.choice_points)

    def item_problems(self, item: Item) -> list[str]:
        return ["options: a choice item needs at least two options"] if len(item.options) < 2 else []

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        allowed = [o.value for o in item.options]
        return None if value in allowed else f"{value!r} is not one of its options {allowed}"


KIND = Choice()
