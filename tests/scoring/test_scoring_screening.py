"""Quick mode of an award framework is a screening; rules carry their provenance; conditions count the
whole years since a date (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from decimal import Decimal

from conftest import AS_OF, FULL_ANSWERS, FULL_PROFILE, t

from scoring import Submission, compare, dumps, ideal_answer, score, zero_answer
from scoring.model import Condition, Framework, Gate, Mode, Op, Rule, Target
from scoring.values import condition_holds, years_before


def screening(fw: Framework) -> Framework:
    """The mini framework with its quick mode marked as a screening."""
    return dataclasses.replace(fw, modes=(Mode("quick", t("Quick"), screening=True), Mode("full", t("Full"))))


def run(fw: Framework, answers: dict[str, object], mode: str, **kw: object) -> object:
    return score(fw, Submission(answers=answers, mode=mode, as_of=AS_OF, profile=FULL_PROFILE, **kw))  # type: ignore[arg-type]


def test_a_screening_mode_never_says_ready(mini: Framework) -> None:
    fw = screening(mini)
    quick = run(fw, FULL_ANSWERS, "quick")
    # every point, every gate: worth a full self-evaluation, but no verdict
    assert [x.readiness for x in quick.targets] == ["worth_full_evaluation"] * 2  # type: ignore[attr-defined]
    assert quick.screening and all(x.screening for x in quick.targets)  # type: ignore[attr-defined]
    assert quick.paths == ()  # type: ignore[attr-defined]
    # the full mode of the same framework gives the verdict
    full = run(fw, {**FULL_ANSWERS, "p-lead": "100"}, "full")
    assert [x.readiness for x in full.targets] == ["ready", "ready"]  # type: ignore[attr-defined]
    assert not full.screening  # type: ignore[attr-defined]
    # without the screening flag the quick mode still gives a verdict (released 1.0.0 files re-score the same)
    assert [x.readiness for x in run(mini, FULL_ANSWERS, "quick").targets] == ["ready", "ready"]  # type: ignore[attr-defined]


def test_screening_band_not_yet_on_a_failed_gate_or_a_low_score(mini: Framework) -> None:
    fw = screening(mini)
    failed = run(fw, {**FULL_ANSWERS, "b-incident": True}, "quick")
    assert failed.target("cert").readiness == "not_yet"  # type: ignore[attr-defined]
    low = run(fw, {**FULL_ANSWERS, "p-lead": "none", "b-std": "none", "b-rate": 0}, "quick")
    assert low.target("cert").readiness == "not_yet"  # type: ignore[attr-defined]
    # the path leads to the screening line
    assert low.paths and low.paths[0].reachable  # type: ignore[attr-defined]
    # an unknown gate does not stop the screening: the full evaluation will ask it
    unknown = run(fw, {k: v for k, v in FULL_ANSWERS.items() if k != "b-incident"}, "quick")
    assert unknown.target("cert").readiness == "worth_full_evaluation"  # type: ignore[attr-defined]


def test_every_result_says_it_is_self_assessed_and_the_api_shows_the_rules(mini: Framework) -> None:
    rule = Rule(document="杭政办函〔2022〕48号", issuer="杭州市人民政府办公厅", date="2022")
    guess = Rule(assumption=t("QReady estimate — not an official line"))
    fw = screening(mini)
    fw = dataclasses.replace(
        fw,
        gates=(dataclasses.replace(fw.gates[0], rule=rule), fw.gates[1]),
        targets=(dataclasses.replace(fw.targets[0], rule=guess), fw.targets[1]),
    )
    out = json.loads(dumps(run(fw, FULL_ANSWERS, "quick")))  # type: ignore[arg-type]
    assert out["screening"] is True
    assert (
        "not a reviewer's score" in out["self_assessed"]["en"]
        and "不是评审员的评分" in out["self_assessed"]["zh"]
    )
    assert out["targets"][0]["rule"] == {"assumption": {"zh": guess.assumption.zh, "en": guess.assumption.en}}  # type: ignore[union-attr]
    assert out["targets"][1]["rule"] is None
    assert out["gates"][0]["rule"] == {
        "document": "杭政办函〔2022〕48号",
        "issuer": "杭州市人民政府办公厅",
        "date": "2022",
    }


def test_comparison_ranks_screening_bands(mini: Framework) -> None:
    fw = screening(mini)
    before = run(fw, {**FULL_ANSWERS, "b-incident": True}, "quick")
    after = run(fw, FULL_ANSWERS, "quick")
    change = compare(before, after).targets[0]  # type: ignore[arg-type]
    assert (change.before, change.after, change.change) == ("not_yet", "worth_full_evaluation", "improved")


def test_whole_years_since_a_date() -> None:
    as_of = datetime.date(2026, 6, 1)
    assert condition_holds(Op.YEARS_GTE, "2023-06-01", Decimal(3), as_of)
    assert not condition_holds(Op.YEARS_GTE, "2023-06-02", Decimal(3), as_of)  # one day short of 3 years
    assert condition_holds(Op.YEARS_LT, "2023-06-02", Decimal(3), as_of)
    assert not condition_holds(
        Op.YEARS_GTE, "2023-06-01", Decimal(3)
    )  # no scoring date: unknown, never holds
    assert not condition_holds(Op.YEARS_GTE, 2020, Decimal(3), as_of)  # not a date


def test_a_gate_and_a_condition_read_the_date(mini: Framework) -> None:
    """ "Performance excellence adopted >= 3 years ago" read from the adoption date, "founded >= 5 years
    ago" from the profile date: one answer, no yes/no duplicate that could contradict it."""
    fw = dataclasses.replace(
        mini,
        gates=(
            Gate("adopted-3y", Condition(Op.YEARS_GTE, Decimal(3), item="p-since"), t("3 years")),
            Gate("founded-5y", Condition(Op.YEARS_GTE, Decimal(5), profile="founded_on"), t("5 years")),
        ),
        targets=(Target("award", t("Award"), ("adopted-3y", "founded-5y"), Decimal(50)),),
    )
    fw = dataclasses.replace(
        fw,
        sections=tuple(
            dataclasses.replace(
                s,
                items=tuple(
                    dataclasses.replace(i, gate=True, allow_na=False) if i.id == "p-since" else i
                    for i in s.items
                ),
            )
            for s in fw.sections
        ),
    )

    def award(since: str, founded: str) -> str:
        profile = {**FULL_PROFILE, "founded_on": founded}
        r = score(fw, Submission(answers={**FULL_ANSWERS, "p-since": since}, as_of=AS_OF, profile=profile))
        return r.target("award").readiness  # type: ignore[union-attr]

    old = years_before(AS_OF, 10).isoformat()
    assert award(years_before(AS_OF, 3).isoformat(), old) == "ready"
    assert award((years_before(AS_OF, 3) + datetime.timedelta(days=1)).isoformat(), old) == "not_ready"
    assert award(years_before(AS_OF, 3).isoformat(), years_before(AS_OF, 4).isoformat()) == "not_ready"
    # reference answers know the condition: the ideal date passes it, the zero date fails it
    assert condition_holds(Op.YEARS_GTE, ideal_answer(fw, "p-since", as_of=AS_OF), Decimal(3), AS_OF)
    assert not condition_holds(Op.YEARS_GTE, zero_answer(fw, "p-since", as_of=AS_OF), Decimal(3), AS_OF)


def test_an_exemption_passes_the_gate(mini: Framework) -> None:
    """Hangzhou: 实施卓越绩效管理满3年, except 数字经济, 生命健康 and 农业 organisations."""
    fw = dataclasses.replace(
        mini,
        gates=(
            dataclasses.replace(
                mini.gates[0], exempt_if=Condition(Op.IN, ("A", "I"), profile="industry_section")
            ),
            mini.gates[1],
        ),
    )
    failing = {**FULL_ANSWERS, "b-incident": True, "p-lead": "100"}
    assert run(fw, failing, "full").gate("no-incident").status == "fail"  # type: ignore[attr-defined]
    r = score(
        fw,
        Submission(
            answers=failing, mode="full", as_of=AS_OF, profile={**FULL_PROFILE, "industry_section": "A"}
        ),
    )
    g = r.gate("no-incident")
    assert g is not None and (g.status, g.reason) == ("pass", "exempt")
    assert all(p.items == () or "b-incident" not in p.items for p in r.paths)
