"""Award rules of performance-excellence 1.1.0 (issue 16): quick mode is a screening, the year rules
read the adoption and founding dates, Hangzhou, the China Quality Award, Shaoxing and the province
follow their documents, and every target and gate says where it comes from. 1.0.0 stays as it was."""

from __future__ import annotations

import datetime

from scoring_synth import AS_OF

from assessments.loader import load_framework
from scoring import Submission, score
from scoring.model import AnswerType, Framework
from scoring.values import years_before

HANGZHOU = {
    "region": "330106",
    "city": "330100",
    "registered_in_zhejiang": True,
    "years_operating": 20,
    "founded_on": "2006-01-01",
    "above_scale": True,
    "is_manufacturing": True,
}
ELIGIBLE = {
    "pe-elig-pe-since": "2015-03-01",
    "pe-elig-hz-sector": "other",
    "pe-elig-pe-self-evaluation": True,
    "pe-elig-pe-3-years": True,  # 1.0.0 only
    "pe-elig-major-incident": False,
    "pe-elig-major-incident-5y": False,
    "pe-elig-serious-dishonesty": False,
    "pe-elig-iso9001": True,
    "pe-elig-iso14001": True,
    "pe-elig-no-losses": True,
    "pe-elig-spot-check": False,
    "pe-elig-major-complaint": False,
    "pe-elig-mujun": "a",
    "pe-elig-sector-leader": True,
    "pe-elig-market-leader": True,  # 1.0.0 only
    "pe-elig-city-leader": True,
    "pe-elig-hz-pool": True,
    "pe-elig-licences": "held",
    "pe-elig-intl-leader": True,
    "pe-elig-quality-model": True,
}


def pe(version: str | None = None) -> Framework:
    return load_framework("performance-excellence", version)


def answers(fw: Framework, mode: str, process: str, results: str, **elig: object) -> dict[str, object]:
    """Eligible on every condition, each process item at `process` and each result item at `results`."""
    out: dict[str, object] = {k: v for k, v in {**ELIGIBLE, **elig}.items() if fw.item(k) is not None}
    for item in fw.items:
        if item.answer_type is AnswerType.SCALE:
            out[item.id] = results if item.id.startswith("pe-47") else process
    return {k: v for k, v in out.items() if v is not None}


def run(
    fw: Framework,
    mode: str,
    process: str,
    results: str,
    profile: dict[str, object] | None = None,
    **elig: object,
):  # type: ignore[no-untyped-def]
    a = answers(fw, mode, process, results, **elig)
    return score(
        fw, Submission(answers=a, evidence=frozenset(a), mode=mode, as_of=AS_OF, profile=profile or HANGZHOU)
    )


def test_the_newest_version_is_1_1_1_and_1_0_0_and_1_1_0_are_kept() -> None:
    assert pe().version == "1.1.1"  # 1.1.0 with each award's region scope declared (issue 16)
    assert pe("1.0.0").version == "1.0.0" and pe("1.1.0").version == "1.1.0"


def test_quick_mode_is_a_screening_never_ready() -> None:
    """ "Most areas" on every process item and "throughout" on results made a firm "ready" for Hangzhou,
    the province and the China Quality Award in 1.0.0; 1.1.0 says only "worth a full self-evaluation"."""
    old = run(pe("1.0.0"), "quick", "most", "throughout")
    assert old.target("award-hangzhou-municipal").readiness == "ready"  # type: ignore[union-attr]  # the defect, kept in 1.0.0
    new = run(pe(), "quick", "most", "throughout")
    assert new.screening
    bands = {t.id: t.readiness for t in new.targets}
    assert "ready" not in bands.values()
    assert bands["award-hangzhou-municipal"] == "worth_full_evaluation"
    assert bands["award-shaoxing-mayor"] == "not_applicable"
    low = run(pe(), "quick", "some", "some")
    assert {t.readiness for t in low.targets if t.applicable} == {"not_yet"}


def test_only_the_full_mode_gives_a_verdict() -> None:
    full = run(pe(), "full", "70", "70")
    assert not full.screening
    assert full.target("award-hangzhou-municipal").readiness == "ready"  # type: ignore[union-attr]
    assert full.target("award-china-quality-nomination").readiness == "ready"  # type: ignore[union-attr]


def test_hangzhou_needs_three_years_of_performance_excellence_read_from_the_date() -> None:
    """A firm that adopted the model last June was "ready" for Hangzhou: the rule is 满3年 (杭政办函〔2022〕48号)."""
    last_june = datetime.date(AS_OF.year - 1, 6, 1).isoformat()
    r = run(pe(), "full", "70", "70", **{"pe-elig-pe-since": last_june})
    hz = r.target("award-hangzhou-municipal")
    assert hz is not None and hz.readiness == "not_ready"
    assert ("gate", "hz-pe-3-years", "fail") in [(b.kind, b.gate, b.status) for b in hz.blocking]
    assert r.gate("pe-3-years").status == "fail"  # type: ignore[union-attr]  # the province reads the same date
    # exactly three years ago: passes
    r = run(pe(), "full", "70", "70", **{"pe-elig-pe-since": years_before(AS_OF, 3).isoformat()})
    assert r.target("award-hangzhou-municipal").readiness == "ready"  # type: ignore[union-attr]
    # digital economy, life and health, agriculture: exempt from the three years
    r = run(pe(), "full", "70", "70", **{"pe-elig-pe-since": last_june, "pe-elig-hz-sector": "life-health"})
    assert r.gate("hz-pe-3-years").status == "pass"  # type: ignore[union-attr]
    assert r.target("award-hangzhou-municipal").readiness == "ready"  # type: ignore[union-attr]
    assert r.target("award-zhejiang-provincial").readiness == "not_ready"  # type: ignore[union-attr]  # no exemption there


