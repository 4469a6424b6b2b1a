"""The engine's properties, as checks run on any framework: synthetic ones and every shipped one.

Each check draws what it needs from a Hypothesis `data` object and asserts one property.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from scoring_synth import (
    AS_OF,
    answer_values,
    attainable,
    failing_value,
    ideal_submission,
    passing_profile,
    submissions,
    zero_submission,
)

from scoring import Submission, clear_cache, compare, dumps, ideal_answer, score, zero_answer
from scoring.engine import Path, Result, item_points
from scoring.model import AnswerType, Framework, Op
from scoring.tables import tables_for

READY = ("ready", "worth_full_evaluation")  # the verdict, and a screening mode's pass band


def ready_in(fw: Framework, mode: str | None) -> str:
    """What "ready" is in `mode`: a screening mode says "worth a full self-evaluation" instead."""
    return "worth_full_evaluation" if fw.is_screening(mode or fw.default_mode) else "ready"


def not_ready_in(fw: Framework, mode: str | None) -> str:
    return "not_yet" if fw.is_screening(mode or fw.default_mode) else "not_ready"


def _with(sub: Submission, **changes: Any) -> Submission:
    fields: dict[str, Any] = {
        "answers": sub.answers,
        "na": sub.na,
        "evidence": sub.evidence,
        "profile": sub.profile,
        "mode": sub.mode,
        "as_of": sub.as_of,
    }
    fields.update(changes)
    return Submission(**fields)


def _modes(fw: Framework) -> st.SearchStrategy[str]:
    return st.sampled_from([m.id for m in fw.modes])


def check_bounds(fw: Framework, data: st.DataObject) -> None:
    """0 <= points <= max, for the total, every section and every item; consistent lists."""
    sub = data.draw(submissions(fw))
    r = score(fw, sub)
    assert 0 <= r.points <= r.max_points
    assert 0 <= r.percent <= 100
    assert r.points == sum((s.points for s in r.sections), Decimal(0))
    assert r.max_points == sum((s.max_points for s in r.sections), Decimal(0))
    for s in r.sections:
        assert 0 <= s.points <= s.max_points
        assert s.percent is None or 0 <= s.percent <= 100
    for it in r.items:
        assert 0 <= it.points <= it.max_points
        if not it.applicable:
            assert it.points == it.max_points == 0
    assert list(r.unanswered) == [i.id for i in r.items if i.status == "unanswered"]
    assert sorted(g.priority for g in r.gaps) == list(range(1, len(r.gaps) + 1))
    for g in r.gaps:
        assert g.points_recoverable > 0 or g.gates
        assert g.points + g.points_recoverable == attainable(fw, g.item, r.mode) <= g.max_points
    settled = [x.id for x in r.targets if x.readiness in (*READY, "not_applicable")]
    if fw.is_screening(r.mode):  # a screening mode gives a band, never a verdict
        assert {x.readiness for x in r.targets} <= {"worth_full_evaluation", "not_yet", "not_applicable"}
    assert set(r.path_to_ready) == {x.id for x in fw.targets} - set(settled)
    for x in r.targets:  # a target outside the firm's region has nothing blocking it
        assert (x.readiness == "not_applicable") == (x.reason == "outside_region")
        assert x.applicable or x.blocking == ()
    assert 0 <= r.confidence.answered <= r.confidence.applicable
    json.loads(dumps(r))


def check_ideal(fw: Framework, data: st.DataObject) -> None:
    """Every ideal answer (with evidence): full points, every gate passes, every target ready.

    Profile facts are not answers: each target is checked with a profile that meets its own profile
    gates (two targets may ask for different cities). A mode may cap a scale item below 100 percent
    (docs/frameworks.md): there, "full" means the most that mode's scale gives, and a target is ready
    when that is enough.
    """
    mode = data.draw(_modes(fw))
    r = score(fw, ideal_submission(fw, mode, profile={}))
    assert r.max_points > 0
    for it in r.items:
        assert it.points == attainable(fw, it.id, mode) if it.applicable else it.points == 0, it.id
    capped = r.points < r.max_points
    assert capped == any(it.applicable and it.points < it.max_points for it in r.items)
    if not capped:
        assert all(s.points == s.max_points for s in r.sections)
        assert r.gaps == ()
    assert [g.id for g in r.gates if g.item is not None and g.status != "pass"] == []
    assert r.unanswered == ()
    for target in fw.targets:
        rt = score(fw, ideal_submission(fw, mode, profile=passing_profile(fw, target)))
        assert all(rt.gate(g).status == "pass" for g in target.gates)  # type: ignore[union-attr]
        tr = rt.target(target.id)
        assert tr is not None
        if not capped or rt.points * fw.scale >= target.threshold * rt.max_points:
            assert tr.readiness == ready_in(fw, mode), (target.id, tr)
            assert target.id not in rt.path_to_ready
        else:
            path = next(p for p in rt.paths if p.target == target.id)
            assert tr.readiness not in READY and not path.reachable
    whole = score(fw, ideal_submission(fw, mode))  # gates of targets outside its region do not apply
    assert [
        g.id for g in whole.gates if g.item is not None and g.status not in ("pass", "not_applicable")
    ] == []


def check_zero(fw: Framework, data: st.DataObject) -> None:
    """Every zero answer: 0 points and no target ready or near."""
    mode = data.draw(_modes(fw))
    profile = data.draw(st.sampled_from([{}, {"years_operating": 30, "is_manufacturing": True}]))
    r = score(fw, zero_submission(fw, mode, profile))
    assert r.points == 0
    assert [x.readiness for x in r.targets] == [not_ready_in(fw, mode)] * len(r.targets)


def check_improvement_never_lowers(fw: Framework, data: st.DataObject) -> None:
    """Replacing one answer by one earning more points never lowers a section or the total.

    Items that an `applies_if` condition tests are left out: a better answer to those may rightly
    switch other items on or off.
    """
    sub = data.draw(submissions(fw))
    t = tables_for(fw)
    before = score(fw, sub)
    mode = before.mode
    choices = [
        it
        for it in t.items
        if it.item.id not in t.referenced
        and it.item.id not in sub.na
        and not (it.kind is AnswerType.SCALE and mode not in it.level_points)
    ]
    if not choices:
        return
    it = data.draw(st.sampled_from(choices))
    iid = it.item.id
    old = sub.answers.get(iid)

    def raw(value: object) -> Decimal:
        return item_points(it, value, mode, AS_OF) if value is not None else Decimal(-1)

    new = data.draw(answer_values(fw, it.item, mode))
    if raw(new) <= raw(old):
        new = ideal_answer(fw, iid, mode=mode, as_of=AS_OF)
        if raw(new) <= raw(old):
            return  # already the best answer
    after = score(fw, _with(sub, answers={**sub.answers, iid: new}))
    assert after.points >= before.points
    for s0, s1 in zip(before.sections, after.sections, strict=True):
        assert s1.points >= s0.points, (s0.id, iid, old, new)
    assert after.max_points == before.max_points  # the item's applicability does not depend on its answer


def check_failed_gate(fw: Framework, data: st.DataObject) -> None:
    """A failed gate makes every target that uses it not_ready, whatever the score; a gate that only
    targets outside the firm's region use decides nothing (not_applicable, like those targets)."""
    if not fw.gates:
        return
    mode = data.draw(_modes(fw))
    base = ideal_submission(fw, mode) if data.draw(st.booleans()) else data.draw(submissions(fw))
    gate = data.draw(st.sampled_from(fw.gates))
    cond = gate.passes_if
    if cond.item is not None:
        value = zero_answer(fw, cond.item, mode=mode, as_of=AS_OF)
        if cond.op in (Op.YEARS_GTE, Op.YEARS_LT):  # "adopted >= 0 years ago": only a future date fails it
            value = failing_value(cond)
        na = {k: v for k, v in base.na.items() if k != cond.item}
        sub = _with(base, answers={**base.answers, cond.item: value}, na=na)
        probe = score(fw, sub)
        g = probe.gate(gate.id)
        assert g is not None
        if g.status == "pass":
            # the gate item does not apply here (its own applies_if), or the firm is exempt: by design
            assert g.reason in ("not_applicable", "exempt")
            return
    else:
        assert cond.profile is not None
        sub = _with(base, profile={**base.profile, cond.profile: failing_value(cond)})
    r = score(fw, sub)
    users = [r.target(t.id) for t in fw.targets if gate.id in t.gates]
    result = r.gate(gate.id)
    assert result is not None
    if users and not any(tr is not None and tr.applicable for tr in users):
        assert (result.status, result.reason) == ("not_applicable", "outside_region")
        return
    assert result.status == "fail"
    for tr in users:
        assert tr is not None
        if tr.applicable:
            assert tr.readiness == not_ready_in(fw, r.mode)
            assert any(b.kind == "gate" and b.gate == gate.id for b in tr.blocking)
        else:
            assert tr.reason == "outside_region" and tr.blocking == ()


