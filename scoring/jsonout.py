"""Canonical JSON of results and comparisons: the same input gives the same bytes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Protocol, runtime_checkable

from .engine import num


@runtime_checkable
class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, object]: ...


def _default(o: object) -> object:
    if isinstance(o, Decimal):
        return num(o)
    if isinstance(o, _HasToDict):
        return o.to_dict()
    if isinstance(o, (tuple, frozenset, set)):
        return sorted(o) if isinstance(o, (frozenset, set)) else list(o)
    raise TypeError(f"cannot serialise {type(o).__name__} as JSON")


def dumps(obj: object, *, indent: int | None = None) -> str:
    """Canonical JSON text of a `Result`, a `Comparison`, or a JSON-ready value.

    Keys keep the documented order of `to_dict()` (not sorted), non-ASCII text is written as is
    (`ensure_ascii=False`), numbers are those of `to_dict()` (Decimals rounded half-up to 2 places),
    NaN and infinity are refused, and separators are fixed, so the text is byte-for-byte deterministic.
    """
    if isinstance(obj, _HasToDict):
        obj = obj.to_dict()
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        obj, ensure_ascii=False, allow_nan=False, indent=indent, separators=separators, default=_default
    )