def test_the_yes_no_duplicate_of_the_adoption_date_is_gone() -> None:
    assert pe("1.0.0").item("pe-elig-pe-3-years") is not None
    assert pe().item("pe-elig-pe-3-years") is None
    assert pe().gate_by_id("pe-3-years").passes_if.item == "pe-elig-pe-since"  # type: ignore[union-attr]


def test_hangzhou_city_leaders_and_the_cultivation_pool() -> None:
    r = run(pe(), "full", "70", "70", **{"pe-elig-city-leader": False})
    assert r.target("award-hangzhou-municipal").readiness == "not_ready"  # type: ignore[union-attr]
    r = run(pe(), "full", "70", "70", **{"pe-elig-hz-pool": False})
    assert r.target("award-hangzhou-municipal").readiness == "not_ready"  # type: ignore[union-attr]
    rule = pe().gate_by_id("hz-pe-3-years").rule  # type: ignore[union-attr]
    assert rule is not None and rule.document is not None and "杭政办函〔2022〕48号" in rule.document
    assert all("〔2023〕48号" not in str(s) for g in pe().gates for s in (*g.sources, g.rule))


def test_the_founding_date_decides_the_years_of_operation() -> None:
    young = {**HANGZHOU, "founded_on": years_before(AS_OF, 4).isoformat(), "years_operating": 4}
    r = run(pe(), "full", "70", "70", profile=young)
    assert r.gate("hz-operating-5-years").status == "fail"  # type: ignore[union-attr]
    assert r.target("award-hangzhou-municipal").readiness == "not_ready"  # type: ignore[union-attr]


def test_china_quality_award_follows_order_36() -> None:
    """Five years without a major incident, 国际领先, a mature model worth spreading (市场监管总局令第36号)."""
    r = run(pe(), "full", "70", "70", **{"pe-elig-major-incident-5y": True})
    cqa = r.target("award-china-quality-nomination")
    assert cqa is not None and cqa.readiness == "not_ready"
    assert [b.gate for b in cqa.blocking] == ["cqa-no-major-incident-5y"]
    for item in ("pe-elig-intl-leader", "pe-elig-quality-model"):
        r = run(pe(), "full", "70", "70", **{item: False})
        assert r.target("award-china-quality-nomination").readiness == "not_ready"  # type: ignore[union-attr]
    rule = pe().gate_by_id("cqa-intl-leader").rule  # type: ignore[union-attr]
    assert rule is not None and rule.document == "市场监管总局令第36号（中国质量奖管理办法）"
    assert rule.in_force_from == "2021-05-01" and rule.unconfirmed is not None


SHAOXING = {**HANGZHOU, "region": "330602", "city": "330600"}


def test_shaoxing_extra_conditions_are_gates_flagged_unconfirmed() -> None:
    assert run(pe(), "full", "70", "70", profile=SHAOXING).target("award-shaoxing-mayor").readiness == "ready"  # type: ignore[union-attr]
    for elig in (
        {"pe-elig-licences": "missing"},
        {"pe-elig-sector-leader": False},
        {"pe-elig-pe-since": None},
    ):
        r = run(pe(), "full", "70", "70", profile=SHAOXING, **elig)
        assert r.target("award-shaoxing-mayor").readiness != "ready", elig  # type: ignore[union-attr]
    for gid in ("sx-licences", "sx-province-leader", "sx-pe-in-use"):
        rule = pe().gate_by_id(gid).rule  # type: ignore[union-attr]
        assert (
            rule is not None
            and "绍政发〔2012〕23号" in (rule.document or "")
            and rule.unconfirmed is not None
        )


def test_every_line_and_condition_names_its_document_or_is_an_assumption() -> None:
    fw = pe()
    for x in (*fw.gates, *fw.targets):
        assert x.rule is not None, x.id
        assert (x.rule.document is not None) != (x.rule.assumption is not None), x.id
    province = fw.gate_by_id("registered-in-zhejiang").rule  # type: ignore[union-attr]
    assert (
        province is not None
        and province.unconfirmed is not None
        and "浙政办发〔2025〕32号" in province.unconfirmed.zh
    )
    lines = {t.id: t.rule for t in fw.targets}
    for tid in ("award-shaoxing-mayor", "award-zhejiang-provincial", "award-china-quality-nomination"):
        assert lines[tid] is not None and lines[tid].is_assumption  # type: ignore[union-attr]
    assert lines["award-hangzhou-municipal"].unconfirmed is not None  # type: ignore[union-attr]  # the 2025 draft
