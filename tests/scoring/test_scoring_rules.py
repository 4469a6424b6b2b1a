"""Unit tests of every scoring rule, on the small hand-built framework of conftest.py."""

from __future__ import annotations

import dataclasses
import datetime
import json
from decimal import Decimal, localcontext
from typing import Any

import pytest
from conftest import AS_OF, FULL_ANSWERS, FULL_PROFILE, t

from scoring import (
    FrameworkError,
    InvalidSubmission,
    Result,
    Submission,
    compare,
    dumps,
    ideal_answer,
    score,
    zero_answer,
)
from scoring.model import Condition, Framework, Gate, Level, Op, Option, Scale, Target

D = Decimal


def sub(answers: dict[str, object] | None = None, **kw: object) -> Submission:
    kw.setdefault("as_of", AS_OF)
    return Submission(answers=answers or {}, **kw)  # type: ignore[arg-type]


def full(**overrides: object) -> dict[str, object]:
    a = dict(FULL_ANSWERS)
    for k, v in overrides.items():
        k = k.replace("_", "-")
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return a


def run(fw: Framework, answers: dict[str, object], **kw: object) -> Result:
    kw.setdefault("evidence", frozenset({"b-iso"}))
    kw.setdefault("profile", FULL_PROFILE)
    return score(fw, sub(answers, **kw))


def pts(r: Result, iid: str) -> Decimal:
    it = r.item(iid)
    assert it is not None
    return it.points


def replace_item(fw: Framework, iid: str, **changes: Any) -> Framework:
    sections = tuple(
        dataclasses.replace(
            s, items=tuple(dataclasses.replace(i, **changes) if i.id == iid else i for i in s.items)
        )
        for s in fw.sections
    )
    return dataclasses.replace(fw, sections=sections)


# --- item points


def test_full_answers_earn_full_points(mini: Framework) -> None:
    r = run(mini, full())
    assert (r.points, r.max_points, r.percent, r.score) == (D(70), D(70), D(100), D(100))
    assert [(s.id, s.points, s.max_points) for s in r.sections] == [
        ("basic", D(30), D(30)),
        ("practice", D(40), D(40)),
    ]
    assert [x.readiness for x in r.targets] == ["ready", "ready"]
    assert r.gaps == () and r.paths == () and r.unanswered == ()


def test_yes_no_without_options(mini: Framework) -> None:
    assert pts(run(mini, full(b_iso=True)), "b-iso") == 10
    assert pts(run(mini, full(b_iso=False)), "b-iso") == 0


def test_yes_no_with_options(mini: Framework) -> None:
    fw = replace_item(mini, "b-iso", options=(Option("yes", t("y"), D(7)), Option("no", t("n"), D(2))))
    assert pts(run(fw, full(b_iso=True)), "b-iso") == 7
    assert pts(run(fw, full(b_iso=False)), "b-iso") == 2


def test_choice_points(mini: Framework) -> None:
    assert [pts(run(mini, full(b_std=v)), "b-std") for v in ("published", "drafting", "none")] == [10, 5, 0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (29.99, 0), (30, 5), (D("64.9"), 5), (65, 10), (100, 10), (0.1, 0)],
)
def test_percent_bands(mini: Framework, value: object, expected: int) -> None:
    assert pts(run(mini, full(b_rate=value)), "b-rate") == expected


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (1, 4), (4.5, 4), (5, 8), (1000, 8)])
def test_number_bands(mini: Framework, value: object, expected: int) -> None:
    assert pts(run(mini, full(p_patents=value)), "p-patents") == expected


@pytest.mark.parametrize(
    ("date", "as_of", "expected"),
    [
        ("2023-11-22", AS_OF, 6),  # exactly 3 whole years
        ("2023-11-23", AS_OF, 0),  # one day short of 3 years
        ("2026-11-22", AS_OF, 0),
        ("2030-01-01", AS_OF, 0),  # a future date: negative years
        ("2020-02-29", datetime.date(2023, 2, 28), 0),  # leap day: anniversary not yet reached
        ("2020-02-29", datetime.date(2023, 3, 1), 6),
    ],
)
def test_date_bands_count_whole_years(
    mini: Framework, date: str, as_of: datetime.date, expected: int
) -> None:
    assert pts(run(mini, full(p_since=date), as_of=as_of), "p-since") == expected


