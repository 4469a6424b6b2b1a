"""Answer values as JSON gives them: numbers, ISO dates, and the comparisons conditions make.

JSON values reach the engine as Python `bool`, `int`, `float`, `str`, `list` or `None` (and `Decimal`
when a caller parsed JSON with `parse_float=Decimal`). `bool` is never a number here: `true` is not 1.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from .model import Op

# Every Decimal operation of the engine runs in this context, whatever the caller's context is, so the
# same input gives the same output. 60 digits keep sums and products of points exact.
CONTEXT = Context(prec=60, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, DivisionByZero, Overflow])

_EQ, _NE, _IN, _GTE = Op.EQ, Op.NE, Op.IN, Op.GTE  # module constants: faster than class look-ups
_YEARS_GTE, _YEARS_LT = Op.YEARS_GTE, Op.YEARS_LT
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_number(value: object) -> Decimal | None:
    """The exact Decimal of a JSON number, or None for anything else (bool, NaN, infinity included).

    A float is read through its shortest repr, so 0.1 is Decimal("0.1"), not the binary fraction.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def parse_date(value: object) -> datetime.date | None:
    """A strict ISO calendar date "YYYY-MM-DD", or None."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def whole_years(start: datetime.date, as_of: datetime.date) -> int:
    """Whole years from `start` to `as_of`: 0 until the first anniversary; negative for a future date.

    An anniversary on 29 February falls on 1 March in other years.
    """
    if start <= as_of:
        return as_of.year - start.year - ((as_of.month, as_of.day) < (start.month, start.day))
    return -whole_years(as_of, start)


def years_before(as_of: datetime.date, years: int) -> datetime.date:
    """The date `years` whole years before `as_of` (29 February becomes 28 February)."""
    year = as_of.year - years
    try:
        return as_of.replace(year=year)
    except ValueError:
        return as_of.replace(year=year, day=28)


def json_equal(a: object, b: object) -> bool:
    """Equality of two JSON values: numbers by value, booleans only equal booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    na, nb = as_number(a), as_number(b)
    if na is not None or nb is not None:
        return na is not None and nb is not None and na == nb
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _compare(a: object, b: object) -> int | None:
    """-1, 0 or 1 for two numbers or two strings (ISO dates compare as strings); None otherwise."""
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    return None


def condition_holds(op: Op, actual: object, expected: object, as_of: datetime.date | None = None) -> bool:
    """Whether a known value satisfies `op expected`. Values of different kinds never order.

    `years_gte` / `years_lt` count the whole years from the date `actual` ("YYYY-MM-DD") to `as_of`
    (`whole_years`): "adopted at least 3 years ago" is `years_gte 3`. Without `as_of`, or when `actual`
    is no date, they do not hold."""
    if op is _YEARS_GTE or op is _YEARS_LT:
        d = parse_date(actual)
        n = as_number(expected)
        if d is None or n is None or as_of is None:
            return False
        years = whole_years(d, as_of)
        return years >= n if op is _YEARS_GTE else years < n
    if op is _EQ and type(actual) is type(expected) and type(actual) in (bool, str):
        return actual == expected  # the common case: a yes/no or option answer
    if op is _EQ:
        return json_equal(actual, expected)
    if op is _NE:
        return not json_equal(actual, expected)
    if op is _IN:
        if isinstance(expected, (list, tuple, frozenset, set)):
            return any(json_equal(actual, e) for e in expected)
        return False
    c = _compare(actual, expected)
    if c is None:
        return False
    return c >= 0 if op is _GTE else c <= 0


def listify(value: object) -> Sequence[object]:
    """The members of an `in` condition's value (a scalar is a list of one)."""
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return (value,)
