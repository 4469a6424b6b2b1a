"""Validation of framework files: everything that can be wrong with them, as a list of `Problem`s.

`check_framework` checks one framework on its own (ids, answer types, points, bands, scales,
conditions, gates, targets); `assessments.loader` refuses a framework that fails it. `validate_path`
adds what needs other files: the file layout, ids unique across all frameworks, the shared facts of
`assessments/facts.yaml`, the quotes of the seed plans (`../shared/seeds`, or $QREADY_SEEDS_DIR) and
the hashes of released versions (`released.json`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from assessments.loader import (
    FACT_RE,
    Problem,
    default_root,
    file_sha256,
    gates_region,
    parse_text,
    read_file,
    read_yaml,
    repo_root,
)
from scoring import InvalidSubmission, Submission, ideal_answer, score, zero_answer
from scoring.model import AnswerType, Band, Condition, Framework, Item, Level, Op, Target, Text, region_prefix
from scoring.tables import tables_for

__all__ = [
    "PROFILE_FACTS",
    "REFERENCE_AS_OF",
    "Fact",
    "Problem",
    "ProfileFact",
    "ReleaseError",
    "check_framework",
    "facts_path",
    "find_quote",
    "flatten_seed",
    "load_facts",
    "load_released",
    "release",
    "released_path",
    "seeds_dir",
    "validate_path",
]

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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

# Released before rules carried their provenance (`rule`): exempt from the provenance check while their
# bytes are these (a changed file is refused anyway: "released version changed").
PRE_PROVENANCE: dict[str, str] = {
    "chief-quality-officer/1.0.0": "2f0af6defc695f9d981cbf0a44521584322246117b11f73671f0a5b9a34eb236",
    "labelling-four-100/1.0.0": "d6cc93b79458637e9402951f1173ba9e76265d4354e70c14e64103e1998f0936",
    "performance-excellence/1.0.0": "7b93c5a0976a7b7f4f046916506bcbeeed7fe374e9105220a688a75b9e3be0ae",
    "pinzibiao/1.0.0": "ad1ef719170546797e9ee66762f9e55d39573e88ec4f2f284370a62c32f23b38",
    "standards-adoption/1.0.0": "90399845ce3bbdea11a3b0af617993471941d4a0ee19fb73a3bb546981846fa1",
}


@dataclass(frozen=True)
class Fact:
    """A shared fact of `assessments/facts.yaml`: one answer, used by every framework asking it."""

    key: str
    type: AnswerType
    title: Text
    options: tuple[str, ...] = ()


class ReleaseError(Exception):
    """A version cannot be released (invalid, a draft, or released before with other content)."""


# --------------------------------------------------------------------------------------------------
# Locations


def seeds_dir() -> Path:
    """The seed plans: $QREADY_SEEDS_DIR, else `shared/seeds` next to the repository."""
    env = os.environ.get("QREADY_SEEDS_DIR")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "seeds"


def facts_path() -> Path:
    return Path(__file__).resolve().parent / "facts.yaml"


def released_path(root: Path | str | None = None) -> Path:
    return (Path(root) if root is not None else default_root()) / "released.json"


# --------------------------------------------------------------------------------------------------
# One framework on its own


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
        t = item.answer_type
        where = item.id
        mx = item.max_points
        if t is AnswerType.YES_NO and item.options:
            values = sorted(o.value for o in item.options)
            if values != ["no", "yes"]:
                self.err(
                    where, f"options: a yes_no item has exactly the options 'yes' and 'no', got {values}"
                )
        if t is AnswerType.CHOICE and len(item.options) < 2:
            self.err(where, "options: a choice item needs at least two options")
        if item.options:
            self.dupes("option value", (o.value for o in item.options), where)
            for o in item.options:
                if o.points < 0 or o.points > mx:
                    self.err(
                        where, f"option {o.value!r}: points {o.points} outside 0..{mx} (the item's points)"
                    )
            if all(o.points != mx for o in item.options):
                self.err(where, f"no option earns the item's full {mx} points")
        if t in (AnswerType.PERCENT, AnswerType.NUMBER):
            self.check_bounds(item)
        if t in (AnswerType.PERCENT, AnswerType.NUMBER, AnswerType.DATE):
            self.check_bands(item)
        if t is AnswerType.SCALE:
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
        if item.answer_type is AnswerType.PERCENT:
            for name, v in (("min", lo), ("max", hi)):
                if v is not None and not 0 <= v <= 100:
                    self.err(item.id, f"{name}: a percent bound must be within 0..100, got {v}")
        if lo is not None and hi is not None and lo >= hi:
            self.err(item.id, f"min ({lo}) must be below max ({hi})")

    def domain(self, item: Item) -> tuple[Decimal | None, Decimal | None]:
        """The answers an item accepts (inclusive bounds; None = unbounded) for the band checks."""
        if item.answer_type is AnswerType.PERCENT:
            lo = item.min_value if item.min_value is not None else Decimal(0)
            hi = item.max_value if item.max_value is not None else Decimal(100)
            return lo, hi
        if item.answer_type is AnswerType.DATE:
            return Decimal(0), None  # whole years before the scoring date
        return item.min_value, item.max_value

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
                it
                for it in t.items
                if it.kind is not AnswerType.TEXT
                and not (it.kind is AnswerType.SCALE and mode not in it.level_points)
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
                        best = it.level_best[mode] if it.kind is AnswerType.SCALE else it.max_points
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
        t = ref.answer_type
        values = list(cond.value) if isinstance(cond.value, tuple) else [cond.value]
        label = f"{what}: item {ref.id!r} ({t.value})"
        if cond.op in YEARS_OPS:
            if t is not AnswerType.DATE:
                self.err(where, f"{label}: '{cond.op.value}' counts years since a date: it needs a date item")
            return
        if cond.op in (Op.GTE, Op.LTE) and t not in (AnswerType.PERCENT, AnswerType.NUMBER, AnswerType.DATE):
            self.err(where, f"{label}: '{cond.op.value}' needs a percent, number or date item")
            return
        for v in values:
            if t is AnswerType.YES_NO and not isinstance(v, bool):
                self.err(where, f"{label}: compare with true or false, got {v!r}")
            elif t is AnswerType.CHOICE:
                allowed = [o.value for o in ref.options]
                if v not in allowed:
                    self.err(where, f"{label}: {v!r} is not one of its options {allowed}")
            elif t is AnswerType.SCALE:
                allowed = sorted(
                    {lv.value for _, sid in ref.scales for lv in _levels(self.fw, sid)},
                )
                if v not in allowed:
                    self.err(where, f"{label}: {v!r} is not a level of its scales {allowed}")
            elif t in (AnswerType.PERCENT, AnswerType.NUMBER) and not isinstance(v, Decimal):
                self.err(where, f"{label}: compare with a number, got {v!r}")
            elif t is AnswerType.DATE and not (isinstance(v, str) and _is_date(v)):
                self.err(where, f'{label}: compare with a date "YYYY-MM-DD", got {v!r}')
            elif t is AnswerType.TEXT and not isinstance(v, str):
                self.err(where, f"{label}: compare with a string, got {v!r}")

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


def _levels(fw: Framework, scale_id: str) -> tuple[Level, ...]:
    scale = fw.scale_by_id(scale_id)
    return scale.levels if scale is not None else ()


def _band(b: Band) -> str:
    lo = "" if b.min is None else f"{b.min} <= "
    hi = "" if b.max is None else f" < {b.max}"
    return f"{lo}x{hi}"


def _is_date(s: str) -> bool:
    if not ISO_DATE_RE.match(s):
        return False
    try:
        dt.date.fromisoformat(s)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Shared facts


def load_facts(path: Path | str | None = None) -> tuple[dict[str, Fact], list[Problem]]:
    """The shared facts of `assessments/facts.yaml` and the problems of that file."""
    p = Path(path) if path is not None else facts_path()
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        return {}, [Problem(str(p), None, "facts file missing")]
    facts, problems = _facts_cached(str(p), mtime)
    return dict(facts), list(problems)


@functools.lru_cache(maxsize=8)
def _facts_cached(path: str, mtime_ns: int) -> tuple[dict[str, Fact], tuple[Problem, ...]]:
    problems: list[Problem] = []

    def err(key: str | None, message: str) -> None:
        problems.append(Problem(path, key, message))

    try:
        data = read_yaml(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:  # a YAML or encoding error: report it, never crash validation
        err(None, f"cannot read: {' '.join(str(exc).split())}")
        return {}, tuple(problems)
    raw = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {"facts"} or not isinstance(raw, dict):
        err(None, "expected a mapping with the single key 'facts' (a mapping of fact keys)")
        return {}, tuple(problems)
    facts: dict[str, Fact] = {}
    for key, spec in raw.items():
        if not isinstance(key, str) or not FACT_RE.match(key):
            err(str(key), "not a fact key (lowercase letters, digits and '_')")
            continue
        if not isinstance(spec, dict):
            err(key, "expected a mapping {type, title, options?}")
            continue
        unknown = sorted(set(spec) - {"type", "title", "options"})
        if unknown:
            err(key, f"unknown keys {unknown}")
        try:
            atype = AnswerType(spec.get("type"))
        except ValueError:
            err(key, f"type: {spec.get('type')!r} is not an answer type")
            continue
        title = spec.get("title")
        if not (
            isinstance(title, dict)
            and set(title) == {"zh", "en"}
            and all(isinstance(v, str) and v.strip() for v in title.values())
        ):
            err(key, "title: expected {zh, en}, both non-empty")
            continue
        options = spec.get("options", [])
        if atype is AnswerType.CHOICE:
            if (
                not isinstance(options, list)
                or len(options) < 2
                or not all(isinstance(o, str) for o in options)
            ):
                err(key, "options: a choice fact lists at least two option values")
                continue
            if len(set(options)) != len(options):
                err(key, "options: duplicate option values")
        elif "options" in spec:
            err(key, "options: only a choice fact has options")
            continue
        facts[key] = Fact(key=key, type=atype, title=Text(title["zh"], title["en"]), options=tuple(options))
    return facts, tuple(problems)


# --------------------------------------------------------------------------------------------------
# Seed plans and quotes


def flatten_seed(text: str) -> str:
    """A seed plan as quotes are matched against it: no line breaks, no `[bookmark: …]` artefacts."""
    return BOOKMARK_RE.sub("", text).replace("\r", "").replace("\n", "")


@functools.lru_cache(maxsize=16)
def _seed_cached(path: str, mtime_ns: int) -> str:
    return flatten_seed(Path(path).read_text(encoding="utf-8"))


def _seed(directory: Path, doc: str) -> str | None:
    if "/" in doc or "\\" in doc or doc.startswith("."):
        return None
    p = directory / doc
    try:
        return _seed_cached(str(p), p.stat().st_mtime_ns)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "＂": '"'})


def _loose(text: str) -> tuple[str, list[int]]:
    """`text` without whitespace, NFKC-normalised (full-width -> half-width), with each character's
    position in `text`."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).translate(_QUOTE_MARKS):
            if not c.isspace():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