def test_scale_level_percent_of_item_points_per_mode(mini: Framework) -> None:
    assert pts(run(mini, full(p_lead="some")), "p-lead") == 10  # quick (default mode): four-step 50%
    r = run(mini, full(p_lead="60"), mode="full")  # full: ADLI 60%
    assert pts(r, "p-lead") == 12 and r.mode == "full"


def test_scale_given_once_serves_every_mode(mini: Framework) -> None:
    fw = replace_item(mini, "p-lead", scales=(("default", "adli"),))
    assert pts(run(fw, full(p_lead="30"), mode="full"), "p-lead") == 6
    assert pts(run(fw, full(p_lead="30")), "p-lead") == 6


def test_scale_item_without_scale_in_mode_does_not_apply(mini: Framework) -> None:
    fw = replace_item(mini, "p-lead", scales=(("full", "adli"),))
    r = run(fw, full(p_lead=None))
    it = r.item("p-lead")
    assert it is not None and (it.status, it.reason) == ("not_applicable", "mode")
    assert r.max_points == 50


def test_text_items_earn_nothing_and_count_nothing(mini: Framework) -> None:
    fw = replace_item(mini, "p-notes", max_points=D(5))  # even a mis-declared maximum counts 0
    r = run(fw, full(p_notes="长篇大论"))
    assert pts(r, "p-notes") == 0 and r.max_points == 70


# --- applicability, N/A, unanswered, evidence


def test_applies_if_profile(mini: Framework) -> None:
    r = run(mini, full(), profile={"is_manufacturing": False, "years_operating": 10})
    it = r.item("p-since")
    assert it is not None and (it.status, it.reason, it.max_points) == ("not_applicable", "applies_if", D(0))
    assert r.max_points == 64 and r.points == 64
    # a missing profile fact counts as holding
    assert run(mini, full(), profile={"years_operating": 10}).max_points == 70


def test_applies_if_item_answer(mini: Framework) -> None:
    r = run(mini, full(b_std="none", p_export=None))
    assert r.item("p-export").status == "not_applicable"  # type: ignore[union-attr]
    assert r.max_points == 64 and "p-export" not in r.unanswered
    # an answer to an item that does not apply counts for nothing
    assert run(mini, full(b_std="none")).points == 54
    # an unanswered condition item counts as holding
    r = run(mini, full(b_std=None))
    assert r.item("p-export").status == "answered" and r.max_points == 70  # type: ignore[union-attr]


def test_condition_on_a_non_applicable_item_counts_as_holding(mini: Framework) -> None:
    # b-std is declared N/A: its (absent) answer cannot switch p-export off
    fw = replace_item(mini, "b-std", allow_na=True)
    r = run(fw, full(b_std=None), na={"b-std": "我们没有自有产品标准"})
    assert r.item("b-std").reason == "na"  # type: ignore[union-attr]
    assert r.item("p-export").applicable  # type: ignore[union-attr]
    # b-std does not apply by its own rule while answered "none": the stale answer is ignored
    fw2 = replace_item(mini, "b-std", applies_if=(Condition(Op.EQ, True, profile="is_manufacturing"),))
    r = run(fw2, full(b_std="none"), profile={"is_manufacturing": False, "years_operating": 9})
    assert r.item("p-export").applicable  # type: ignore[union-attr]


def test_justified_na_leaves_the_denominator(mini: Framework) -> None:
    r = run(mini, full(b_rate=None), na={"b-rate": "无此指标"})
    it = r.item("b-rate")
    assert it is not None and (it.status, it.reason) == ("not_applicable", "na")
    assert r.max_points == 60 and r.points == 60 and r.percent == 100
    assert "b-rate" not in r.unanswered and all(g.item != "b-rate" for g in r.gaps)


