"""The engine's properties on every shipped framework (as `assessments.loader.load_all` loads them)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_props import ALL_CHECKS, apply_path, assert_path_promise
from scoring_synth import AS_OF, attainable, ideal_submission, passing_profile, zero_submission

from assessments.loader import load_all
from scoring import Submission, dumps, ideal_answer, score, validate, zero_answer
from scoring.model import AnswerType, Framework
from scoring.tables import tables_for

SHIPPED = {f"{fw.id}@{fw.version}": fw for fw in load_all()}
# Tests take the key, not the framework: Hypothesis prints the arguments of a failing example, and a
# framework's repr is hundreds of kB (which Hypothesis warns about, and warnings are errors here).
IDS = list(SHIPPED)
PER_FRAMEWORK = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_frameworks_are_shipped() -> None:
    assert SHIPPED, "assessments.loader.load_all() found no framework"


@pytest.mark.parametrize("key", IDS)
@pytest.mark.parametrize("check", ALL_CHECKS, ids=[c.__name__ for c in ALL_CHECKS])
@PER_FRAMEWORK
@given(data=st.data())
def test_property_on_shipped_framework(
    check: Callable[[Framework, st.DataObject], None], key: str, data: st.DataObject
) -> None:
    check(SHIPPED[key], data)


@pytest.mark.parametrize("key", IDS)
def test_reference_answers_of_every_item(key: str) -> None:
    fw = SHIPPED[key]
    """Every item's ideal answer earns its full points (the most its mode allows), its zero answer none."""
    for mode in fw.modes:
        ideal = ideal_submission(fw, mode.id)
        zero = zero_submission(fw, mode.id)
        assert validate(fw, ideal) == [] and validate(fw, zero) == []
        r_ideal, r_zero = score(fw, ideal), score(fw, zero)
        for item in fw.items:
            a, b = r_ideal.item(item.id), r_zero.item(item.id)
            assert a is not None and b is not None
            if a.applicable:
                best = attainable(fw, item.id, mode.id)  # a mode may cap a scale item below 100 %
                assert a.points == best, (item.id, ideal_answer(fw, item, mode=mode.id, as_of=AS_OF))
            if b.applicable:
                assert b.points == 0, (item.id, zero_answer(fw, item, mode=mode.id, as_of=AS_OF))
            if item.answer_type is AnswerType.TEXT:
                assert a.max_points == 0
        assert dumps(r_ideal) == dumps(score(fw, ideal))


def _starting_points(fw: Framework, mode: str) -> dict[str, Submission]:
    """Answer sets a path to ready starts from: nothing, all zero, demo-like mixes, controlling items "no"."""
    t = tables_for(fw)
    items = [
        i
        for i in fw.items
        if not (i.answer_type is AnswerType.SCALE and mode not in t.by_id[i.id].level_points)
    ]
    m = None if mode == fw.default_mode else mode
    zero = {i.id: zero_answer(fw, i, mode=mode, as_of=AS_OF) for i in items}
    ideal = {i.id: ideal_answer(fw, i, mode=mode, as_of=AS_OF) for i in items}
    controlling = {i.id for i in items if i.id in t.referenced}
    out = {
        "nothing": Submission(answers={}, mode=m, as_of=AS_OF),
        "all zero": Submission(answers=zero, mode=m, as_of=AS_OF),
        "controlling no, rest open": Submission(
            answers={k: v for k, v in zero.items() if k in controlling}, mode=m, as_of=AS_OF
        ),
        "controlling no, rest ideal": Submission(
            answers={**ideal, **{k: zero[k] for k in controlling}},
            evidence=frozenset(ideal),
            mode=m,
            as_of=AS_OF,
        ),
    }
    for seed in range(4):  # like the demo firm: some items at their best, the others at zero or open
        rng = random.Random(seed)
        answers: dict[str, object] = {}
        for i in items:
            roll = rng.random()
            if roll < 0.45:
                answers[i.id] = ideal[i.id]
            elif roll < 0.85:
                answers[i.id] = zero[i.id]
        evidence = frozenset(i.id for i in items if rng.random() < 0.6)
        out[f"demo-like {seed}"] = Submission(answers=answers, evidence=evidence, mode=m, as_of=AS_OF)
    return out


@pytest.mark.parametrize("key", IDS)
def test_path_to_ready_keeps_its_promise(key: str) -> None:
    """In every mode, from each starting answer set and with a profile meeting the profile gates or none:
    answering what the path says gives the announced score, maximum and readiness."""
    fw = SHIPPED[key]
    for mode in fw.modes:
        for name, sub in _starting_points(fw, mode.id).items():
            for profile in ({}, passing_profile(fw)):
                start = Submission(
                    answers=sub.answers, evidence=sub.evidence, profile=profile, mode=sub.mode, as_of=AS_OF
                )
                try:
                    assert_path_promise(fw, start)
                except AssertionError as e:
                    raise AssertionError(f"{key} {mode.id} {name} {profile}: {e}") from e


def test_chief_quality_officer_path_brings_the_items_a_cqo_switches_on() -> None:
    """A firm without a CQO (issue 14): appointing one switches nine items on, unanswered. The path must
    include what those items need for 75 of the larger maximum, and doing it must make the firm ready."""
    fw = next(f for f in SHIPPED.values() if f.id == "chief-quality-officer")
    sub = Submission(answers={"cqo-appointed": False}, as_of=AS_OF)
    r = score(fw, sub)
    (path,) = r.paths
    done = score(fw, apply_path(fw, sub, path))
    assert done.target("cqo-system-established").readiness == "ready"  # type: ignore[union-attr]
    assert path.reachable and done.score == path.score_after >= 75
    assert path.items[0] == "cqo-appointed"
    assert path.items != ("cqo-appointed", "cqo-chief-standards-engineer")  # the broken promise: 28/100
    assert len(path.switched_on) == 9 and path.max_points_after == 100
    assert len(set(path.items) & set(path.switched_on)) >= 5


def test_labelling_target_reachable_through_certification() -> None:
    """A firm without the certificate: getting it switches on the four 100 % items, so the target is
    reachable (issue 14: it was reported unreachable, gains measured against today's maximum of 0)."""
    fw = next(f for f in SHIPPED.values() if f.id == "labelling-four-100")
    sub = Submission(answers={"lab-certified": False}, as_of=AS_OF)
    (path,) = score(fw, sub).paths
    assert path.reachable and path.items[0] == "lab-certified"
    done = score(fw, apply_path(fw, sub, path))
    assert done.target("four-100-complete").readiness == "ready"  # type: ignore[union-attr]
