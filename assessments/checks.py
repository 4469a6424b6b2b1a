"""What can be wrong with one framework on its own (ids, answer types, points, bands, scales,
conditions, gates, targets), as a list of `Problem`s: `check_framework`.

`assessments.loader` refuses a framework that fails these checks; `assessments.validate` adds the
checks that need other files. What an answer type allows (its options, bounds, bands, scales, the
values a condition may compare it with) is asked of the type itself (`scoring.types`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scoring import InvalidSubmission, Submission, ideal_answer, score, zero_answer
from scoring.model import Band, Condition, Framework, Gate, Item, Level, Op, Target, region_prefix
from scoring.tables import tables_for
from scoring.types import KINDS, kind_of


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a framework file. `item` is the id of the item (or section, gate, target,
    scale, mode) the problem is about, None for the framework or the file as a whole."""

    file: str
    item: str | None
    message: str

    def __str__(self) -> str:
        if self.item is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}: {self.item}: {self.message}"


# The date reference answers are declared as of by default (`export.DEFAULT_AS_OF`) and checked as of.
REFERENCE_AS_OF = dt.date(2025, 1, 1)


@dataclass(frozen=True)
class ProfileFact:
    """A fact of the firm's profile that conditions and gates may test (docs/frameworks.md)."""

    type: str  # "str" | "bool" | "int" | "date"
    pattern: re.Pattern[str] | None = None
    values: tuple[str, ...] = ()


PROFILE_FACTS: dict[str, ProfileFact] = {
    "region": ProfileFact("str", re.compile(r"^\d{6}$")),
    "city": ProfileFact("str", re.compile(r"^\d{6}$")),
    "registered_in_zhejiang": ProfileFact("bool"),
    "industry_section": ProfileFact("str", re.compile(r"^[A-T]$")),
    "industry_division": ProfileFact("str", re.compile(r"^\d{2}$")),
    "is_manufacturing": ProfileFact("bool"),
    "size_class": ProfileFact("str", values=("large", "medium", "small", "micro")),
    "above_scale": ProfileFact("bool"),
    "years_operating": ProfileFact("int"),
    "founded_on": ProfileFact("date"),  # "YYYY-MM-DD": test it with years_gte / years_lt
}

YEARS_OPS = (Op.YEARS_GTE, Op.YEARS_LT)

# A target's region scope (`region:`): GB/T 2260 code prefixes, "33" a province, "3306" a city,
# "330602" a county. The names live in webapp/refdata (assessments does not read the webapp): here the
# shape, and the province codes of GB/T 2260.
REGION_PREFIX_RE = re.compile(r"^\d{2}(?:\d{2}){0,2}$")
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "  # noqa: SIM905 - two rows read better
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def check_framework(fw: Framework, file: str) -> list[Problem]:
    """Everything that can be wrong with one framework that needs no other file."""
    return _FrameworkChecker(fw, file).run()