def test_unanswered_items_score_zero_and_are_listed(mini: Framework) -> None:
    r = run(mini, full(b_std=None, p_patents=None, p_notes=None))
    assert r.unanswered == ("b-std", "p-patents", "p-notes")
    assert r.points == 52 and r.max_points == 70
    assert r.item("b-std").status == "unanswered"  # type: ignore[union-attr]


def test_evidence_cap(mini: Framework) -> None:
    r = run(mini, full(), evidence=frozenset())
    it = r.item("b-iso")
    assert it is not None and (it.points, it.evidence_missing, it.capped) == (D(5), True, True)
    # evidence asked but not required: no cap
    assert pts(r, "b-rate") == 10
    fw = dataclasses.replace(mini, evidence_cap=D(0))
    assert pts(run(fw, full(), evidence=frozenset()), "b-iso") == 0
    # the cap never raises points: a 'no' stays 0
    assert pts(run(mini, full(b_iso=False), evidence=frozenset()), "b-iso") == 0


def test_sections_total_percent_score(mini: Framework) -> None:
    r = run(mini, full(b_std="drafting", p_lead="some", p_patents=2))
    assert [(s.points, s.max_points) for s in r.sections] == [(D(25), D(30)), (D(26), D(40))]
    assert r.sections[1].percent == 65
    assert r.points == 51 and r.max_points == 70
    assert abs(r.percent - D(5100) / 70) < D("1e-25")  # exact to 60 digits internally
    fw = dataclasses.replace(mini, scale=D(1000))
    r2 = run(fw, full(b_std="drafting", p_lead="some", p_patents=2))
    assert abs(r2.score - D(51000) / 70) < D("1e-25") and r2.scale == 1000 and r2.percent == r.percent


def test_section_percent_is_none_when_nothing_applies(mini: Framework) -> None:
    fw = replace_item(mini, "b-rate", allow_na=True)
    na = {"b-iso": "x", "b-std": "y", "b-rate": "z"}
    r = run(fw, {"b-incident": False}, na=na, evidence=frozenset())
    assert r.sections[0].percent is None and r.sections[0].max_points == 0


def test_nothing_applicable_scores_zero_and_is_not_ready(mini: Framework) -> None:
    items = [i.id for i in mini.items if i.id != "b-incident"]
    fw = dataclasses.replace(
        mini, sections=tuple(dataclasses.replace(s, items=s.items[:0]) for s in mini.sections)
    )
    assert fw.items == ()
    fw = dataclasses.replace(fw, gates=(), targets=(Target("x", t("x"), (), D(50)),))
    r = score(fw, Submission())
    assert r.points == r.max_points == r.percent == 0 and r.targets[0].readiness == "not_ready"
    assert r.paths[0].reachable is False and items


# --- gates and targets


def test_item_gate_pass_fail_unknown(mini: Framework) -> None:
    assert run(mini, full()).gate("no-incident").status == "pass"  # type: ignore[union-attr]
    g = run(mini, full(b_incident=True)).gate("no-incident")
    assert g is not None and (g.status, g.item, g.reason) == ("fail", "b-incident", "answer")
    assert g.sources[0].standard == "rule 1"
    g = run(mini, full(b_incident=None)).gate("no-incident")
    assert g is not None and (g.status, g.reason) == ("unknown", "unanswered")


def test_profile_gate_pass_fail_unknown(mini: Framework) -> None:
    def status(profile: dict[str, object]) -> str:
        g = run(mini, full(), profile=profile).gate("years")
        assert g is not None and g.profile == "years_operating" and g.item is None
        return g.status

    assert status({"years_operating": 5}) == "pass"
    assert status({"years_operating": 4}) == "fail"
    assert status({}) == "unknown"
    assert status({"years_operating": None}) == "unknown"


def test_gate_whose_item_does_not_apply_passes(mini: Framework) -> None:
    fw = replace_item(mini, "b-incident", applies_if=(Condition(Op.EQ, True, profile="is_manufacturing"),))
    r = run(fw, full(b_incident=True), profile={"is_manufacturing": False, "years_operating": 9})
    g = r.gate("no-incident")
    assert g is not None and (g.status, g.reason) == ("pass", "not_applicable")


