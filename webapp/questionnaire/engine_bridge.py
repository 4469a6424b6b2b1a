"""Between stored assessments and the pure engine: build a `Submission` from rows, keep the headline
numbers of a result. Functions with explicit arguments; no request, no commit."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import scoring
from assessments.loader import framework_file
from scoring.model import Framework

_FRAMEWORKS: dict[tuple[str, str], tuple[Path, int, float, Framework]] = {}
_LOCK = threading.Lock()
RECHECK_SECONDS = 1.0


def framework_of(framework_id: str, version: str) -> Framework:
    """One framework version, cached per process. Its file is looked at again (one `stat`; a file
    edited in development is read again) at most once a second, where `load_framework` lists and
    stats every framework file on each call."""
    key = (framework_id, version)
    hit = _FRAMEWORKS.get(key)
    now = time.monotonic()
    if hit is not None:
        path, mtime, checked, fw = hit
        if now - checked < RECHECK_SECONDS:
            return fw
        try:
            if path.stat().st_mtime_ns == mtime:
                _FRAMEWORKS[key] = (path, mtime, now, fw)
                return fw
        except OSError:
            pass
    ff = framework_file(framework_id, version)
    with _LOCK:
        _FRAMEWORKS[key] = (ff.path, ff.path.stat().st_mtime_ns, now, ff.framework)
    return ff.framework


def submission(
    answers: Iterable[tuple[str, Any, str | None]],
    evidence_items: Iterable[str],
    profile: Mapping[str, Any],
    mode: str | None,
    as_of: dt.date,
) -> scoring.Submission:
    """`answers` as (item id, value, N/A justification); an unanswered value is None."""
    values: dict[str, Any] = {}
    na: dict[str, str] = {}
    for item_id, value, na_reason in answers:
        if na_reason:
            na[item_id] = na_reason
        elif value is not None:
            values[item_id] = value
    return scoring.Submission(
        answers=values,
        na=na,
        evidence=frozenset(evidence_items),
        profile=dict(profile),
        mode=mode,
        as_of=as_of,
    )


def _n(x: Decimal | None) -> float | None:
    return None if x is None else float(round(x, 2))


def summary(result: scoring.Result) -> dict[str, Any]:
    """The headline numbers kept with an assessment: small, so that lists and statistics read fast."""
    return {
        "points": _n(result.points),
        "max_points": _n(result.max_points),
        "percent": _n(result.percent),
        "score": _n(result.score),
        "sections": {s.id: _n(s.percent) for s in result.sections},
        "targets": {t.id: t.readiness for t in result.targets},
        "answered": result.confidence.answered,
        "applicable": result.confidence.applicable,
    }
