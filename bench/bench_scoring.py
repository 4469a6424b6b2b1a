"""Benchmark of the scoring engine: one full performance-excellence assessment, scored many times.

    python bench/bench_scoring.py [--rounds N]

Prints the median time of one `score()` call (validation, item points, gates, targets, gaps, the
path to ready) and of its canonical JSON, next to a floor measured in the same run: a plain loop
that only sums the chosen answers' points from a prebuilt table. The framework is
`performance-excellence` from `assessments.loader`; when it cannot be loaded the benchmark says why
and uses a synthetic framework of the same size (7 sections, 23 scale items, 3 gate items, 1000 points).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import Submission, clear_cache, dumps, ideal_answer, score
from scoring.engine import item_points
from scoring.model import (
    AnswerType,
    Band,
    Condition,
    Effort,
    Framework,
    Gate,
    Item,
    Level,
    Mode,
    Op,
    Scale,
    Section,
    Target,
    Text,
)
from scoring.tables import tables_for

AS_OF = datetime.date(2026, 11, 22)
PE_ID = "performance-excellence"
# GB/T 19580-2012 sub-item points as commonly cited (domain.md A1); they add up to 1000.
PE_ITEMS = {
    "4.1": (50, 30, 30),
    "4.2": (40, 50),
    "4.3": (40, 50),
    "4.4": (60, 15, 20, 15, 10, 10),
    "4.5": (50, 50),
    "4.6": (40, 40),
    "4.7": (80, 80, 80, 60, 50, 50),
}


def _t(s: str) -> Text:
    return Text(zh=s, en=s)


def synthetic_pe() -> Framework:
    """A framework of the performance-excellence size and shape."""
    quick = Scale(
        "four-step",
        _t("four-step"),
        tuple(
            Level(v, Decimal(p), _t(v)) for v, p in (("none", 0), ("some", 25), ("most", 50), ("all", 100))
        ),
    )
    adli = Scale("adli", _t("ADLI"), tuple(Level(str(p), Decimal(p), _t(f"{p}%")) for p in range(0, 101, 5)))
    efforts = (Effort.MEDIUM, Effort.HIGH, Effort.LOW)
    sections = []
    n = 0
    for clause, points in PE_ITEMS.items():
        items = []
        for k, p in enumerate(points, start=2):
            items.append(
                Item(
                    id=f"pe-{clause}.{k}",
                    text=_t(f"{clause}.{k}"),
                    help=_t("help"),
                    action=_t("improve"),
                    answer_type=AnswerType.SCALE,
                    max_points=Decimal(p),
                    scales=(("quick", "four-step"), ("full", "adli")),
                    evidence=_t("evidence"),
                    evidence_required=n % 3 == 0,
                    effort=efforts[n % 3],
                )
            )
            n += 1
        sections.append(Section(clause, _t(clause), tuple(items)))
    gate_items = (
        Item(
            id="pe-adopted",
            text=_t("adopted"),
            help=_t("h"),
            action=_t("a"),
            answer_type=AnswerType.DATE,
            max_points=Decimal(0),
            bands=(Band(None, None, Decimal(0)),),
            gate=True,
            allow_na=False,
        ),
        Item(
            id="pe-incident",
            text=_t("incident"),
            help=_t("h"),
            action=_t("a"),
            answer_type=AnswerType.YES_NO,
            max_points=Decimal(0),
            gate=True,
            allow_na=False,
        ),
        Item(
            id="pe-iso9001",
            text=_t("iso"),
            help=_t("h"),
            action=_t("a"),
            answer_type=AnswerType.YES_NO,
            max_points=Decimal(0),
            gate=True,
            allow_na=False,
        ),
    )
    sections.insert(0, Section("eligibility", _t("eligibility"), gate_items))
    gates = (
        Gate("adopted-3y", Condition(Op.LTE, "2023-11-22", item="pe-adopted"), _t("3 years")),
        Gate("no-incident", Condition(Op.EQ, False, item="pe-incident"), _t("no incident")),
        Gate("iso9001", Condition(Op.EQ, True, item="pe-iso9001"), _t("ISO 9001")),
        Gate("years-5", Condition(Op.GTE, 5, profile="years_operating"), _t("5 years")),
    )
    return Framework(
        id="synthetic-pe",
        version="1.0.0",
        title=_t("synthetic PE"),
        description=_t("synthetic"),
        sections=tuple(sections),
        gates=gates,
        targets=(
            Target("cultivation", _t("pool"), ("no-incident",), Decimal(400)),
            Target("city-award", _t("city"), ("adopted-3y", "no-incident", "years-5"), Decimal(620)),
            Target("province-award", _t("province"), tuple(g.id for g in gates), Decimal(700)),
        ),
        scales=(quick, adli),
        modes=(Mode("quick", _t("quick")), Mode("full", _t("full"))),
        scale=Decimal(1000),
        near_margin=Decimal(50),
    )


def load_pe() -> tuple[Framework, str]:
    try:
        from assessments.loader import load_framework

        return load_framework(PE_ID), f"{PE_ID} (assessments.loader)"
    except (ImportError, LookupError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:100]
        return synthetic_pe(), f"synthetic PE-sized framework ({type(exc).__name__}: {first})"


def full_assessment(fw: Framework, mode: str) -> Submission:
    """A realistic full assessment: every item answered, mid-range levels, gates passed, some evidence."""
    t = tables_for(fw)
    answers: dict[str, object] = {}
    for i, it in enumerate(t.items):
        item = it.item
        if item.gate or it.kind in (AnswerType.DATE, AnswerType.TEXT):
            answers[item.id] = ideal_answer(fw, item, mode=mode, as_of=AS_OF)
        elif it.kind is AnswerType.SCALE:
            levels = list(it.level_points.get(mode, {}))
            if levels:
                answers[item.id] = levels[(len(levels) * (2 + i % 3)) // 6]
        elif it.kind is AnswerType.CHOICE:
            answers[item.id] = item.options[i % len(item.options)].value
        elif it.kind is AnswerType.YES_NO:
            answers[item.id] = i % 2 == 0
        else:
            answers[item.id] = ideal_answer(fw, item, mode=mode, as_of=AS_OF) if i % 2 else 0
    profile: dict[str, object] = {
        "years_operating": 12,
        "registered_in_zhejiang": True,
        "is_manufacturing": True,
    }
    profile.update({"above_scale": True, "size_class": "medium", "industry_section": "C", "city": "330100"})
    evidence = frozenset(it.item.id for i, it in enumerate(t.items) if i % 2 == 0)
    return Submission(answers=answers, evidence=evidence, profile=profile, mode=mode, as_of=AS_OF)


def floor_loop(fw: Framework, sub: Submission) -> Callable[[], Decimal]:
    """The floor: sum the chosen answers' points from a table built beforehand."""
    t = tables_for(fw)
    mode = sub.mode or fw.default_mode
    table = {iid: {v: item_points(t.by_id[iid], v, mode, AS_OF)} for iid, v in sub.answers.items()}
    answers = dict(sub.answers)

    def run() -> Decimal:
        total = Decimal(0)
        for iid, v in answers.items():
            total += table[iid][v]
        return total

    return run


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1e6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30, help="rounds of 100 calls of each kind (default 30)")
    args = ap.parse_args()

    fw, origin = load_pe()
    mode = "full" if any(m.id == "full" for m in fw.modes) else fw.default_mode
    sub = full_assessment(fw, mode)
    clear_cache()
    t0 = time.perf_counter_ns()
    result = score(fw, sub)  # builds the cached tables
    cold = (time.perf_counter_ns() - t0) / 1e6
    floor = floor_loop(fw, sub)

    scoring: list[float] = []
    json_times: list[float] = []
    floors: list[float] = []
    for _ in range(args.rounds):  # interleaved, so both see the same machine state
        scoring += timed(lambda: score(fw, sub), 100)
        floors += timed(floor, 100)
        json_times += timed(lambda: dumps(result), 20)

    med, fl, js = statistics.median(scoring), statistics.median(floors), statistics.median(json_times)
    targets = ", ".join(f"{x.id} {x.readiness}" for x in result.targets)
    print(f"framework: {origin}; mode {mode}; {len(fw.items)} items; score {result.score:.1f}/{fw.scale}")
    print(f"targets: {targets}; {len(result.gaps)} gaps; paths for {len(result.paths)} target(s)")
    print(f"scoring.full_pe median {med:.3f} ms; floor {fl:.4f} ms; ratio {med / fl:.0f}x")
    print(
        f"scoring.full_pe p90 {statistics.quantiles(scoring, n=10)[-1]:.3f} ms; first call (tables built) {cold:.3f} ms"
    )
    print(f"scoring.full_pe.dumps median {js:.3f} ms")


if __name__ == "__main__":
    main()