def test_failed_gate_makes_target_not_ready_whatever_the_score(mini: Framework) -> None:
    r = run(mini, full(b_incident=True))
    assert r.percent == 100
    assert [x.readiness for x in r.targets] == ["not_ready", "not_ready"]
    b = r.target("cert").blocking  # type: ignore[union-attr]
    assert [(x.kind, x.gate, x.status, x.item) for x in b] == [("gate", "no-incident", "fail", "b-incident")]


def test_unknown_gate_with_enough_score_is_near(mini: Framework) -> None:
    r = run(mini, full(b_incident=None))
    assert r.target("cert").readiness == "near"  # type: ignore[union-attr]
    r = run(mini, full(), profile={"is_manufacturing": True})
    assert [x.readiness for x in r.targets] == ["ready", "near"]
    assert [b.profile for b in r.target("award").blocking] == ["years_operating"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "points", "readiness"),
    # 70 points; cert: threshold 70 (percent), margin 10 -> ready from 49 points, near from 42
    [
        ({}, 70, "ready"),
        ({"p_lead": "none"}, 50, "ready"),
        ({"p_lead": "none", "b_std": "drafting"}, 45, "near"),
        ({"p_lead": "none", "p_patents": 0}, 42, "near"),
        ({"p_lead": "none", "p_patents": 0, "b_rate": 50}, 37, "not_ready"),
    ],
)
def test_readiness_bands(mini: Framework, changes: dict[str, object], points: int, readiness: str) -> None:
    fw = dataclasses.replace(mini, targets=(Target("cert", t("c"), (), D(70)),))
    r = run(fw, full(**changes))
    assert r.points == points and r.targets[0].readiness == readiness


def test_ready_exactly_at_threshold_and_near_exactly_at_margin(mini: Framework) -> None:
    answers = full(p_lead="some", p_patents=2)  # 70 - 10 - 4 = 56 points = 80 %

    def readiness(threshold: str) -> str:
        fw = dataclasses.replace(mini, targets=(Target("a", t("a"), (), D(threshold)),))
        r = run(fw, answers)
        assert r.points == 56 and r.percent == 80
        return r.targets[0].readiness

    assert readiness("80") == "ready"
    assert readiness("80.000001") == "near"
    assert readiness("90") == "near"
    assert readiness("90.000001") == "not_ready"
    # on a 1000-point scale: 800, margin 10 on that scale
    fw = dataclasses.replace(mini, scale=D(1000), targets=(Target("a", t("a"), (), D(810)),))
    assert run(fw, answers).targets[0].readiness == "near"
    fw = dataclasses.replace(fw, targets=(Target("a", t("a"), (), D("810.5")),))
    assert run(fw, answers).targets[0].readiness == "not_ready"


def test_blocking_lists_points_short(mini: Framework) -> None:
    r = run(mini, full(p_lead="none", p_patents=0))  # 42 of 70 = 60%
    b = r.target("cert").blocking  # type: ignore[union-attr]
    assert len(b) == 1 and b[0].kind == "score"
    assert b[0].points_short == 7 and b[0].score_short == 10
    assert r.target("cert").readiness == "near"  # type: ignore[union-attr]
    assert r.target("award").readiness == "not_ready"  # type: ignore[union-attr]


# --- gaps


def test_gaps_priority(mini: Framework) -> None:
    answers = full(b_incident=True, b_std="drafting", b_rate=50, p_lead="some", p_patents=None, p_since=None)
    r = run(mini, answers, evidence=frozenset())
    order = [g.item for g in r.gaps]
    # failed gate first; then points per effort cost: p-lead 10/2=5, b-iso 5/1 (evidence), p-since 6/1,
    # b-std 5/2, p-patents 8/4, b-rate 5/4 -> p-since 6, p-lead 5 and b-iso 5 (framework order), ...
    assert (
        order == ["b-incident", "p-since", "b-iso", "p-lead", "b-std", "b-rate", "p-patents"][:1] + order[1:]
    )
    assert order[0] == "b-incident" and r.gaps[0].gates == ("no-incident",) and r.gaps[0].priority == 1
    assert order[1:] == ["p-since", "b-iso", "p-lead", "b-std", "p-patents", "b-rate"]
    assert [g.priority for g in r.gaps] == list(range(1, 8))
    iso = next(g for g in r.gaps if g.item == "b-iso")
    assert iso.points_recoverable == 5 and iso.evidence_missing and iso.action.en == "improve b-iso"
    assert iso.sources[0].quote == "原文 b-iso"


