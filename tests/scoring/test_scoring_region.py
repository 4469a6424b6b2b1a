"""Targets limited to a region: a firm registered elsewhere is not measured against them.

The 绍兴市市长质量奖 is for firms registered in Shaoxing (its gate `registered-in-shaoxing`, city
330600). A Hangzhou firm must get "not applicable: outside the region" for it, never a failed gate.
"""

from __future__ import annotations

import json

from scoring_synth import ideal_submission, zero_submission

from assessments.loader import load_framework
from scoring import compare, dumps, score

HANGZHOU = {"region": "330106", "city": "330100", "registered_in_zhejiang": True, "years_operating": 20}
SHAOXING = {"region": "330602", "city": "330600", "registered_in_zhejiang": True, "years_operating": 20}
SHAOXING_ONLY_GATES = {
    "registered-in-shaoxing",
    "operating-3-years",
    "iso9001-certified",
    "iso14001-certified",
    "no-losses-3y",
    "no-failed-spot-check",
}


def pe():  # type: ignore[no-untyped-def]
    return load_framework("performance-excellence", "1.0.0")


def test_the_region_of_a_target_comes_from_its_location_gate() -> None:
    regions = {t.id: t.region for t in pe().targets}
    assert regions == {
        "award-hangzhou-municipal": ("3301",),
        "award-shaoxing-mayor": ("3306",),
        "award-zhejiang-provincial": ("33",),
        "award-china-quality-nomination": (),
    }
    assert {t.id: t.region for t in load_framework("pinzibiao").targets} == {
        "pinzibiao-application": ("33",),
        "pinzibiao-certification": ("33",),
    }


def test_a_firm_outside_the_region_gets_not_applicable_never_a_failure() -> None:
    fw = pe()
    r = score(fw, zero_submission(fw, "quick", HANGZHOU))
    shaoxing = r.target("award-shaoxing-mayor")
    assert shaoxing is not None
    assert (shaoxing.readiness, shaoxing.reason, shaoxing.region) == (
        "not_applicable",
        "outside_region",
        ("3306",),
    )
    assert shaoxing.blocking == () and not shaoxing.applicable
    assert "award-shaoxing-mayor" not in r.path_to_ready
    # the gates only the Shaoxing award uses decide nothing for this firm
    for gid in SHAOXING_ONLY_GATES:
        g = r.gate(gid)
        assert g is not None and (g.status, g.reason) == ("not_applicable", "outside_region"), g
    assert all(not set(g.gates) & SHAOXING_ONLY_GATES for g in r.gaps)
    # the firm's own city award keeps its normal verdict, with its failed gates
    hangzhou = r.target("award-hangzhou-municipal")
    assert hangzhou is not None and hangzhou.readiness == "not_ready" and hangzhou.reason is None
    assert r.gate("registered-in-hangzhou").status == "pass"  # type: ignore[union-attr]
    assert r.gate("no-major-incident").status == "fail"  # type: ignore[union-attr]  # also Hangzhou's
    data = json.loads(dumps(r))
    by_id = {t["id"]: t for t in data["targets"]}
    assert by_id["award-shaoxing-mayor"]["readiness"] == "not_applicable"
    assert by_id["award-shaoxing-mayor"]["reason"] == "outside_region"
    assert by_id["award-shaoxing-mayor"]["region"] == ["3306"]
    assert by_id["award-hangzhou-municipal"]["reason"] is None


def test_a_firm_inside_the_region_gets_the_normal_verdict() -> None:
    fw = pe()
    r = score(fw, ideal_submission(fw, "full", SHAOXING))
    assert r.target("award-shaoxing-mayor").readiness == "ready"  # type: ignore[union-attr]
    assert r.target("award-zhejiang-provincial").readiness == "ready"  # type: ignore[union-attr]
    assert r.target("award-hangzhou-municipal").readiness == "not_applicable"  # type: ignore[union-attr]
    low = score(fw, zero_submission(fw, "quick", SHAOXING))
    t = low.target("award-shaoxing-mayor")
    assert t is not None and t.readiness == "not_ready"
    assert {b.gate for b in t.blocking if b.kind == "gate"} >= {"iso14001-certified", "no-losses-3y"}
    assert "award-shaoxing-mayor" in low.path_to_ready