def check_na_never_lowers_percent(fw: Framework, data: st.DataObject) -> None:
    """A justified N/A never lowers the percent, compared to answering the item with its zero answer.

    Items tested by other items' `applies_if` are left out (their answer switches other items).
    """
    t = tables_for(fw)
    sub = data.draw(submissions(fw))
    mode = sub.mode or fw.default_mode
    choices = [
        i
        for i in fw.items
        if i.allow_na
        and i.id not in t.referenced
        and not (i.answer_type is AnswerType.SCALE and mode not in t.by_id[i.id].level_points)
    ]
    if not choices:
        return
    item = data.draw(st.sampled_from(choices))
    answers = {k: v for k, v in sub.answers.items() if k != item.id}
    na = {k: v for k, v in sub.na.items() if k != item.id}
    zero = score(
        fw, _with(sub, answers={**answers, item.id: zero_answer(fw, item, mode=mode, as_of=AS_OF)}, na=na)
    )
    declared = score(fw, _with(sub, answers=answers, na={**na, item.id: "本企业无此业务"}))
    assert declared.percent >= zero.percent
    assert declared.max_points <= zero.max_points


def check_answer_order_irrelevant(fw: Framework, data: st.DataObject) -> None:
    """Dict insertion order of answers, N/A and profile does not change the output."""
    sub = data.draw(submissions(fw))
    perm = data.draw(st.permutations(list(sub.answers)))
    shuffled = _with(
        sub,
        answers={k: sub.answers[k] for k in perm},
        na=dict(reversed(list(sub.na.items()))),
        profile=dict(reversed(list(sub.profile.items()))),
        evidence=frozenset(sorted(sub.evidence, reverse=True)),
    )
    assert dumps(score(fw, sub)) == dumps(score(fw, shuffled))


