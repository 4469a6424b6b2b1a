"""品字标 1.1.0 (issue 16): the core management requirements decide, the firm's own tests are not the
certification test, production abroad is no bar, the standard-development steps are items, the
lines are QReady estimates said as such."""

from __future__ import annotations

from scoring_synth import AS_OF

from assessments.loader import load_framework
from scoring import Submission, ideal_answer, score
from scoring.model import Framework

ZHEJIANG = {"region": "330106", "city": "330100", "registered_in_zhejiang": True, "years_operating": 20}
NO_SYSTEMS = {
    "pzb-iso9001": False,
    "pzb-iso14001": False,
    "pzb-iso45001": False,
    "pzb-pe-self-evaluation": False,
    "pzb-cqo": False,
}


def pzb(version: str | None = None) -> Framework:
    return load_framework("pinzibiao", version)


def run(fw: Framework, **changes: object):  # type: ignore[no-untyped-def]
    answers = {i.id: ideal_answer(fw, i, as_of=AS_OF) for i in fw.items}
    answers.update({k: v for k, v in changes.items() if fw.item(k) is not None})
    return score(fw, Submission(answers=answers, evidence=frozenset(answers), as_of=AS_OF, profile=ZHEJIANG))


def test_a_firm_without_the_management_systems_is_not_likely_to_pass() -> None:
    old = run(pzb("1.0.0"), **NO_SYSTEMS)
    assert old.target("pinzibiao-certification").readiness == "ready"  # type: ignore[union-attr]  # the defect, kept in 1.0.0
    assert old.score >= 85
    new = run(pzb(), **NO_SYSTEMS)
    cert = new.target("pinzibiao-certification")
    assert cert is not None and cert.readiness == "not_ready"
    assert {b.gate for b in cert.blocking if b.kind == "gate"} == {"quality-system", "pe-self-evaluated"}
    assert (
        new.score < old.score - 8
    )  # the core requirements weigh more: 10 + 5 + 5 + 6 points, not 5 + 2 + 2 + 3


def test_the_firms_own_tests_are_not_the_certification_test() -> None:
    assert (
        run(pzb("1.0.0"), **{"pzb-type-test": "in-house-pass"}).target("pinzibiao-certification").readiness
        == "ready"
    )  # type: ignore[union-attr]
    r = run(pzb(), **{"pzb-type-test": "in-house-pass"})
    assert r.gate("product-test-passed").status == "fail"  # type: ignore[union-attr]
    assert r.target("pinzibiao-certification").readiness != "ready"  # type: ignore[union-attr]


def test_production_outside_zhejiang_is_no_bar() -> None:
    """The consultancy summary asks for 总部在浙江; the alliance certified a Belgian factory in 2017."""
    old = run(pzb("1.0.0"), **{"pzb-made-in-zhejiang": False})
    assert old.target("pinzibiao-certification").readiness == "not_ready"  # type: ignore[union-attr]
    fw = pzb()
    assert fw.item("pzb-made-in-zhejiang") is None and fw.gate_by_id("made-in-zhejiang") is None
    assert run(fw).target("pinzibiao-certification").readiness == "ready"  # type: ignore[union-attr]


def test_the_standard_development_steps_are_items() -> None:
    fw = pzb()
    steps = ["pzb-std-approved", "pzb-std-drafted", "pzb-std-advancement", "pzb-std-reviewed"]
    drafting = run(fw, **{"pzb-zj-standard": "drafting", **dict.fromkeys(steps, False)})
    assert [drafting.item(s).status for s in steps] == ["answered"] * 4  # type: ignore[union-attr]
    assert {g.item for g in drafting.gaps} >= set(steps)
    published = run(fw)
    assert [published.item(s).status for s in steps] == ["not_applicable"] * 4  # type: ignore[union-attr]


def test_the_lines_are_estimates_and_every_condition_has_a_rule() -> None:
    fw = pzb()
    assert all(t.rule is not None and t.rule.is_assumption for t in fw.targets)
    assert all(g.rule is not None for g in fw.gates)
    assert fw.gate_by_id("no-major-incident").rule.is_assumption  # type: ignore[union-attr]  # the 3 years


def std(version: str | None = None) -> Framework:
    return load_framework("standards-adoption", version)


def test_a_province_wide_adoption_target_is_no_pass_fail_line_for_one_firm() -> None:
    """Seed 003's 65 % is the province's 2020 target for 规上 firms: 1.1.0 scores it in bands, no gate."""
    old = run(std("1.0.0"), **{"std-adoption-rate": 50})
    assert old.target("standards-benchmark").readiness != "ready"  # type: ignore[union-attr]
    new = run(std(), **{"std-adoption-rate": 50})
    assert new.target("standards-benchmark").readiness == "ready"  # type: ignore[union-attr]
    assert new.item("std-adoption-rate").points < new.item("std-adoption-rate").max_points  # type: ignore[union-attr]


def test_every_instrument_used_for_inspection_is_calibrated() -> None:
    """calibration-95 was invented; GB/T 19001 7.1.5 expects every instrument used for conformity calibrated."""
    assert (
        run(std("1.0.0"), **{"std-calibration-coverage": 96}).target("measurement-compliance").readiness
        == "ready"
    )  # type: ignore[union-attr]
    r = run(std(), **{"std-calibration-coverage": 96})
    assert r.target("measurement-compliance").readiness == "not_ready"  # type: ignore[union-attr]
    assert r.gate("calibration-all").status == "fail"  # type: ignore[union-attr]
    assert std().gate_by_id("calibration-95") is None


def test_the_other_frameworks_show_their_lines_as_estimates() -> None:
    for fid in ("chief-quality-officer", "labelling-four-100", "standards-adoption"):
        fw = load_framework(fid)
        assert fw.version == "1.1.0"
        assert all(g.rule is not None for g in fw.gates), fid
        assert all(t.rule is not None for t in fw.targets), fid
    cqo = load_framework("chief-quality-officer")
    assert cqo.targets[0].rule.is_assumption  # type: ignore[union-attr]  # the 75 line
    levels = cqo.item("cqo-qualification") or next(i for i in cqo.items if "漳州" in i.help.zh)
    assert "各地" not in levels.help.zh and "仅作参考" in levels.help.zh