def test_unknown_gate_items_come_after_failed_ones(mini: Framework) -> None:
    fw = dataclasses.replace(
        mini,
        gates=(*mini.gates, Gate("iso", Condition(Op.EQ, True, item="b-iso"), t("iso"))),
        targets=(Target("cert", t("c"), ("no-incident", "iso"), D(70)),),
    )
    r = run(fw, full(b_iso=None, b_incident=True, p_lead="none"))
    assert [g.item for g in r.gaps][:3] == ["b-incident", "b-iso", "p-lead"]
    assert r.gaps[1].gates == ("iso",) and r.gaps[1].unanswered


def test_gaps_skip_full_items(mini: Framework) -> None:
    r = run(mini, full(p_lead="some"))
    assert [g.item for g in r.gaps] == ["p-lead"] and r.gaps[0].points_recoverable == 10


# --- path to ready


def test_path_to_ready(mini: Framework) -> None:
    r = run(mini, {"b-std": "drafting", "b-rate": 50, "b-incident": True}, profile={"years_operating": 3})
    cert = r.path_to_ready["cert"]
    # 10 of 70; need 49: the failed gate's item, then 39 points at least cost:
    # b-iso 10 (1) + p-lead 20 (2) + p-since 6 (1) + p-export 6 (1) = 42 at cost 5
    assert cert == ("b-incident", "b-iso", "p-lead", "p-since", "p-export")
    path = r.paths[0]
    assert path.reachable and path.cost == 6 and path.points_gained == 42
    award = r.paths[1]
    assert award.target == "award" and not award.reachable and award.profile_gates == ("years",)
    assert json.loads(dumps(r))["path_to_ready"]["cert"] == list(cert)


def test_path_unreachable_when_points_cannot_suffice(mini: Framework) -> None:
    fw = dataclasses.replace(mini, targets=(Target("cert", t("c"), (), D(101)),))
    r = run(fw, full(p_lead="none"))
    p = r.paths[0]
    assert not p.reachable and p.items == ("p-lead",) and p.points_gained == 20


def test_ready_targets_have_no_path(mini: Framework) -> None:
    r = run(mini, full(p_lead="none"))  # 50 of 70: cert (70) ready, award (85) not
    assert list(r.path_to_ready) == ["award"]
    assert r.path_to_ready["award"] == ("p-lead",)


def test_path_for_near_target_with_unknown_gate_is_its_item(mini: Framework) -> None:
    r = run(mini, full(b_incident=None))
    assert r.path_to_ready == {"cert": ("b-incident",), "award": ("b-incident",)}


# --- confidence


def test_confidence(mini: Framework) -> None:
    r = run(mini, full(b_std=None, b_rate=None), na={}, evidence=frozenset({"b-iso"}))
    c = r.confidence
    assert (c.applicable, c.answered) == (9, 7)
    assert (c.evidence_asked, c.evidence_given) == (1, 1)  # b-rate (asks) is unanswered
    r = run(mini, full(), evidence=frozenset({"b-rate"}))
    c = r.confidence
    assert (c.evidence_asked, c.evidence_given, c.evidence_percent) == (2, 1, D(50))


# --- comparison


def test_compare(mini: Framework) -> None:
    before = run(mini, full(p_lead="none", b_std="drafting", b_incident=True))  # 45
    after = run(mini, full(p_lead="some", b_std="drafting"))  # 55
    c = compare(before, after)
    assert c.points_delta == 10
    practice = next(s for s in c.sections if s.id == "practice")
    assert (practice.points_before, practice.points_after, practice.points_delta) == (D(20), D(30), D(10))
    lead = next(i for i in c.items if i.id == "p-lead")
    assert lead.points_delta == 10
    assert [(x.id, x.before, x.after, x.change) for x in c.targets] == [
        ("cert", "not_ready", "ready", "improved"),
        ("award", "not_ready", "near", "improved"),  # 78.6 is within 10 of 85
    ]
    d = json.loads(dumps(c))
    assert d["points"] == {"before": 45.0, "after": 55.0, "delta": 10.0}
    assert compare(after, before).targets[0].change == "worsened"


