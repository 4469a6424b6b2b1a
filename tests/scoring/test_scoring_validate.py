"""Input validation: every problem code, bilingual messages, and `Submission.from_json`."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from conftest import AS_OF, FULL_ANSWERS

from scoring import CODES, InvalidSubmission, Problem, Submission, score, validate
from scoring.model import Framework


def problems(fw: Framework, **kw: object) -> list[tuple[str | None, str]]:
    kw.setdefault("as_of", AS_OF)
    return [(p.item, p.code) for p in validate(fw, Submission(**kw))]  # type: ignore[arg-type]


def test_valid_submission_has_no_problems(mini: Framework) -> None:
    assert problems(mini, answers=FULL_ANSWERS, evidence=frozenset({"b-iso"})) == []
    assert problems(mini) == []


@pytest.mark.parametrize(
    ("item", "value", "code"),
    [
        ("b-iso", "yes", "wrong_type"),
        ("b-iso", 1, "wrong_type"),
        ("b-iso", None, "wrong_type"),
        ("b-std", "maybe", "unknown_option"),
        ("b-std", True, "wrong_type"),
        ("b-rate", 100.5, "out_of_range"),
        ("b-rate", -1, "out_of_range"),
        ("b-rate", "50", "wrong_type"),
        ("b-rate", True, "wrong_type"),  # booleans only for yes_no
        ("b-rate", float("nan"), "wrong_type"),
        ("b-rate", float("inf"), "wrong_type"),
        ("p-patents", 1001, "out_of_range"),
        ("p-patents", -0.5, "out_of_range"),
        ("p-patents", False, "wrong_type"),
        ("p-lead", "60", "unknown_level"),  # an ADLI level, but the default mode (quick) uses four-step
        ("p-lead", 1, "wrong_type"),
        ("p-since", "2020-13-01", "bad_date"),
        ("p-since", "20200101", "bad_date"),
        ("p-since", "2020-01-01T00:00", "bad_date"),
        ("p-since", 2020, "wrong_type"),
        ("p-notes", 5, "wrong_type"),
        ("p-notes", ["a"], "wrong_type"),
    ],
)
def test_wrong_values(mini: Framework, item: str, value: object, code: str) -> None:
    assert problems(mini, answers={item: value}) == [(item, code)]


@pytest.mark.parametrize("value", [0, 100, 0.0, 99.99, Decimal("50.5")])
def test_percent_edges_are_valid(mini: Framework, value: object) -> None:
    assert problems(mini, answers={"b-rate": value}) == []


def test_scale_level_checked_against_the_chosen_mode(mini: Framework) -> None:
    assert problems(mini, answers={"p-lead": "60"}, mode="full") == []
    assert problems(mini, answers={"p-lead": "some"}, mode="full") == [("p-lead", "unknown_level")]


def test_unknown_mode(mini: Framework) -> None:
    assert problems(mini, mode="deep") == [(None, "unknown_mode")]


def test_unknown_ids(mini: Framework) -> None:
    got = problems(mini, answers={"zz": 1, "aa": 2}, na={"ghost": "x"}, evidence=frozenset({"nope"}))
    assert got == [
        ("aa", "unknown_item"),
        ("ghost", "unknown_na_item"),
        ("nope", "unknown_evidence_item"),
        ("zz", "unknown_item"),
    ]


def test_na_rules(mini: Framework) -> None:
    assert problems(mini, na={"b-incident": "不适用"}) == [("b-incident", "na_not_allowed")]
    assert problems(mini, na={"b-rate": "   "}) == [("b-rate", "na_blank_justification")]
    assert problems(mini, na={"b-rate": ""}) == [("b-rate", "na_blank_justification")]
    assert problems(mini, na={"b-rate": 5}) == [("b-rate", "na_blank_justification")]
    assert problems(mini, na={"b-rate": "无此指标"}, answers={"b-rate": 5}) == [("b-rate", "answered_and_na")]
    assert problems(mini, na={"b-rate": "无此指标"}) == []


def test_date_answers_need_as_of(mini: Framework) -> None:
    assert problems(mini, answers={"p-since": "2020-01-01"}, as_of=None) == [("p-since", "missing_as_of")]
    assert problems(mini, answers={"b-rate": 5}, as_of=None) == []


def test_problems_come_in_framework_order(mini: Framework) -> None:
    got = problems(mini, answers={"p-notes": 1, "b-iso": 2, "b-rate": 500}, mode="x")
    assert got == [
        (None, "unknown_mode"),
        ("b-iso", "wrong_type"),
        ("b-rate", "out_of_range"),
        ("p-notes", "wrong_type"),
    ]


def test_messages_are_bilingual(mini: Framework) -> None:
    ps = validate(
        mini,
        Submission(
            answers={"b-iso": "yes", "b-std": "x", "b-rate": 200, "p-since": "x", "zz": 1, "p-lead": "q"},
            na={"b-incident": "x", "p-notes": " "},
            evidence=frozenset({"e"}),
            mode="quick",
            as_of=AS_OF,
        ),
    )
    assert len(ps) == 9
    for p in ps:
        assert p.message.en and p.message.zh and p.message.en != p.message.zh
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p.message.zh), p
        assert p.code in CODES
        d = p.as_dict()
        message = d["message"]
        assert d["code"] == p.code and isinstance(message, dict) and set(message) == {"zh", "en"}
    wrong = next(p for p in ps if p.code == "wrong_type")
    assert "true or false" in wrong.message.en and "是/否" in wrong.message.zh
    assert str(wrong).startswith("b-iso: ")


def test_every_code_has_both_languages() -> None:
    for code, (en, zh) in CODES.items():
        assert en.strip() and zh.strip(), code


def test_score_raises_with_all_problems(mini: Framework) -> None:
    with pytest.raises(InvalidSubmission) as exc:
        score(mini, Submission(answers={"b-iso": "yes", "p-notes": 3}, na={"b-incident": "x"}))
    assert [p.code for p in exc.value.problems] == ["wrong_type", "na_not_allowed", "wrong_type"]
    assert all(isinstance(p, Problem) for p in exc.value.problems)
    assert "3 problem(s)" in str(exc.value)


# --- from_json


def test_from_json_reads_the_cli_shape() -> None:
    s = Submission.from_json(
        {
            "framework": "mini",
            "answers": {"b-iso": True},
            "na": {"b-rate": "无"},
            "evidence": ["b-iso", "b-iso"],
            "mode": "full",
        },
        profile={"years_operating": 3},
        as_of=AS_OF,
    )
    assert s.answers == {"b-iso": True} and s.na == {"b-rate": "无"}
    assert s.evidence == frozenset({"b-iso"}) and s.mode == "full"
    assert s.profile == {"years_operating": 3} and s.as_of == AS_OF
    assert Submission.from_json(s.to_json()) == s


def test_from_json_defaults_and_file_profile() -> None:
    s = Submission.from_json({"answers": {}, "profile": {"city": "330100"}, "as_of": "2025-01-31"})
    assert s.profile == {"city": "330100"} and s.as_of == datetime.date(2025, 1, 31)
    assert s.mode is None and s.evidence == frozenset() and s.na == {}
    # keyword arguments win over the file
    s = Submission.from_json({"profile": {"city": "1"}, "as_of": "2025-01-31"}, profile={}, as_of=AS_OF)
    assert s.profile == {} and s.as_of == AS_OF


@pytest.mark.parametrize(
    ("data", "codes"),
    [
        ({"answer": {}}, ["unknown_field"]),
        ({"answers": []}, ["bad_shape"]),
        ({"answers": {}, "na": ["x"]}, ["bad_shape"]),
        ({"evidence": "b-iso"}, ["bad_shape"]),
        ({"evidence": [1]}, ["bad_shape"]),
        ({"mode": 3}, ["bad_shape"]),
        ({"as_of": "tomorrow"}, ["bad_shape"]),
        ({"profile": []}, ["bad_shape"]),
        ({"answers": 1, "extra": 2}, ["unknown_field", "bad_shape"]),
    ],
)
def test_from_json_refuses_malformed_input(data: dict[str, object], codes: list[str]) -> None:
    with pytest.raises(InvalidSubmission) as exc:
        Submission.from_json(data)
    assert [p.code for p in exc.value.problems] == codes


def test_from_json_refuses_a_non_object() -> None:
    with pytest.raises(InvalidSubmission) as exc:
        Submission.from_json([])  # type: ignore[arg-type]
    assert exc.value.problems[0].code == "bad_shape"


def _unbounded_patents(fw: Framework) -> Framework:
    """`mini` with its number item's bounds taken away (as a framework item may leave them)."""
    import dataclasses

    sections = tuple(
        dataclasses.replace(
            s,
            items=tuple(
                dataclasses.replace(i, min_value=None, max_value=None) if i.id == "p-patents" else i
                for i in s.items
            ),
        )
        for s in fw.sections
    )
    return dataclasses.replace(fw, sections=sections)


@pytest.mark.parametrize("value", [1e15, -1e15, 10**26, Decimal("-1E+26"), 1e300])
def test_numbers_of_1e15_or_more_in_size_are_refused_whatever_the_bounds(
    mini: Framework, value: object
) -> None:
    fw = _unbounded_patents(mini)
    assert problems(fw, answers={"p-patents": value}) == [("p-patents", "number_too_large")]
    (p,) = validate(fw, Submission(answers={"p-patents": value}, as_of=AS_OF))
    assert "10^15" in p.message.en and "10^15" in p.message.zh
    # an item's own bounds say more: they come first
    assert problems(mini, answers={"p-patents": value}) == [("p-patents", "out_of_range")]


@pytest.mark.parametrize("value", [999_999_999_999_999, -999_999_999_999_999.9, 0, 123456789012.5])
def test_numbers_below_1e15_in_size_are_valid_where_the_item_allows(mini: Framework, value: object) -> None:
    assert problems(_unbounded_patents(mini), answers={"p-patents": value}) == []
