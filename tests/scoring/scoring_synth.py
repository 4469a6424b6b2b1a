"""Hypothesis strategies for the scoring tests: random sound frameworks and random valid submissions.

A "sound" framework is what `assessments` guarantees of shipped files: every scored item can earn 0
and its full points, gate items cannot be declared not applicable, the best answer of a gate item
passes its gate and the worst fails it, thresholds lie above the near margin and at most the scale.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from hypothesis import strategies as st

from scoring import Submission, ideal_answer, zero_answer
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
    Option,
    Scale,
    Section,
    Source,
    Target,
    Text,
)
from scoring.tables import tables_for
from scoring.values import years_before

AS_OF = datetime.date(2026, 11, 22)
EFFORTS = (Effort.LOW, Effort.MEDIUM, Effort.HIGH)
KINDS = tuple(AnswerType)  # TEXT last
assert KINDS[-1] is AnswerType.TEXT


def _t(s: str) -> Text:
    return Text(zh=f"题 {s}", en=s)


def _dec(x: int | str) -> Decimal:
    return Decimal(x)


@st.composite
def _bands(draw: st.DrawFn, top: Decimal, lo: int, hi: int) -> tuple[Band, ...]:
    """Bands covering every number: the first earns 0, the last `top`, the others in between."""
    cuts = sorted(draw(st.sets(st.integers(lo, hi), min_size=1, max_size=3)))
    edges: list[Decimal | None] = [None, *(_dec(c) for c in cuts), None]
    bands = []
    n = len(edges) - 1
    for i in range(n):
        if i == 0:
            pts = Decimal(0)
        elif i == n - 1:
            pts = top
        else:
            pts = (top * draw(st.integers(0, 4)) / 4).quantize(Decimal("0.01"))
        bands.append(Band(edges[i], edges[i + 1], pts))
    return tuple(bands)


@st.composite
def frameworks(
    draw: st.DrawFn,
    *,
    max_items: int = 10,
    min_items: int = 1,
    item_conditions: bool = True,
    max_sections: int = 3,
) -> Framework:
    """A random sound framework of at most `max_items` items."""
    two_modes = draw(st.booleans())
    modes = (
        (Mode("quick", _t("quick")), Mode("full", _t("full"))) if two_modes else (Mode("default", _t("d")),)
    )
    scales = []
    for sid in ("s1", "s2"):
        mids = sorted(draw(st.sets(st.integers(1, 99), max_size=3)))
        levels = [Level("l0", Decimal(0), _t("0"))]
        levels += [Level(f"l{m}", Decimal(m), _t(str(m))) for m in mids]
        # with two modes, s1 serves only the quick mode, which may cap below 100 % (docs/frameworks.md)
        best = 100 if sid == "s2" or not two_modes else draw(st.sampled_from([100, 75]))
        levels = [lv for lv in levels if lv.percent < best]
        levels.append(Level(f"l{best}", Decimal(best), _t(str(best))))
        scales.append(Scale(sid, _t(sid), tuple(levels)))

    n_items = draw(st.integers(min_items, max_items))
    n_sections = draw(st.integers(1, min(max_sections, n_items)))
    items: list[Item] = []
    gates: list[Gate] = []
    for i in range(n_items):
        iid = f"i{i}"
        # the first item always applies and carries points, so a framework always has something to score
        kind = draw(st.sampled_from(KINDS[:-1] if i == 0 else KINDS))
        weights = [1, 2, 3, 5, 8, 10, 20] if i == 0 else [0, 1, 2, 3, 5, 8, 10, 20]
        top = Decimal(0) if kind is AnswerType.TEXT else _dec(draw(st.sampled_from(weights)))
        kw: dict[str, object] = {}
        if kind is AnswerType.YES_NO and draw(st.booleans()):
            kw["options"] = (Option("yes", _t("yes"), top), Option("no", _t("no"), Decimal(0)))
        elif kind is AnswerType.CHOICE:
            n_opt = draw(st.integers(2, 4))
            pts = [top, Decimal(0)] + [
                (top * draw(st.integers(0, 4)) / 4).quantize(Decimal("0.01")) for _ in range(n_opt - 2)
            ]
            order = draw(st.permutations(range(n_opt)))
            kw["options"] = tuple(Option(f"o{j}", _t(f"o{j}"), pts[j]) for j in order)
        elif kind is AnswerType.SCALE:
            if two_modes:
                kw["scales"] = (("quick", draw(st.sampled_from(["s1", "s2"]))), ("full", "s2"))
            else:
                kw["scales"] = (("default", draw(st.sampled_from(["s1", "s2"]))),)
        elif kind is AnswerType.PERCENT:
            kw["bands"] = draw(_bands(top, 1, 99))
        elif kind is AnswerType.NUMBER:
            kw["bands"] = draw(_bands(top, 1, 50))
            kw["min_value"] = Decimal(0)
            kw["max_value"] = draw(st.sampled_from([None, Decimal(100)]))
        elif kind is AnswerType.DATE:
            kw["bands"] = draw(_bands(top, 1, 10))
        gate = (
            kind in (AnswerType.YES_NO, AnswerType.CHOICE, AnswerType.DATE) and draw(st.integers(0, 3)) == 0
        )
        if gate:
            if kind is AnswerType.DATE:
                # "adopted at least n whole years ago": the zero answer (today) fails it
                cond = Condition(Op.YEARS_GTE, _dec(draw(st.integers(1, 6))), item=iid)
            elif kind is AnswerType.YES_NO:
                # 0 points: "a major incident?" - no passes; else yes passes
                cond = Condition(Op.EQ, top != 0, item=iid)
            else:
                opts: tuple[Option, ...] = kw["options"]  # type: ignore[assignment]
                cond = Condition(
                    Op.IN, [o.value for o in opts if o.points == top and top > 0] or ["o0"], item=iid
                )
                if top == 0:  # every option earns 0: the gate passes on o0 only
                    cond = Condition(Op.EQ, "o0", item=iid)
            gates.append(Gate(f"g-{iid}", cond, _t(f"gate {iid}"), (Source(standard=f"rule {iid}"),)))
        applies_if: list[Condition] = []
        if i > 0 and draw(st.integers(0, 5)) == 0:
            applies_if.append(
                draw(
                    st.sampled_from(
                        [
                            Condition(Op.EQ, True, profile="is_manufacturing"),
                            Condition(Op.GTE, 3, profile="years_operating"),
                            Condition(Op.IN, ["C", "D"], profile="industry_section"),
                            Condition(Op.YEARS_GTE, 4, profile="founded_on"),
                        ]
                    )
                )
            )
        if item_conditions and items and not gate and draw(st.integers(0, 4)) == 0:
            ref = draw(st.sampled_from(items))
            if ref.answer_type is AnswerType.YES_NO:
                applies_if.append(Condition(draw(st.sampled_from([Op.EQ, Op.NE])), True, item=ref.id))
            elif ref.answer_type is AnswerType.CHOICE:
                applies_if.append(Condition(Op.IN, [ref.options[0].value], item=ref.id))
            elif ref.answer_type in (AnswerType.PERCENT, AnswerType.NUMBER):
                applies_if.append(Condition(Op.GTE, 10, item=ref.id))
            elif ref.answer_type is AnswerType.DATE:
                op = draw(st.sampled_from([Op.YEARS_GTE, Op.YEARS_LT]))
                applies_if.append(Condition(op, _dec(draw(st.integers(1, 6))), item=ref.id))
        evidence_required = top > 0 and draw(st.integers(0, 3)) == 0
        items.append(
            Item(
                id=iid,
                text=_t(f"q {iid}"),
                help=_t(f"h {iid}"),
                action=_t(f"do {iid}"),
                answer_type=kind,
                max_points=top,
                evidence=_t("proof") if evidence_required or draw(st.booleans()) else None,
                evidence_required=evidence_required,
                applies_if=tuple(applies_if),
                gate=gate,
                allow_na=not gate and draw(st.booleans()),
                effort=draw(st.sampled_from(EFFORTS)),
                sources=(Source(doc="seed.txt", quote=iid),),
                **kw,  # type: ignore[arg-type]
            )
        )
    if draw(st.booleans()):
        gates.append(Gate("g-years", Condition(Op.GTE, 5, profile="years_operating"), _t("5 years")))

    cuts = sorted(draw(st.sets(st.integers(1, n_items - 1), max_size=n_sections - 1))) if n_items > 1 else []
    bounds = [0, *cuts, n_items]
    sections = tuple(
        Section(f"s{k}", _t(f"section {k}"), tuple(items[bounds[k] : bounds[k + 1]]))
        for k in range(len(bounds) - 1)
    )
    scale = draw(st.sampled_from([Decimal(100), Decimal(1000)]))
    margin = scale * draw(st.sampled_from([Decimal("0.05"), Decimal("0.1")]))
    targets = []
    for k in range(draw(st.integers(1, 3))):
        thr = scale * Decimal(draw(st.integers(20, 100))) / 100
        gids = tuple(g.id for g in gates if draw(st.booleans()))
        targets.append(
            Target(f"t{k}", _t(f"target {k}"), gids, thr.quantize(Decimal("0.1")) if thr > margin else thr)
        )
    return Framework(
        id="synthetic",
        version="0.0.1",
        title=_t("synthetic"),
        description=_t("random"),
        sections=sections,
        targets=tuple(targets),
        gates=tuple(gates),
        scales=tuple(scales),
        modes=modes,
        scale=scale,
        near_margin=margin,
        evidence_cap=draw(st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal(1)])),
    )


def answer_values(fw: Framework, item: Item, mode: str) -> st.SearchStrategy[object]:
    """Any valid answer to `item` in `mode`."""
    kind = item.answer_type
    if kind is AnswerType.YES_NO:
        return st.booleans()
    if kind is AnswerType.CHOICE:
        return st.sampled_from([o.value for o in item.options])
    if kind is AnswerType.SCALE:
        levels = tables_for(fw).by_id[item.id].level_points[mode]
        return st.sampled_from(list(levels))
    if kind is AnswerType.PERCENT:
        return st.one_of(st.integers(0, 100), st.sampled_from([0.5, 29.99, 64.5, 99.9]))
    if kind is AnswerType.NUMBER:
        hi = 100 if item.max_value is not None else 10_000
        return st.one_of(st.integers(0, hi), st.sampled_from([0.25, 2.5]))
    if kind is AnswerType.DATE:
        return st.integers(0, 15).map(lambda y: years_before(AS_OF, y).isoformat())
    return st.text(max_size=8)


PROFILES = st.fixed_dictionaries(
    {},
    optional={
        "is_manufacturing": st.booleans(),
        "years_operating": st.integers(0, 12),
        "industry_section": st.sampled_from(["C", "D", "F"]),
        "founded_on": st.integers(0, 12).map(lambda y: years_before(AS_OF, y).isoformat()),
    },
)


@st.composite
def submissions(draw: st.DrawFn, fw: Framework, *, na: bool = True, profile: bool = True) -> Submission:
    """A random valid submission: each item unanswered, answered, or (where allowed) declared N/A."""
    mode = draw(st.sampled_from([m.id for m in fw.modes]))
    answers: dict[str, object] = {}
    nas: dict[str, str] = {}
    t = tables_for(fw)
    for item in fw.items:
        if item.answer_type is AnswerType.SCALE and mode not in t.by_id[item.id].level_points:
            continue
        what = draw(st.sampled_from(["answer", "answer", "skip", "na"]))
        if what == "answer":
            answers[item.id] = draw(answer_values(fw, item, mode))
        elif what == "na" and na and item.allow_na:
            nas[item.id] = draw(st.sampled_from(["不适用：无此业务", "we have no such process"]))
    evidence = frozenset(i.id for i in fw.items if i.evidence is not None and draw(st.booleans()))
    prof = draw(PROFILES) if profile else {}
    return Submission(
        answers=answers,
        na=nas,
        evidence=evidence,
        profile=prof,
        mode=None if mode == fw.default_mode else mode,
        as_of=AS_OF,
    )


def passing_profile(fw: Framework, target: Target | None = None) -> dict[str, object]:
    """Profile facts meeting every profile gate of `target` (of the whole framework when None).

    Gates of different targets may contradict each other (registered in Hangzhou / in Shaoxing), so
    one profile cannot meet every gate of a framework: where two gates test one fact, the later wins.
    """
    out: dict[str, object] = {
        "is_manufacturing": True,
        "years_operating": 30,
        "industry_section": "C",
        "founded_on": years_before(AS_OF, 30).isoformat(),
    }
    wanted = None if target is None else set(target.gates)
    for g in fw.gates:
        c = g.passes_if
        if c.profile is None or (wanted is not None and g.id not in wanted):
            continue
        v = passing_value(c)
        if c.op is Op.GTE and isinstance(out.get(c.profile), int) and out[c.profile] >= v:  # type: ignore[operator]
            continue
        out[c.profile] = v
    return out


def passing_value(c: Condition) -> object:
    """A value for which condition `c` holds (as of `AS_OF` for the whole-years conditions)."""
    if c.op is Op.YEARS_GTE:
        return years_before(AS_OF, int(str(c.value))).isoformat()
    if c.op is Op.YEARS_LT:
        return years_before(AS_OF, int(str(c.value)) - 1).isoformat()
    if c.op in (Op.EQ, Op.GTE, Op.LTE):
        return c.value
    if c.op is Op.IN:
        assert isinstance(c.value, (list, tuple)) and c.value
        return c.value[0]
    # NE
    if isinstance(c.value, bool):
        return not c.value
    if isinstance(c.value, str):
        return c.value + "-other"
    return Decimal(str(c.value)) + 1 if c.value is not None else 1


def failing_value(c: Condition) -> object:
    """A value for which condition `c` fails (as of `AS_OF` for the whole-years conditions)."""
    v = c.value
    if c.op is Op.YEARS_GTE:
        return years_before(AS_OF, int(str(v)) - 1).isoformat()
    if c.op is Op.YEARS_LT:
        return years_before(AS_OF, int(str(v))).isoformat()
    if c.op is Op.EQ:
        if isinstance(v, bool):
            return not v
        return v + "-other" if isinstance(v, str) else Decimal(str(v)) + 1
    if c.op is Op.NE:
        return v
    if c.op is Op.IN:
        return "zz-not-listed"
    if c.op is Op.GTE:
        return Decimal(str(v)) - 1
    return Decimal(str(v)) + 1


def ideal_submission(
    fw: Framework, mode: str | None = None, profile: Mapping[str, object] | None = None
) -> Submission:
    """Every item answered with its ideal answer, every item's evidence attached, gates' profile passing."""
    m = mode or fw.default_mode
    t = tables_for(fw)
    answers = {
        i.id: ideal_answer(fw, i, mode=m, as_of=AS_OF)
        for i in fw.items
        if not (i.answer_type is AnswerType.SCALE and m not in t.by_id[i.id].level_points)
    }
    return Submission(
        answers=answers,
        evidence=frozenset(i.id for i in fw.items),
        profile=dict(passing_profile(fw) if profile is None else profile),
        mode=mode,
        as_of=AS_OF,
    )


def zero_submission(
    fw: Framework, mode: str | None = None, profile: Mapping[str, object] | None = None
) -> Submission:
    """Every item answered with its zero answer."""
    m = mode or fw.default_mode
    t = tables_for(fw)
    answers = {
        i.id: zero_answer(fw, i, mode=m, as_of=AS_OF)
        for i in fw.items
        if not (i.answer_type is AnswerType.SCALE and m not in t.by_id[i.id].level_points)
    }
    return Submission(answers=answers, profile=dict(profile or {}), mode=mode, as_of=AS_OF)


def attainable(fw: Framework, item_id: str, mode: str) -> Decimal:
    """The most an item can earn in a mode: its points, or what the mode's scale allows at best."""
    it = tables_for(fw).by_id[item_id]
    if it.kind is AnswerType.SCALE:
        levels = it.level_points.get(mode)
        return max(levels.values()) if levels else Decimal(0)
    return it.max_points