@functools.lru_cache(maxsize=16)
def _loose_cached(text: str) -> tuple[str, tuple[int, ...]]:
    s, where = _loose(text)
    return s, tuple(where)


def find_quote(quote: str, doc: str, directory: Path | None = None) -> tuple[bool, str | None]:
    """Is `quote` in the seed `doc` verbatim (line breaks ignored)? When not: the seed's text that
    matches it up to spacing and character width, if any, to show what the quote should be."""
    text = _seed(directory if directory is not None else seeds_dir(), doc)
    if text is None:
        return False, None
    q = quote.replace("\r", "").replace("\n", "")
    if q in text:
        return True, None
    loose_q, _ = _loose(q)
    loose_text, where = _loose_cached(text)
    if not loose_q:
        return False, None
    start = loose_text.find(loose_q)
    if start < 0:
        return False, None
    return False, text[where[start] : where[start + len(loose_q) - 1] + 1]


# --------------------------------------------------------------------------------------------------
# Released versions


def load_released(root: Path | str | None = None) -> tuple[dict[str, str], list[Problem]]:
    """`released.json` of a frameworks directory: {"id/version": sha256} and its problems."""
    p = released_path(root)
    if not p.exists():
        return {}, []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(p), None, f"not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return {}, [Problem(str(p), None, 'expected an object {"id/version": "sha256"}')]
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for key, digest in data.items():
        if not re.match(r"^[a-z0-9-]+/[^/]+$", key):
            problems.append(Problem(str(p), key, 'key must be "<id>/<version>"'))
        elif not isinstance(digest, str) or not SHA256_RE.match(digest):
            problems.append(Problem(str(p), key, "value must be a SHA-256 hex digest"))
        else:
            out[key] = digest
    return out, problems