def test_a_county_of_the_city_is_inside_and_a_firm_outside_zhejiang_is_outside_everything() -> None:
    fw = pe()
    county = {**SHAOXING, "region": "330681"}  # 诸暨市
    assert (
        score(fw, zero_submission(fw, "quick", county)).target("award-shaoxing-mayor").readiness
        == "not_ready"
    )  # type: ignore[union-attr]
    shanghai = {"region": "310104", "city": None, "registered_in_zhejiang": False}
    r = score(fw, zero_submission(fw, "quick", shanghai))
    assert [t.readiness for t in r.targets] == ["not_applicable"] * 3 + ["not_ready"]


def test_without_a_region_the_target_is_scored_as_before() -> None:
    """A profile naming no place (the CLI without --profile): the location gate is unknown, as it was."""
    fw = pe()
    r = score(fw, ideal_submission(fw, "full", {"years_operating": 20}))
    t = r.target("award-shaoxing-mayor")
    assert t is not None and t.readiness == "near"
    assert [(b.gate, b.status) for b in t.blocking] == [("registered-in-shaoxing", "unknown")]
    assert r.gate("registered-in-shaoxing").status == "unknown"  # type: ignore[union-attr]


def test_comparison_across_a_move() -> None:
    fw = pe()
    before = score(fw, zero_submission(fw, "quick", HANGZHOU))
    after = score(fw, zero_submission(fw, "quick", SHAOXING))
    change = {c.id: c.change for c in compare(before, after).targets}
    assert change["award-shaoxing-mayor"] == "added" and change["award-hangzhou-municipal"] == "removed"
    same = {c.id: c.change for c in compare(before, before).targets}
    assert same["award-shaoxing-mayor"] == "unchanged"


# ---- the scope declared in the file (1.1.1) ------------------------------------------------------

SHANGHAI = {"region": "310104", "city": "310100", "registered_in_zhejiang": False, "years_operating": 20}
SCOPES = {
    "performance-excellence": {
        "award-hangzhou-municipal": ("3301",),
        "award-shaoxing-mayor": ("3306",),
        "award-zhejiang-provincial": ("33",),
        "award-china-quality-nomination": (),
    },
    "pinzibiao": {"pinzibiao-application": ("33",), "pinzibiao-certification": ("33",)},
}


def test_1_1_1_declares_each_targets_scope_in_its_file() -> None:
    """The region is data of 1.1.1 (`region:` beside the target's rule), not read from its gates; 1.0.0
    and 1.1.0 keep the scope derived from their location gates."""
    import yaml

    from assessments.loader import default_root

    for fid, scopes in SCOPES.items():
        raw = yaml.safe_load((default_root() / fid / "1.1.1.yaml").read_text(encoding="utf-8"))
        declared = {t["id"]: tuple(t.get("region", ())) for t in raw["targets"]}
        assert declared == scopes
        for version in ("1.0.0", "1.1.0", "1.1.1"):
            assert {t.id: t.region for t in load_framework(fid, version).targets} == scopes, (fid, version)
        old = yaml.safe_load((default_root() / fid / "1.1.0.yaml").read_text(encoding="utf-8"))
        assert not any("region" in t for t in old["targets"])  # released bytes unchanged


def test_the_declared_scope_scores_as_the_derived_one() -> None:
    """1.1.1 only declares what 1.1.0 derived: every firm (inside, outside, unknown place) gets the
    same result, so an assessment kept on 1.1.0 re-scores as before and a new round changes nothing."""
    for fid in SCOPES:
        old, new = load_framework(fid, "1.1.0"), load_framework(fid, "1.1.1")
        for profile in (HANGZHOU, SHAOXING, SHANGHAI, {"years_operating": 20}):
            for mode in [m.id for m in new.modes]:
                for make in (ideal_submission, zero_submission):
                    a = json.loads(dumps(score(old, make(old, mode, profile))))
                    b = json.loads(dumps(score(new, make(new, mode, profile))))
                    assert a.pop("version") == "1.1.0" and b.pop("version") == "1.1.1"
                    assert a == b, (fid, mode, profile, make.__name__)
    newest = load_framework("performance-excellence")
    r = score(newest, ideal_submission(newest, "full", SHAOXING))
    hangzhou = r.target("award-hangzhou-municipal")
    assert hangzhou is not None and (hangzhou.readiness, hangzhou.region) == ("not_applicable", ("3301",))
