"""The answer types: one module per type, each an `AnswerKind` registered under its `AnswerType`.

A type says everything the engine and the framework files need of it: which type-specific keys of the
file format it uses (`keys`, `needs`), whether it earns points (`scored`), what a valid answer is
(`check`), what an answer earns (`points`), and which answers to try for the best and the worst one
(`candidates`, used by `scoring.answers`). `assessments` asks the same object how to read and check
a file's items; the web app keys its display and input widget by the same `AnswerType`.

A new type: a member of `AnswerType` (`scoring/model.py`), a module here with its `AnswerKind`, and
its line in `KINDS` below.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from ..model import AnswerType, Framework, Item

if TYPE_CHECKING:
    from ..tables import ItemTable

_ZERO = Decimal(0)
Day = datetime.date | None  # the scoring date, when there is one
Found = tuple[str, str] | None  # (problem code, detail) of `scoring.submission.CODES`, or None


class AnswerKind(ABC):
    """The rules of one answer type. Subclasses are stateless; one instance of each is registered."""

    type: ClassVar[AnswerType]
    # what an answer of this type is, for the "wrong_type" problem: (English, Chinese)
    name: ClassVar[tuple[str, str]]
    # the type-specific keys of the file format an item of this type may carry, and the one it must
    keys: ClassVar[frozenset[str]] = frozenset()
    needs: ClassVar[str | None] = None
    scored: ClassVar[bool] = True  # False: earns nothing and counts nothing in the maximum
    ordered: ClassVar[bool] = False  # answers compare with gte / lte
    by_mode: ClassVar[bool] = False  # the item applies only in the modes it names a scale for
    numeric: ClassVar[bool] = False  # answers are numbers within the item's bounds
    dated: ClassVar[bool] = False  # answers are dates (years_gte / years_lt count the years since)

    def prepare(self, fw: Framework, item: Item, max_points: Decimal) -> Mapping[str, object]:
        """The type's fields of the item's scoring table (`scoring.tables.ItemTable`)."""
        return {}

    @abstractmethod
    def check(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Found:
        """What is wrong with an answer, as (problem code, detail) of `scoring.submission.CODES`."""

    def points(self, t: ItemTable, value: object, mode: str, as_of: Day) -> Decimal:
        """What a valid answer earns before the evidence cap."""
        return _ZERO

    @abstractmethod
    def candidates(self, t: ItemTable, fw: Framework, mode: str, as_of: Day, ideal: bool) -> list[object]:
        """The answers worth trying for the item's best (`ideal`) or worst answer, in order of preference."""

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        """The numbers the item's bands are tested on (inclusive; None = unbounded)."""
        return item.min_value, item.max_value

    def item_problems(self, item: Item) -> list[str]:
        """What is wrong with an item of this type on its own (its options), for `assessments.checks`."""
        return []

    def condition_value(self, fw: Framework, item: Item, value: object) -> str | None:
        """Why `value` cannot be compared with an answer to `item` in a condition, or None."""
        return None

    def wrong(self) -> tuple[str, str]:
        return ("wrong_type", self.type.value)


def gate_values(t: ItemTable, fw: Framework) -> list[object]:
    """The values the gates an item decides compare its answer with, in gate order."""
    out: list[object] = []
    for gp in t.gates:
        v = fw.gates[gp].passes_if.value
        out.extend(v if isinstance(v, (list, tuple)) else (v,))
    return out


def _registry() -> dict[AnswerType, AnswerKind]:
    from . import choice, date, number, percent, scale, text, yes_no

    kinds = [m.KIND for m in (yes_no, choice, scale, percent, number, date, text)]
    return {k.type: k for k in kinds}


KINDS: dict[AnswerType, AnswerKind] = _registry()


def kind_of(answer_type: AnswerType) -> AnswerKind:
    """The rules of an answer type."""
    return KINDS[answer_type]


__all__ = ["KINDS", "AnswerKind", "Day", "Found", "gate_values", "kind_of"]