def release(framework_id: str, version: str, root: Path | str | None = None) -> str:
    """Record a version as released: add its file's SHA-256 to `released.json` and return it.

    The file must be valid and say `status: published`. Releasing again is a no-op; a version released
    before with other content raises `ReleaseError` (make a new version instead).
    """
    base = Path(root) if root is not None else default_root()
    path = base / framework_id / f"{version}.yaml"
    if not path.is_file():
        raise ReleaseError(f"no framework file {path}")
    problems = _validate([path], base, directory=False, check_released=False)
    if problems:
        raise ReleaseError("the file is not valid:\n" + "\n".join(str(p) for p in problems))
    ff = read_file(path)
    if ff.framework.id != framework_id or ff.framework.version != version:
        raise ReleaseError(f"{path} says {ff.framework.id}/{ff.framework.version}")
    if ff.status != "published":
        raise ReleaseError(f"{path} is a draft: set 'status: published' first")
    entries, rproblems = load_released(base)
    if rproblems:
        raise ReleaseError("\n".join(str(p) for p in rproblems))
    key = f"{framework_id}/{version}"
    digest = file_sha256(path)
    if key in entries and entries[key] != digest:
        raise ReleaseError(f"{key} was released with other content: make a new version")
    entries[key] = digest
    text = json.dumps(dict(sorted(entries.items())), indent=2, ensure_ascii=False) + "\n"
    released_path(base).write_text(text, encoding="utf-8")
    return digest


