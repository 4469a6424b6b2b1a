"""The engine's properties on every shipped framework (as `assessments.loader.load_all` loads them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_props import ALL_CHECKS
from scoring_synth import AS_OF, attainable, ideal_submission, zero_submission

from assessments.loader import load_all
from scoring import dumps, ideal_answer, score, validate, zero_answer
from scoring.model import AnswerType, Framework

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