def test_compare_refuses_other_frameworks(mini: Framework) -> None:
    other = dataclasses.replace(mini, id="other")
    with pytest.raises(ValueError, match="cannot compare"):
        compare(run(mini, full()), run(other, full()))


def test_compare_across_versions_marks_missing_items(mini: Framework) -> None:
    v2 = dataclasses.replace(
        mini,
        version="2.0.0",
        sections=(mini.sections[0], dataclasses.replace(mini.sections[1], items=mini.sections[1].items[:-1])),
    )
    c = compare(run(mini, full()), run(v2, full(p_notes=None)))
    notes = next(i for i in c.items if i.id == "p-notes")
    assert notes.status_after is None and notes.points_delta is None
    assert (c.version_before, c.version_after) == ("1.0.0", "2.0.0")


# --- JSON


def test_json_shape_and_rounding(mini: Framework) -> None:
    r = run(mini, {"b-std": "drafting", "b-rate": 50, "b-incident": False})
    d = json.loads(dumps(r))
    assert list(d)[:6] == ["framework", "version", "mode", "as_of", "points", "max_points"]
    for key in ("sections", "gates", "targets", "gaps", "path_to_ready", "unanswered", "confidence"):
        assert key in d
    assert d["percent"] == 14.29 and d["points"] == 10.0 and isinstance(d["points"], float)
    assert d["sections"][0] == {"id": "basic", "points": 10.0, "max_points": 30.0, "percent": 33.33}
    assert set(d["gates"][0]) >= {"id", "status", "item", "sources"}
    assert set(d["targets"][0]) >= {"id", "readiness", "score", "threshold", "blocking"}
    assert set(d["gaps"][0]) >= {"item", "points_recoverable", "priority", "action", "sources"}
    assert d["gaps"][0]["action"] == {"zh": "中文：improve b-iso", "en": "improve b-iso"}
    text = dumps(r)
    assert "中文" in text and "\\u" not in text  # ensure_ascii=False
    assert dumps(r) == dumps(r.to_dict())


def test_rounding_is_half_up_on_two_places() -> None:
    from scoring.engine import num

    assert num(D("0.125")) == 0.13 and num(D("2.675")) == 2.68 and num(D("-0.001")) == 0.0
    assert json.dumps(num(D("1") / 3 * 100)) == "33.33"


# --- refusals and purity


def test_score_refuses_invalid_input(mini: Framework) -> None:
    with pytest.raises(InvalidSubmission) as exc:
        score(mini, sub({"b-rate": 101, "nope": 1}))
    assert [(p.item, p.code) for p in exc.value.problems] == [
        ("b-rate", "out_of_range"),
        ("nope", "unknown_item"),
    ]


def test_framework_with_dangling_reference_is_refused(mini: Framework) -> None:
    fw = dataclasses.replace(mini, targets=(Target("x", t("x"), ("no-such-gate",), D(1)),))
    with pytest.raises(FrameworkError, match="no-such-gate"):
        score(fw, Submission())
    fw = dataclasses.replace(
        mini, gates=(Gate("g", Condition(Op.EQ, True, item="ghost"), t("g")),), targets=()
    )
    with pytest.raises(FrameworkError, match="ghost"):
        score(fw, Submission())


def test_callers_decimal_context_does_not_matter(mini: Framework) -> None:
    answers = full(p_lead="some", b_std="drafting")
    expected = dumps(run(mini, answers))
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = "ROUND_DOWN"
        assert dumps(run(mini, answers)) == expected


def test_equal_framework_object_with_same_id_gets_its_own_tables(mini: Framework) -> None:
    run(mini, full())
    fw = replace_item(mini, "b-std", max_points=D(40), options=(Option("published", t("p"), D(40)),))
    assert run(fw, full()).max_points == 100