# --------------------------------------------------------------------------------------------------
# Files and directories


@dataclass
class _Checked:
    path: Path
    display: str
    framework: Framework | None
    status: str
    key: str | None  # "id/version" as the file's place in the directory says, when it follows the layout


def validate_path(path: Path | str | None = None) -> list[Problem]:
    """Validate a frameworks directory (default: `assessments/frameworks`) or one framework file.

    A directory: every `<id>/<version>.yaml` in it (and any misplaced YAML file below it), checked
    together (ids unique across all frameworks) and against its `released.json`. One file: that file,
    its ids checked against the other frameworks of its frameworks directory (the directory two levels
    up when that has a `released.json`, else the default one), and its release status.
    """
    target = Path(path) if path is not None else default_root()
    if not target.exists():
        return [Problem(str(target), None, "no such file or directory")]
    if target.is_dir():
        # <id>/<version>.yaml; files directly in the directory (released.json, coverage.yaml) are not
        # frameworks, YAML files anywhere else are misplaced frameworks.
        files = sorted(
            p
            for p in target.rglob("*")
            if p.is_file() and p.suffix in (".yaml", ".yml") and len(p.relative_to(target).parts) > 1
        )
        if not files:
            return [Problem(str(target), None, "no framework files (<id>/<version>.yaml)")]
        return _validate(files, target, directory=True, check_released=True)
    return _validate([target], target.parent.parent, directory=False, check_released=True)


def _in_layout(root: Path) -> bool:
    """Is a single file inside a frameworks directory (so it must follow `<id>/<version>.yaml`)?"""
    return (root / "released.json").exists() or root.resolve() == default_root().resolve()


