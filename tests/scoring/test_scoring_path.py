"""The path to ready: the covering knapsack against brute force, alone and through `score`."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_props import assert_path_promise
from scoring_synth import frameworks, submissions

from scoring import Submission, cheapest_cover, ideal_answer, score
from scoring.engine import READY
from scoring.model import AnswerType, Framework
from scoring.tables import tables_for

BOUNDED = settings(max_examples=100, deadline=None)


def brute_force(costs: list[int], gains: list[Decimal], need: Decimal) -> tuple[int, ...] | None:
    """The best subset by (total cost, size, sorted positions), by trying them all."""
    best: tuple[int, int, tuple[int, ...]] | None = None
    n = len(costs)
    for k in range(n + 1):
        for combo in itertools.combinations(range(n), k):
            if sum((gains[i] for i in combo), Decimal(0)) >= need:
                key = (sum(costs[i] for i in combo), k, combo)
                if best is None or key < best:
                    best = key
    return None if best is None else best[2]


gain_values = st.one_of(
    st.integers(1, 30).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(30), places=2),
)


@BOUNDED
@given(
    st.lists(st.tuples(st.sampled_from([1, 2, 4]), gain_values), max_size=9),
    st.decimals(min_value=Decimal(-5), max_value=Decimal(150), places=2),
)
def test_cheapest_cover_matches_brute_force(cands: list[tuple[int, Decimal]], need: Decimal) -> None:
    costs = [c for c, _ in cands]
    gains = [g for _, g in cands]
    assert cheapest_cover(costs, gains, need) == brute_force(costs, gains, need)


@BOUNDED
@given(
    st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6).map(Decimal)), max_size=9),
    st.integers(0, 40).map(Decimal),
)
def test_cheapest_cover_any_small_costs_and_many_ties(
    cands: list[tuple[int, Decimal]], need: Decimal
) -> None:
    """Many equal gains and costs: the tie-breaks (fewer items, then earliest) decide."""
    costs = [c for c, _ in cands]
    gains = [g for _, g in cands]
    assert cheapest_cover(costs, gains, need) == brute_force(costs, gains, need)


def test_cheapest_cover_examples() -> None:
    D = Decimal
    assert cheapest_cover([1, 1, 2], [D(5), D(5), D(10)], D(10)) == (2,)  # cost 2 either way: fewer items
    assert cheapest_cover([2, 1, 1], [D(10), D(5), D(5)], D(10)) == (0,)  # equal cost: fewer items
    assert cheapest_cover([1, 1, 1], [D(3), D(3), D(3)], D(6)) == (0, 1)  # ties: earliest
    assert cheapest_cover([4, 1], [D(10), D(1)], D(11)) == (0, 1)
    # two count vectors tie on cost 6 and 3 items: three medium items (5+5+5), or two low and one high
    # (4+4+9); every cheaper mix falls short of 15. The earliest set wins, whichever vector it uses.
    assert cheapest_cover([1, 1, 4, 2, 2, 2], [D(x) for x in (4, 4, 9, 5, 5, 5)], D(15)) == (0, 1, 2)
    assert cheapest_cover([2, 2, 2, 1, 1, 4], [D(x) for x in (5, 5, 5, 4, 4, 9)], D(15)) == (0, 1, 2)
    assert brute_force([1, 1, 4, 2, 2, 2], [D(x) for x in (4, 4, 9, 5, 5, 5)], D(15)) == (0, 1, 2)
    assert cheapest_cover([1], [D(1)], D(2)) is None
    assert cheapest_cover([], [], D(0)) == ()
    assert cheapest_cover([1], [D(1)], D(-3)) == ()


def test_cheapest_cover_realistic_size_is_fast() -> None:
    import time

    costs = [(1, 2, 4)[i % 3] for i in range(120)]
    gains = [Decimal(5 + (i * 37) % 23) for i in range(120)]
    start = time.perf_counter()
    got = cheapest_cover(costs, gains, Decimal(900))
    assert got is not None and sum(gains[i] for i in got) >= 900
    assert time.perf_counter() - start < 2.0


def _ready_ignoring_profile(fw: Framework, sub: Submission, target_id: str) -> bool:
    """The target is ready except for its profile-fact gates (which no answer can change)."""
    r = score(fw, sub)
    target = next(x for x in fw.targets if x.id == target_id)
    for gid in target.gates:
        g = r.gate(gid)
        assert g is not None
        if g.item is not None and g.status != "pass":
            return False
    if r.max_points == 0:
        return target.threshold <= 0
    return r.points * fw.scale >= target.threshold * r.max_points


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_path_to_ready_is_the_cheapest_set_of_improvements(data: st.DataObject) -> None:
    """Brute force through the engine: apply the ideal answer (with evidence) to every subset of gaps."""
    fw = data.draw(frameworks(min_items=4, max_items=8, item_conditions=False))
    sub = data.draw(submissions(fw))
    r = score(fw, sub)
    t = tables_for(fw)
    mode = r.mode
    gaps = [g.item for g in r.gaps]
    for path in r.paths:
        best: tuple[int, int, tuple[int, ...]] | None = None
        for k in range(len(gaps) + 1):
            for combo in itertools.combinations(gaps, k):
                answers = dict(sub.answers)
                for iid in combo:
                    answers[iid] = ideal_answer(fw, iid, mode=mode, as_of=sub.as_of)
                improved = Submission(
                    answers=answers,
                    na=sub.na,
                    evidence=sub.evidence | set(combo),
                    profile=sub.profile,
                    mode=sub.mode,
                    as_of=sub.as_of,
                )
                if _ready_ignoring_profile(fw, improved, path.target):
                    pos = tuple(sorted(t.by_id[i].pos for i in combo))
                    key = (sum(t.by_id[i].cost for i in combo), k, pos)
                    if best is None or key < best:
                        best = key
        target_result = r.target(path.target)
        assert target_result is not None and target_result.readiness != READY
        profile_failed = any(r.gate(g).status == "fail" for g in path.profile_gates)  # type: ignore[union-attr]
        if best is None:
            assert not path.reachable
            continue
        assert path.reachable == (not profile_failed)
        assert path.cost == best[0]
        assert sorted(t.by_id[i].pos for i in path.items) == list(best[2])
        # the items of the target's gates come first (a date item may pass its "adopted >= n years"
        # gate and still gain points), and every failed / unknown gate's item is a step
        gate_items = [
            g.item for g in r.gates if g.item and g.status != "pass" and g.id in _gates_of(fw, path.target)
        ]
        assert set(gate_items) <= set(path.items)
        own = {
            c.item
            for gid in _gates_of(fw, path.target)
            if (c := fw.gate_by_id(gid).passes_if).item is not None  # type: ignore[union-attr]
        }
        first = [i for i in path.items if i in own]
        assert list(path.items[: len(first)]) == sorted(first, key=lambda i: t.by_id[i].pos)


def _gates_of(fw: Framework, target_id: str) -> tuple[str, ...]:
    return next(x.gates for x in fw.targets if x.id == target_id)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_path_to_ready_is_the_cheapest_plan_when_answers_switch_items(data: st.DataObject) -> None:
    """Brute force with `applies_if` on earlier answers: every set of items given its ideal answer (and
    evidence) is scored; the path is the least (cost, size, positions) set making the target ready
    (profile gates aside), and scoring the path's answers gives what it announced."""
    fw = data.draw(frameworks(min_items=3, max_items=7))
    sub = data.draw(submissions(fw))
    r = score(fw, sub)
    assert_path_promise(fw, sub, r)
    t = tables_for(fw)
    mode = r.mode
    items = [
        i.id
        for i in fw.items
        if i.id not in sub.na
        and not (i.answer_type is AnswerType.SCALE and mode not in t.by_id[i.id].level_points)
    ]
    ideal = {iid: ideal_answer(fw, iid, mode=mode, as_of=sub.as_of) for iid in items}
    best: dict[str, tuple[int, int, tuple[int, ...]]] = {}
    for k in range(len(items) + 1):
        for combo in itertools.combinations(items, k):
            improved = Submission(
                answers={**sub.answers, **{iid: ideal[iid] for iid in combo}},
                na=sub.na,
                evidence=sub.evidence | set(combo),
                profile=sub.profile,
                mode=sub.mode,
                as_of=sub.as_of,
            )
            key = (sum(t.by_id[i].cost for i in combo), k, tuple(sorted(t.by_id[i].pos for i in combo)))
            for path in r.paths:
                if (path.target not in best or key < best[path.target]) and _ready_ignoring_profile(
                    fw, improved, path.target
                ):
                    best[path.target] = key
    for path in r.paths:
        profile_failed = any(r.gate(g).status == "fail" for g in path.profile_gates)  # type: ignore[union-attr]
        if path.target not in best:
            assert not path.reachable
            continue
        assert path.reachable == (not profile_failed)
        assert path.cost == best[path.target][0]
        assert tuple(sorted(t.by_id[i].pos for i in path.items)) == best[path.target][2]


def test_many_controlling_answers_keep_the_promise() -> None:
    """More controlling items than the exhaustive search takes: the path is the least among the plans it
    tries (no change, one, two or all controlling items), and still scores what it announces."""
    import time

    from conftest import item, t

    from scoring.model import Condition, Effort, Op, Section, Target

    n = 12
    items = []
    for i in range(n):
        items.append(item(f"c{i}", AnswerType.YES_NO, 1, effort=Effort.LOW))
        items.append(item(f"d{i}", AnswerType.YES_NO, 5, applies_if=(Condition(Op.EQ, True, item=f"c{i}"),)))
    fw = Framework(
        id="many",
        version="1.0.0",
        title=t("many"),
        description=t("many"),
        sections=(Section("s", t("s"), tuple(items)),),
        targets=(Target("half", t("half"), (), Decimal(50)),),
    )
    sub = Submission(answers={f"c{i}": False for i in range(n)}, as_of=None)
    start = time.perf_counter()
    r = score(fw, sub)
    assert time.perf_counter() - start < 2.0
    (path,) = r.paths
    assert path.reachable and path.score_after >= 50
    assert_path_promise(fw, sub, r)