def check_deterministic(fw: Framework, data: st.DataObject) -> None:
    """The same input gives the same bytes, cached tables or not; comparing a result to itself is flat."""
    sub = data.draw(submissions(fw))
    first = dumps(score(fw, sub))
    assert dumps(score(fw, sub)) == first
    clear_cache()
    r = score(fw, sub)
    assert dumps(r) == first
    c = compare(r, r)
    assert c.points_delta == 0 and all(x.change == "unchanged" for x in c.targets)
    assert all(s.points_delta in (0, None) for s in c.sections)


def apply_path(fw: Framework, sub: Submission, path: Path) -> Submission:
    """The submission with every step of `path` done: each item its ideal answer, with evidence."""
    mode = sub.mode or fw.default_mode
    answers = dict(sub.answers)
    for iid in path.items:
        answers[iid] = ideal_answer(fw, iid, mode=mode, as_of=sub.as_of)
    return _with(sub, answers=answers, evidence=sub.evidence | frozenset(path.items))


def assert_path_promise(fw: Framework, sub: Submission, r: Result | None = None) -> None:
    """Scoring the answers a path prescribes gives the score, maximum and readiness it announced."""
    r = score(fw, sub) if r is None else r
    for path in r.paths:
        after = score(fw, apply_path(fw, sub, path))
        where = (fw.id, path.target, path.items)
        assert after.score == path.score_after, where
        assert after.points == r.points + path.points_gained, where
        assert after.max_points == path.max_points_after, where
        assert len(path.gains) == len(path.items)
        now = {i.id for i in r.items if i.applicable}
        assert list(path.switched_on) == [i.id for i in after.items if i.applicable and i.id not in now]
        target = after.target(path.target)
        assert target is not None
        gate_ids = set(next(x.gates for x in fw.targets if x.id == path.target))
        item_gates = [g for g in after.gates if g.id in gate_ids and g.item is not None]
        reached = (
            after.points * fw.scale >= target.threshold * after.max_points
            if after.max_points
            else target.threshold <= 0
        )
        answers_suffice = reached and all(g.status == "pass" for g in item_gates)
        profile_failed = any(r.gate(g).status == "fail" for g in path.profile_gates)  # type: ignore[union-attr]
        if path.reachable:
            assert answers_suffice, (where, target)
            if not path.profile_gates:
                assert target.readiness == ready_in(fw, after.mode), (where, target)
        elif profile_failed:
            assert target.readiness == not_ready_in(fw, after.mode), where
        else:  # no plan reaches it: the path gets furthest, yet not far enough
            assert not answers_suffice, where


def check_path_keeps_its_promise(fw: Framework, data: st.DataObject) -> None:
    """Doing what the path to ready says (ideal answers, evidence) gives the announced score and readiness."""
    assert_path_promise(fw, data.draw(submissions(fw)))


ALL_CHECKS = (
    check_bounds,
    check_ideal,
    check_zero,
    check_improvement_never_lowers,
    check_failed_gate,
    check_na_never_lowers_percent,
    check_answer_order_irrelevant,
    check_deterministic,
    check_path_keeps_its_promise,
)
