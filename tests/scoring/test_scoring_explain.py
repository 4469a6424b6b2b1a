"""`explain=False` (used by `flask rescore`) gives the same numbers and verdicts, without gaps or paths."""

from __future__ import annotations

import datetime as dt
import random

import pytest

import scoring
from assessments.loader import load_all

AS_OF = dt.date(2026, 11, 22)


@pytest.mark.parametrize("fw", load_all(), ids=lambda f: f.id)
def test_headline_numbers_do_not_depend_on_explain(fw):
    rng = random.Random(fw.id)
    for _ in range(20):
        answers = {}
        for item in fw.items:
            r = rng.random()
            if r < 0.2:
                continue
            pick = scoring.ideal_answer if r < 0.6 else scoring.zero_answer
            answers[item.id] = pick(fw, item, as_of=AS_OF)
        sub = scoring.Submission(answers=answers, as_of=AS_OF, profile={"registered_in_zhejiang": True})
        full, lean = scoring.score(fw, sub), scoring.score(fw, sub, explain=False)
        assert (lean.points, lean.max_points, lean.percent) == (full.points, full.max_points, full.percent)
        assert lean.sections == full.sections and lean.gates == full.gates and lean.targets == full.targets
        assert lean.gaps == () and lean.paths == ()
        assert full.gaps or full.percent == 100