def _validate(files: list[Path], root: Path, *, directory: bool, check_released: bool) -> list[Problem]:
    problems: list[Problem] = []
    checked: list[_Checked] = []
    for p in files:
        checked.append(_check_file(p, root, directory, problems))
    frameworks = [(c, c.framework) for c in checked if c.framework is not None]

    # the same framework version twice
    seen_versions: dict[tuple[str, str], str] = {}
    for c, fw in frameworks:
        k = (fw.id, fw.version)
        if k in seen_versions:
            problems.append(
                Problem(c.display, None, f"{fw.id} {fw.version} is also defined in {seen_versions[k]}")
            )
        else:
            seen_versions[k] = c.display

    # item ids unique across frameworks (a framework's versions share its ids)
    owners: dict[str, tuple[str, str]] = {}
    if not directory:
        for other in _other_frameworks(files[0], root if _in_layout(root) else default_root()):
            for item in other.items:
                owners.setdefault(item.id, (other.id, f"framework {other.id} {other.version}"))
    for c, fw in frameworks:
        for item in fw.items:
            owner = owners.get(item.id)
            if owner is not None and owner[0] != fw.id:
                problems.append(Problem(c.display, item.id, f"item id also used by {owner[1]}"))
            owners.setdefault(item.id, (fw.id, c.display))

    problems.extend(_check_facts(frameworks))
    problems.extend(_check_sources(frameworks))
    problems.extend(_check_provenance(frameworks))
    if check_released:
        problems.extend(_check_released(checked, root, directory))
    return problems


def _check_file(p: Path, root: Path, directory: bool, problems: list[Problem]) -> _Checked:
    display = str(p)
    key: str | None = None
    rel = p.relative_to(root).parts if p.is_relative_to(root) else ()
    if len(rel) == 2 and rel[1].endswith(".yaml"):
        key = f"{rel[0]}/{rel[1][: -len('.yaml')]}"
    elif directory:
        problems.append(Problem(display, None, "a framework file must be at <id>/<version>.yaml"))
    if not directory and not _in_layout(root):
        key = None
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(display, None, f"not UTF-8: {exc}"))
        return _Checked(p, display, None, "draft", key)
    fw, status, found = parse_text(text, display)
    if fw is not None and not found:
        found = check_framework(fw, display)
    problems.extend(found)
    if fw is not None and key is not None and key != f"{fw.id}/{fw.version}":
        problems.append(
            Problem(display, None, f"file says {fw.id} {fw.version}: it must be at {fw.id}/{fw.version}.yaml")
        )
    return _Checked(p, display, fw if not found else None, status, key)


def _other_frameworks(path: Path, base: Path) -> list[Framework]:
    """The frameworks of the directory `base` other than the file `path` (quietly skipping bad ones)."""
    out: list[Framework] = []
    if not base.is_dir():
        return out
    mine = path.resolve()
    for p in sorted(base.glob("*/*.yaml")):
        if p.resolve() == mine:
            continue
        try:
            fw, _, found = parse_text(p.read_text(encoding="utf-8"), str(p))
        except (OSError, UnicodeDecodeError):
            continue
        if fw is not None and not found:
            out.append(fw)
    return out


