"""JSON values as the engine reads them: numbers, dates, and the comparisons of conditions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from scoring.model import Op
from scoring.values import as_number, condition_holds, json_equal, parse_date, whole_years, years_before

D = Decimal


def test_as_number() -> None:
    assert as_number(3) == D(3) and as_number(0.1) == D("0.1") and as_number(D("2.50")) == D("2.5")
    for not_a_number in (True, False, None, "3", float("nan"), float("inf"), D("NaN"), [1]):
        assert as_number(not_a_number) is None


def test_parse_date_is_strict() -> None:
    assert parse_date("2024-02-29") == datetime.date(2024, 2, 29)
    for bad in ("2023-02-29", "2024-2-1", "20240201", "2024-02-01T00:00", " 2024-02-01", 20240201, None):
        assert parse_date(bad) is None


@pytest.mark.parametrize(
    ("start", "as_of", "years"),
    [
        ("2020-01-01", "2020-01-01", 0),
        ("2020-01-02", "2021-01-01", 0),
        ("2020-01-01", "2021-01-01", 1),
        ("2016-02-29", "2020-02-28", 3),
        ("2016-02-29", "2020-02-29", 4),
        ("2021-01-01", "2020-01-01", -1),
        ("2020-06-01", "2020-01-01", 0),  # less than a year ahead: 0 whole years
    ],
)
def test_whole_years(start: str, as_of: str, years: int) -> None:
    assert whole_years(datetime.date.fromisoformat(start), datetime.date.fromisoformat(as_of)) == years


def test_years_before_handles_leap_days() -> None:
    assert years_before(datetime.date(2024, 2, 29), 1) == datetime.date(2023, 2, 28)
    assert whole_years(years_before(datetime.date(2024, 2, 29), 3), datetime.date(2024, 2, 29)) == 3


def test_booleans_are_not_numbers() -> None:
    assert not json_equal(True, 1) and not json_equal(0, False) and json_equal(True, True)
    assert not condition_holds(Op.EQ, 1, True)
    assert condition_holds(Op.NE, 1, True)
    assert not condition_holds(Op.GTE, True, 0)
    assert not condition_holds(Op.IN, 1, (True, "a"))


def test_numbers_compare_by_value() -> None:
    assert json_equal(5, D("5.0")) and json_equal(0.5, D("0.5"))
    assert condition_holds(Op.GTE, 65, D(65)) and not condition_holds(Op.GTE, 64.99, D(65))
    assert condition_holds(Op.LTE, D("3"), 3) and condition_holds(Op.IN, 2, [1, 2.0])


def test_strings_and_dates() -> None:
    assert condition_holds(Op.IN, "a", ("a", "b")) and not condition_holds(Op.IN, "c", ["a", "b"])
    assert condition_holds(Op.LTE, "2020-01-01", "2023-11-22")
    assert not condition_holds(Op.GTE, "5", 3)  # a string never orders against a number
    assert not condition_holds(Op.IN, "a", "abc")  # `in` needs a list
