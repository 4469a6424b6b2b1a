"""scale: a level (its `value`, a string) of the item's maturity scale in the chosen mode, earning the
level's percent of the item's points. An item applies only in the modes it names a scale for (a scale
named for the mode "default" serves every mode)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item
from . import AnswerKind, Day, Found

if TYPE_CHECKING:
    from ..tables import ItemTable

_HUNDRED = Decimal(100)


class Scale(AnswerKind):
    type = AnswerType.SCALE
    name = ("a level value (text)", "等级值（文本）")
    keys = frozenset({"scale"})
    needs = "scale"
    by_mode = True

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        level_points: dict[str, dict[str, Decimal]] = {}
        for mode, scale_id in item.scales:
            scale = fw.scale_by_id(scale_id)
            assert scale is not None  # scoring.tables refuses an unknown scale first
            level_points[mode] = {lv.value: lv.percent * max_points / _HUNDRED for lv in scale.levels}
        if "default" in level_points:
            for m in fw.modes:
                level_points.setdefault(m.id, level_points["default"])
        return {"level_points": level_points}

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        if not isinstance(value, str):
            return self.wrong()
        levels = t.level_points.get(mode)
        if levels is None:
            return ("no_scale_for_mode", mode)
        if value not in levels:
            return ("unknown_level", ", ".join(levels))
        return None

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        return t.level_points[mode][value]  # type: ignore[index]

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        levels = t.level_points.get(mode)
        if levels is None:
            raise ValueError(f"item {t.item.id!r} has no scale in mode {mode!r}")
        return list(levels)

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        scales = (fw.scale_by_id(sid) for _, sid in item.scales)
        allowed = sorted({lv.value for scale in scales if scale is not None for lv in scale.levels})
        return None if value in allowed else f"{value!r} is not a level of its scales {allowed}"


KIND = Scale()
