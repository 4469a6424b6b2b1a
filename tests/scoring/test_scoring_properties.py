"""Property tests of the engine over random synthetic frameworks (see scoring_synth.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_props import ALL_CHECKS
from scoring_synth import frameworks

from scoring.model import Framework

SYNTHETIC = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=[c.__name__ for c in ALL_CHECKS])
@SYNTHETIC
@given(data=st.data())
def test_property_on_synthetic_frameworks(
    check: Callable[[Framework, st.DataObject], None], data: st.DataObject
) -> None:
    fw = data.draw(frameworks())
    check(fw, data)