class _FrameworkChecker:
    def __init__(self, fw: Framework, file: str) -> None:
        self.fw = fw
        self.file = file
        self.problems: list[Problem] = []
        self.mode_ids = [m.id for m in fw.modes]

    def err(self, where: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def dupes(self, kind: str, ids: Iterable[str], where: str | None = None) -> None:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                self.err(where if where is not None else i, f"duplicate {kind} {i!r}")
            seen.add(i)

    def run(self) -> list[Problem]:
        fw = self.fw
        if fw.scale <= 0:
            self.err(None, f"scale: must be positive, got {fw.scale}")
        if not 0 <= fw.near_margin <= fw.scale:
            self.err(None, f"near_margin: must be within 0..{fw.scale}, got {fw.near_margin}")
        if not 0 <= fw.evidence_cap <= 1:
            self.err(None, f"evidence_cap: must be within 0..1, got {fw.evidence_cap}")
        self.dupes("mode id", self.mode_ids)
        self.dupes("scale id", (s.id for s in fw.scales))
        self.dupes("section id", (s.id for s in fw.sections))
        self.dupes("item id", (i.id for s in fw.sections for i in s.items))
        self.dupes("gate id", (g.id for g in fw.gates))
        self.dupes("target id", (t.id for t in fw.targets))
        for scale in fw.scales:
            self.check_scale_levels(scale.id, scale.levels)
        if not fw.items:
            self.err(None, "the framework has no items")
        earlier: set[str] = set()
        for section in fw.sections:
            for item in section.items:
                self.check_item(item, earlier)
                earlier.add(item.id)
        total = sum((i.max_points for i in fw.items), Decimal(0))
        if fw.scale != 100 and total != fw.scale:
            self.err(None, f"the items' points sum to {total}, but the framework's scale is {fw.scale}")
        self.check_gates()
        self.check_targets()
        if not self.problems:  # the engine refuses (or misreads) a framework with the problems above
            self.check_reference_answers()
        return self.problems

    def check_scale_levels(self, scale_id: str, lvs: Sequence[Level]) -> None:
        self.dupes("level value", (lv.value for lv in lvs), scale_id)
        for lv in lvs:
            if not 0 <= lv.percent <= 100:
                self.err(scale_id, f"level {lv.value!r}: percent must be within 0..100, got {lv.percent}")
        for a, b in itertools.pairwise(lvs):
            if b.percent < a.percent:
                self.err(
                    scale_id, f"levels must be in ascending order of percent ({a.value!r} > {b.value!r})"
                )

    # --- items

    def check_item(self, item: Item, earlier: set[str]) -> None:
        kind = kind_of(item.answer_type)
        where = item.id
        mx = item.max_points
        for message in kind.item_problems(item):
            self.err(where, message)
        if item.options:
            self.dupes("option value", (o.value for o in item.options), where)
            for o in item.options:
                if o.points < 0 or o.points > mx:
                    self.err(
                        where, f"option {o.value!r}: points {o.points} outside 0..{mx} (the item's points)"
                    )
            if all(o.points != mx for o in item.options):
                self.err(where, f"no option earns the item's full {mx} points")
        if kind.numeric:
            self.check_bounds(item)
        if "bands" in kind.keys:
            self.check_bands(item)
        if kind.by_mode:
            self.check_item_scales(item)
        if item.evidence_required and item.evidence is None:
            self.err(where, "evidence_required: true needs 'evidence' (what evidence counts)")
        for mode in item.narrative_modes:
            if mode not in self.mode_ids:
                self.err(where, f"narrative: unknown mode {mode!r} (modes: {', '.join(self.mode_ids)})")
        self.dupes("narrative mode", item.narrative_modes, where)
        if item.gate and item.allow_na:
            self.err(where, "a gate item must set allow_na: false")
        for cond in item.applies_if:
            self.check_condition(cond, where, "applies_if", earlier)

    def check_bounds(self, item: Item) -> None:
        lo, hi = item.min_value, item.max_value
        kind = kind_of(item.answer_type)
        floor, ceiling = getattr(kind, "limits", (None, None))
        for name, v in (("min", lo), ("max", hi)):
            if v is None:
                continue
            if (floor is not None and v < floor) or (ceiling is not None and v > ceiling):
                self.err(
                    item.id, f"{name}: a {kind.type.value} bound must be within {floor}..{ceiling}, got {v}"
                )
        if lo is not None and hi is not None and lo >= hi:
            self.err(item.id, f"min ({lo}) must be below max ({hi})")

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        """The answers an item accepts (inclusive bounds; None = unbounded) for the band checks."""
        return kind_of(item.answer_type).domain(item)

    def check_bands(self, item: Item) -> None:
        where = item.id
        bands = item.bands
        mx = item.max_points
        if not bands:
            self.err(where, f"bands: a {item.answer_type.value} item needs at least one band")
            return
        for i, b in enumerate(bands):
            if b.min is not None and b.max is not None and b.min >= b.max:
                self.err(where, f"bands[{i}]: min ({b.min}) must be below max ({b.max})")
            if b.points < 0 or b.points > mx:
                self.err(where, f"bands[{i}]: points {b.points} outside 0..{mx} (the item's points)")
        for i, (a, b) in enumerate(itertools.pairwise(bands)):
            if a.max is None or b.min is None:
                self.err(
                    where, f"bands[{i + 1}] overlaps bands[{i}] (sort bands by min; they must not overlap)"
                )
            elif a.min is not None and b.min < a.min:
                self.err(where, f"bands are not sorted: bands[{i + 1}] starts below bands[{i}]")
            elif b.min < a.max:
                self.err(where, f"bands[{i + 1}] overlaps bands[{i}] ({_band(b)} and {_band(a)})")
            elif b.min > a.max:
                self.err(where, f"values from {a.max} to below {b.min} match no band (gap between bands)")
        lo, hi = self.domain(item)
        first, last = bands[0], bands[-1]
        if lo is not None and first.min is not None and first.min > lo:
            self.err(where, f"values from {lo} to below {first.min} match no band")
        if last.max is not None and (hi is None or last.max <= hi):
            upto = f" up to {hi}" if hi is not None else ""
            self.err(
                where,
                f"values from {last.max}{upto} match no band (a band's max is exclusive: "
                "omit the last band's max)",
            )
        for i, b in enumerate(bands):
            if (hi is not None and b.min is not None and b.min > hi) or (
                lo is not None and b.max is not None and b.max <= lo
            ):
                self.err(where, f"bands[{i}] ({_band(b)}) can never match an accepted answer")
        if all(b.points != mx for b in bands):
            self.err(where, f"no band earns the item's full {mx} points")

    def check_item_scales(self, item: Item) -> None:
        where = item.id
        for mode, _ in item.scales:
            if mode not in self.mode_ids:
                self.err(where, f"scale: unknown mode {mode!r} (modes: {', '.join(self.mode_ids)})")
        self.dupes("scale mode", (m for m, _ in item.scales), where)
        full: list[bool] = []
        for mode in self.mode_ids:
            sid = item.scale_for(mode)
            if sid is None:
                self.err(where, f"scale: no scale for mode {mode!r}")
                continue
            scale = self.fw.scale_by_id(sid)
            if scale is None:
                known = ", ".join(s.id for s in self.fw.scales) or "none"
                self.err(where, f"scale: unknown scale {sid!r} for mode {mode!r} (scales: {known})")
            else:
                full.append(any(lv.percent == 100 for lv in scale.levels))
        # A mode may cap the answers (a quick self-check that never gives the top band), but in some
        # mode the item must be able to earn its full points.
        if full and not any(full):
            names = ", ".join(sorted({sid for _, sid in item.scales}))
            self.err(
                where,
                f"scale {names}: no level reaches 100 percent in any mode, so no answer earns full points",
            )

    def check_reference_answers(self) -> None:
        """Score every item's declared reference answers with the engine, in every mode.

        The export and the API declare each item's `zero_answer` and `ideal_answer` (`scoring`'s
        reference answers); people answer with them. The zero answer must earn 0 points, the ideal one
        (with its evidence) the item's points (the most the mode's scale gives, where a mode caps it) and
        pass every gate the item decides. They are declared and scored as of the export's date: a date
        answer counts whole years before the scoring date. Items tested by an `applies_if` are scored
        alone, so that no answer switches another item off; the others together.
        """
        fw = self.fw
        as_of = REFERENCE_AS_OF
        t = tables_for(fw)
        several = len(self.mode_ids) > 1
        for mode in self.mode_ids:
            items = [
                it for it in t.items if it.rules.scored and not (it.by_mode and mode not in it.level_points)
            ]
            in_mode = f" in mode {mode!r}" if several else ""
            groups = [[it for it in items if it.id not in t.referenced]]
            groups += [[it] for it in items if it.id in t.referenced]
            for kind, pick in (("zero", zero_answer), ("ideal", ideal_answer)):
                for group in groups:
                    answers = {it.id: pick(fw, it.item, mode=mode, as_of=as_of) for it in group}
                    sub = Submission(answers=answers, evidence=frozenset(answers), mode=mode, as_of=as_of)
                    try:
                        r = score(fw, sub, explain=False)
                    except InvalidSubmission as e:
                        for p in e.problems:
                            self.err(p.item, f"the engine refuses the {kind} answer{in_mode}: {p.message.en}")
                        continue
                    scored = {x.id: x for x in r.items}
                    for it in group:
                        x = scored[it.id]
                        if not x.applicable:  # pragma: no cover - nothing is answered to switch it off
                            continue
                        value = json.dumps(answers[it.id], ensure_ascii=False)
                        if kind == "zero" and x.points != 0:
                            self.err(
                                it.id,
                                f"the zero answer {value}{in_mode} earns {x.points} points, not 0 "
                                "(some answer must earn nothing)",
                            )
                        best = it.best(mode)
                        if kind == "ideal" and x.points != best:
                            self.err(
                                it.id,
                                f"the ideal answer {value}{in_mode} earns {x.points} points, not {best}",
                            )
                        if kind == "ideal":
                            for gp in it.gates:
                                g = r.gates[gp]
                                if g.status != "pass":
                                    self.err(
                                        it.id,
                                        f"the ideal answer {value}{in_mode} does not pass gate {g.id!r}",
                                    )

    # --- conditions, gates, targets

    def check_condition(
        self, cond: Condition, where: str | None, what: str, earlier: set[str] | None
    ) -> None:
        if cond.item is not None:
            ref = self.fw.item(cond.item)
            if ref is None:
                self.err(where, f"{what}: refers to unknown item {cond.item!r}")
                return
            if earlier is not None and cond.item not in earlier:
                self.err(
                    where,
                    f"{what}: item {cond.item!r} must come before the item whose applicability it decides",
                )
            self.check_item_value(cond, ref, where, what)
        elif cond.profile is not None:
            fact = PROFILE_FACTS.get(cond.profile)
            if fact is None:
                known = ", ".join(PROFILE_FACTS)
                self.err(where, f"{what}: unknown profile fact {cond.profile!r} (known: {known})")
                return
            self.check_profile_value(cond, fact, where, what)

    def check_item_value(self, cond: Condition, ref: Item, where: str | None, what: str) -> None:
        kind = kind_of(ref.answer_type)
        values = list(cond.value) if isinstance(cond.value, tuple) else [cond.value]
        label = f"{what}: item {ref.id!r} ({kind.type.value})"
        if cond.op in YEARS_OPS:
            if not kind.dated:
                self.err(where, f"{label}: '{cond.op.value}' counts years since a date: it needs a date item")
            return
        if cond.op in (Op.GTE, Op.LTE) and not kind.ordered:
            ordered = [k.type.value for k in KINDS.values() if k.ordered]
            names = ", ".join(ordered[:-1]) + " or " + ordered[-1]
            self.err(where, f"{label}: '{cond.op.value}' needs a {names} item")
            return
        for v in values:
            why = kind.condition_value(self.fw, ref, v)
            if why is not None:
                self.err(where, f"{label}: {why}")

    def check_profile_value(self, cond: Condition, fact: ProfileFact, where: str | None, what: str) -> None:
        label = f"{what}: profile fact {cond.profile!r} ({fact.type})"
        if cond.op in YEARS_OPS:
            if fact.type != "date":
                self.err(where, f"{label}: '{cond.op.value}' counts years since a date: it needs a date fact")
            return
        if fact.type == "date":
            self.err(where, f"{label}: test a date fact with years_gte or years_lt")
            return
        if cond.op in (Op.GTE, Op.LTE) and fact.type != "int":
            self.err(where, f"{label}: '{cond.op.value}' needs a number fact")
            return
        values = list(cond.value) if isinstance(cond.value, tuple) else [cond.value]
        for v in values:
            if fact.type == "bool" and not isinstance(v, bool):
                self.err(where, f"{label}: compare with true or false, got {v!r}")
            elif fact.type == "int" and not (isinstance(v, Decimal) and v == v.to_integral_value()):
                self.err(where, f"{label}: compare with a whole number, got {v!r}")
            elif fact.type == "str":
                if not isinstance(v, str):
                    self.err(where, f"{label}: compare with a string (quote it), got {v!r}")
                elif fact.values and v not in fact.values:
                    self.err(where, f"{label}: {v!r} is not one of {list(fact.values)}")
                elif fact.pattern is not None and not fact.pattern.match(v):
                    self.err(where, f"{label}: {v!r} is not a valid value")

    def check_gates(self) -> None:
        used = {g for t in self.fw.targets for g in t.gates}
        decided: set[str] = set()
        for gate in self.fw.gates:
            self.check_condition(gate.passes_if, gate.id, "passes_if", None)
            if gate.exempt_if is not None:
                self.check_condition(gate.exempt_if, gate.id, "exempt_if", None)
            if gate.item is not None:
                decided.add(gate.item)
                ref = self.fw.item(gate.item)
                if ref is not None:
                    if ref.allow_na:
                        self.err(ref.id, f"decides gate {gate.id!r}, so it must set allow_na: false")
                    if not ref.gate:
                        self.err(ref.id, f"decides gate {gate.id!r}, so it must set gate: true")
            if gate.id not in used:
                self.err(gate.id, "gate is not used by any target")
        for item in self.fw.items:
            if item.gate and item.id not in decided:
                self.err(item.id, "gate: true, but no gate's passes_if refers to this item")

    def check_targets(self) -> None:
        gate_ids = [g.id for g in self.fw.gates]
        for target in self.fw.targets:
            if not 0 <= target.threshold <= self.fw.scale:
                self.err(target.id, f"threshold {target.threshold} outside 0..{self.fw.scale} (the scale)")
            for g in target.gates:
                if g not in gate_ids:
                    known = ", ".join(gate_ids) or "none"
                    self.err(target.id, f"gates: unknown gate {g!r} (gates: {known})")
            self.dupes("gate", target.gates, target.id)
            self.check_region(target)

    def check_region(self, target: Target) -> None:
        """The scope is well-formed GB/T 2260 prefixes and agrees with the target's location gates."""
        ok = True
        for code in target.region:
            if not REGION_PREFIX_RE.match(code) or code[:2] not in PROVINCE_CODES:
                self.err(
                    target.id,
                    f'region: {code!r} is not a GB/T 2260 code prefix ("33" a province, "3306" a city, '
                    '"330602" a county)',
                )
                ok = False
            elif code != region_prefix(code):
                self.err(target.id, f"region: {code!r} ends in 00: write the prefix {region_prefix(code)!r}")
                ok = False
        self.dupes("region", target.region, target.id)
        for a, b in itertools.permutations(target.region, 2):
            if a != b and b.startswith(a):
                self.err(target.id, f"region: {b!r} lies inside {a!r}: list only {a!r}")
                ok = False
        gated = gates_region(target, self.fw.gates)
        if ok and gated and set(gated) != set(target.region):
            declared = list(target.region) if target.region else "none (everywhere)"
            self.err(
                target.id,
                f"region: declares {declared}, but its location gates limit it to {list(gated)}: "
                "the scope and the gates must agree",
            )


def _band(b: Band) -> str:
    lo = "" if b.min is None else f"{b.min} <= "
    hi = "" if b.max is None else f" < {b.max}"
    return f"{lo}x{hi}"


def gate_region(cond: Condition) -> tuple[str, ...] | None:
    """The region-code prefixes a gate on where the firm is registered limits a target to; None for a
    gate on anything else. `city` / `region` eq or in a code: the code's prefix ("330600" gives
    "3306"); `registered_in_zhejiang` eq true: "33"."""
    if cond.profile in ("city", "region") and cond.op in (Op.EQ, Op.IN):
        values = cond.value if cond.op is Op.IN and isinstance(cond.value, (list, tuple)) else [cond.value]
        codes = [v for v in values if isinstance(v, str) and v.isascii() and v.isdigit()]
        return tuple(dict.fromkeys(region_prefix(v) for v in codes)) if len(codes) == len(values) else None
    if cond.profile == "registered_in_zhejiang" and cond.op is Op.EQ and cond.value is True:
        return ("33",)
    return None


def gates_region(target: Target, gates: Iterable[Gate]) -> tuple[str, ...]:
    """The region-code prefixes a target's location gates limit it to: where every one of them passes
    (empty: no location gate)."""
    by_id = {g.id: g for g in gates}
    region: tuple[str, ...] = ()
    for gid in target.gates:
        g = by_id.get(gid)
        scope = gate_region(g.passes_if) if g is not None else None
        if scope is None:
            continue
        # inside both places: of two nested prefixes the longer ("33" and "3306" give "3306")
        both = [a for a in region for b in scope if a.startswith(b)]
        both += [b for b in scope for a in region if b.startswith(a)]
        region = (tuple(dict.fromkeys(both)) or region) if region else scope
    return region
