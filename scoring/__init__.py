"""QReady's scoring engine: pure Python (standard library only), exact `Decimal` arithmetic.

No Flask, no SQLAlchemy, no I/O: the same input gives the same output, byte for byte.

    from scoring import Submission, score, validate, compare, dumps
    result = score(framework, Submission(answers={...}, as_of=date(2026, 11, 22)))
    print(dumps(result))

`model` holds the input types (built by `assessments`); `engine` the scoring and the result types;
`submission` the submission and its validation; `answers` the reference answers; `compare` the
comparison of two results; `path` the least-effort path to a target; `jsonout` the canonical JSON.
"""

from .answers import ideal_answer, zero_answer
from .compare import Change, Comparison, TargetChange, compare
from .engine import (
    Blocker,
    Confidence,
    Gap,
    GateResult,
    ItemScore,
    Path,
    Result,
    SectionScore,
    TargetResult,
    item_points,
    score,
)
from .jsonout import dumps
from .path import cheapest_cover
from .submission import CODES, InvalidSubmission, Problem, Submission, validate
from .tables import FrameworkError, clear_cache

__all__ = [
    "CODES",
    "Blocker",
    "Change",
    "Comparison",
    "Confidence",
    "FrameworkError",
    "Gap",
    "GateResult",
    "InvalidSubmission",
    "ItemScore",
    "Path",
    "Problem",
    "Result",
    "SectionScore",
    "Submission",
    "TargetChange",
    "TargetResult",
    "cheapest_cover",
    "clear_cache",
    "compare",
    "dumps",
    "ideal_answer",
    "item_points",
    "score",
    "validate",
    "zero_answer",
]