def _check_facts(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    uses = [(c, item) for c, fw in frameworks for item in fw.items if item.fact is not None]
    if not uses:
        return []
    facts, problems = load_facts()
    first_bounds: dict[str, tuple[Decimal | None, Decimal | None, str]] = {}
    for c, item in uses:
        assert item.fact is not None
        fact = facts.get(item.fact)
        if fact is None:
            problems.append(
                Problem(c.display, item.id, f"fact: unknown fact {item.fact!r} (see assessments/facts.yaml)")
            )
            continue
        if item.answer_type is not fact.type:
            problems.append(
                Problem(
                    c.display,
                    item.id,
                    f"fact {item.fact!r} is a {fact.type.value} fact, the item is {item.answer_type.value}",
                )
            )
            continue
        if fact.type is AnswerType.CHOICE:
            values = [o.value for o in item.options]
            if sorted(values) != sorted(fact.options):
                problems.append(
                    Problem(
                        c.display,
                        item.id,
                        f"fact {item.fact!r} has the options {list(fact.options)}, the item {values}",
                    )
                )
        if fact.type in (AnswerType.NUMBER, AnswerType.PERCENT):
            bounds = (item.min_value, item.max_value)
            first = first_bounds.setdefault(item.fact, (*bounds, item.id))
            if bounds != first[:2]:
                problems.append(
                    Problem(
                        c.display,
                        item.id,
                        f"fact {item.fact!r}: min/max {_bounds(*bounds)} differ from item {first[2]!r} "
                        f"{_bounds(first[0], first[1])} (one answer must fit every item asking it)",
                    )
                )
    return problems


def _bounds(lo: Decimal | None, hi: Decimal | None) -> str:
    return f"[{'' if lo is None else lo}, {'' if hi is None else hi}]"


def _check_sources(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    cited: list[tuple[str, str, str, str]] = []  # (file, owner id, doc, quote)
    for c, fw in frameworks:
        owners = [
            *((item.id, item.sources) for item in fw.items),
            *((g.id, g.sources) for g in fw.gates),
            *((t.id, t.sources) for t in fw.targets),
        ]
        for owner, sources in owners:
            for s in sources:
                if s.doc is not None and s.quote is not None:
                    cited.append((c.display, owner, s.doc, s.quote))
    if not cited:
        return []
    directory = seeds_dir()
    if not directory.is_dir():
        return [
            Problem(
                str(directory), None, "seeds directory missing: quotes not checked (set QREADY_SEEDS_DIR)"
            )
        ]
    problems: list[Problem] = []
    names = sorted(p.name for p in directory.glob("*.txt"))
    for file, owner, doc, quote in cited:
        if _seed(directory, doc) is None:
            problems.append(
                Problem(file, owner, f"source: unknown seed document {doc!r} (seeds: {', '.join(names)})")
            )
            continue
        found, near = find_quote(quote, doc, directory)
        if found:
            continue
        if near is not None:
            problems.append(
                Problem(file, owner, f"quote not verbatim in {doc}: {quote!r}; the seed has {near!r}")
            )
        else:
            problems.append(Problem(file, owner, f"quote not found in {doc}: {quote!r}"))
    return problems


def _check_provenance(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    """Every target and gate names its document or is flagged an assumption (`rule`)."""
    problems: list[Problem] = []
    for c, fw in frameworks:
        key = f"{fw.id}/{fw.version}"
        if key in PRE_PROVENANCE and file_sha256(c.path) == PRE_PROVENANCE[key]:
            continue
        owners = [("gate", g.id, g.rule) for g in fw.gates] + [("target", t.id, t.rule) for t in fw.targets]
        for kind, owner, rule in owners:
            if rule is None:
                problems.append(
                    Problem(
                        c.display,
                        owner,
                        f"{kind} without a rule: name its document (rule: {{document, issuer, date}}) "
                        "or flag it (rule: {assumption: {zh, en}}) with the reason",
                    )
                )
    return problems


def _check_released(checked: list[_Checked], root: Path, directory: bool) -> list[Problem]:
    rpath = released_path(root)
    entries, problems = load_released(root)
    by_key = {c.key: c for c in checked if c.key is not None}
    for c in checked:
        if c.framework is None or c.key is None:
            continue
        if c.key in entries:
            if file_sha256(c.path) != entries[c.key]:
                problems.append(Problem(c.display, None, "released version changed: make a new version"))
            if c.status != "published":
                problems.append(Problem(c.display, None, "released, but its status is draft"))
        elif c.status == "published":
            problems.append(
                Problem(
                    c.display,
                    None,
                    f"status is published, but it is not in {rpath.name}: "
                    f"run `flask frameworks release {c.framework.id} {c.framework.version}`",
                )
            )
    if directory:
        for key in entries:
            if key not in by_key:
                problems.append(Problem(str(rpath), key, "released version deleted: its file is missing"))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m assessments.validate [PATH]`: print the problems; exit status 1 when there are any."""
    args = list(sys.argv[1:] if argv is None else argv)
    problems = validate_path(args[0] if args else None)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("OK: no problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
