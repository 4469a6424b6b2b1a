"""text: a string. It earns no points and counts nothing in the maximum; a gate may ask for a text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import AnswerType, Framework, Item
from . import AnswerKind, Day, Found, gate_values

if TYPE_CHECKING:
    from ..tables import ItemTable

SAMPLE_TEXT = "示例回答 / Sample answer"


class Text(AnswerKind):
    type = AnswerType.TEXT
    name = ("text", "文本")
    scored = False

    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        return None if isinstance(value, str) else self.wrong()

    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        return [SAMPLE_TEXT if ideal else "", *(v for v in gate_values(t, fw) if isinstance(v, str))]

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        return None if isinstance(value, str) else f"compare with a string, got {value!r}"


KIND = Text()