# --- reference answers


def test_ideal_and_zero_answers(mini: Framework) -> None:
    ideal = {i.id: ideal_answer(mini, i, as_of=AS_OF) for i in mini.items}
    zero = {i.id: zero_answer(mini, i.id, as_of=AS_OF) for i in mini.items}
    assert ideal["b-iso"] is True and zero["b-iso"] is False
    assert ideal["b-incident"] is False and zero["b-incident"] is True  # gate items: passing / failing
    assert ideal["b-std"] == "published" and zero["b-std"] == "none"
    assert ideal["p-lead"] == "full" and zero["p-lead"] == "none"
    assert ideal_answer(mini, "p-lead", mode="full", as_of=AS_OF) == "100"
    assert ideal["b-rate"] == 65 and zero["b-rate"] == 0
    assert ideal["p-since"] == "2023-11-22" and zero["p-since"] == "2026-11-22"
    assert isinstance(ideal["p-notes"], str) and ideal["p-notes"] and zero["p-notes"] == ""
    r = run(mini, ideal, evidence=frozenset(mini._index))
    assert r.points == r.max_points == 70
    r = run(mini, zero)
    assert r.points == 0 and all(x.readiness == "not_ready" for x in r.targets)


def test_reference_answers_need_as_of_for_dates(mini: Framework) -> None:
    with pytest.raises(ValueError, match="as_of"):
        ideal_answer(mini, "p-since")
    with pytest.raises(ValueError, match="no item"):
        zero_answer(mini, "ghost")
    fw = replace_item(mini, "p-lead", scales=(("full", "adli"),))
    with pytest.raises(ValueError, match="no scale"):
        ideal_answer(fw, "p-lead", mode="quick")


def test_ideal_number_honours_a_gate_threshold(mini: Framework) -> None:
    fw = dataclasses.replace(
        mini,
        gates=(*mini.gates, Gate("rate", Condition(Op.GTE, D("90.5"), item="b-rate"), t("rate"))),
    )
    v = ideal_answer(fw, "b-rate")
    assert isinstance(v, (int, float)) and v >= 90.5
    z = zero_answer(fw, "b-rate")
    assert isinstance(z, (int, float)) and z < 30


def test_ideal_answer_passes_the_gate_before_earning_points(mini: Framework) -> None:
    # a 5-point yes/no whose gate passes on "no": the ideal answer passes the gate; the zero answer
    # earns 0 first (here "no", which passes), failing the gate only among 0-point answers
    fw = replace_item(mini, "b-incident", max_points=D(5))
    assert ideal_answer(fw, "b-incident") is False
    assert zero_answer(fw, "b-incident") is False
    assert zero_answer(mini, "b-incident") is True  # 0 points either way: the failing one


def test_a_mode_may_cap_a_scale_below_full_points(mini: Framework) -> None:
    """docs/frameworks.md: a quick mode may never give the top band; full points stay the denominator."""
    capped = Scale(
        "four",
        t("capped four-step"),
        (Level("none", D(0), t("none")), Level("some", D(50), t("some")), Level("most", D(75), t("most"))),
    )
    fw = dataclasses.replace(mini, scales=(capped, mini.scales[1]))
    r = run(fw, full(p_lead="most"))
    assert pts(r, "p-lead") == 15 and r.max_points == 70 and r.points == 65
    assert all(g.item != "p-lead" for g in r.gaps)  # nothing more to gain in this mode
    assert ideal_answer(fw, "p-lead") == "most"
    r = run(fw, full(p_lead="some"))
    gap = next(g for g in r.gaps if g.item == "p-lead")
    assert gap.points_recoverable == 5  # up to 75 %, not to 100 %
    fw2 = dataclasses.replace(fw, targets=(Target("x", t("x"), (), D(95)),))
    path = run(fw2, full(p_lead="some")).paths[0]
    assert path.items == ("p-lead",) and not path.reachable  # 65 of 70 at best: 92.9 < 95
    assert run(fw2, full(p_lead="100"), mode="full").targets[0].readiness == "ready"
