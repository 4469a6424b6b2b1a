"""The engine's input types: a framework, as `assessments` builds it from its data files.

Everything here is immutable and uses `Decimal` for points, so a framework can be shared between
threads and a result is exact. Nothing here knows where a framework came from (YAML, a database,
a test): `assessments` does the loading and validation, `scoring.engine` does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum


@dataclass(frozen=True)
class Text:
    """A string in both product languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh


@dataclass(frozen=True)
class Source:
    """Where a criterion or a rule comes from.

    Either a seed plan (`doc` = seed file name, `quote` = exact text in it) or a named public
    standard or rule (`standard` = e.g. "GB/T 19580-2012 4.1.2"). `verify` marks a value taken
    from a secondary source that must be checked against the primary text.
    """

    doc: str | None = None
    quote: str | None = None
    standard: str | None = None
    verify: bool = False
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.doc is not None:
            out["doc"] = self.doc
        if self.quote is not None:
            out["quote"] = self.quote
        if self.standard is not None:
            out["standard"] = self.standard
        if self.verify:
            out["verify"] = True
        if self.note is not None:
            out["note"] = self.note
        return out


class AnswerType(str, Enum):
    YES_NO = "yes_no"  # value: true / false
    CHOICE = "choice"  # value: an option's `value` (str)
    SCALE = "scale"  # value: a level's `value` (str) of the item's scale in the chosen mode
    PERCENT = "percent"  # value: a number 0..100
    NUMBER = "number"  # value: a number within [min_value, max_value]
    DATE = "date"  # value: ISO date "YYYY-MM-DD"; bands count whole years before `as_of`
    TEXT = "text"  # value: a string; earns no points


class Effort(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def cost(self) -> int:
        """Relative cost of an improvement, used to rank gaps and to find the path to ready."""
        return {"low": 1, "medium": 2, "high": 4}[self.value]


@dataclass(frozen=True)
class Option:
    """A choice of a `choice` or `yes_no` item. For yes_no the values are "yes" and "no"."""

    value: str
    label: Text
    points: Decimal


@dataclass(frozen=True)
class Band:
    """A numeric band of a percent, number or date item: min <= x < max earns `points`.

    `min` None = no lower bound, `max` None = no upper bound. Bands of one item do not overlap.
    """

    min: Decimal | None
    max: Decimal | None
    points: Decimal
    label: Text | None = None

    def contains(self, x: Decimal) -> bool:
        return (self.min is None or x >= self.min) and (self.max is None or x < self.max)


@dataclass(frozen=True)
class Level:
    """One step of a named scale: a value the user picks, the share of the item's points it earns."""

    value: str
    percent: Decimal  # 0..100
    label: Text
    descriptor: Text | None = None


@dataclass(frozen=True)
class Scale:
    """A named maturity scale (e.g. ADLI bands, LeTCI bands, the quick four-step scale)."""

    id: str
    title: Text
    levels: tuple[Level, ...]

    def level(self, value: str) -> Level | None:
        for lv in self.levels:
            if lv.value == value:
                return lv
        return None


class Op(str, Enum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    GTE = "gte"
    LTE = "lte"
    # whole years since a date (a date answer or a profile date) at the scoring date `as_of`
    YEARS_GTE = "years_gte"
    YEARS_LT = "years_lt"


@dataclass(frozen=True)
class Condition:
    """A test of one firm-profile fact (`profile`) or of an earlier answer (`item`).

    Exactly one of `profile` and `item` is set. A condition on an item that is unanswered, or on a
    profile fact that is missing, is *unknown*; see `Item.applies`.
    """

    op: Op
    value: object
    profile: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    text: Text
    help: Text
    action: Text  # the improvement action shown when the item is below full points
    answer_type: AnswerType
    max_points: Decimal
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    # For SCALE items: mode id -> scale id (a framework without modes uses the mode "default").
    scales: tuple[tuple[str, str], ...] = ()
    min_value: Decimal | None = None  # NUMBER / PERCENT bounds (PERCENT defaults to 0..100)
    max_value: Decimal | None = None
    unit: Text | None = None
    evidence: Text | None = None  # what evidence counts; None = no evidence asked
    evidence_required: bool = False  # without evidence the item earns at most the evidence cap
    applies_if: tuple[Condition, ...] = ()  # all must hold; an unknown condition counts as holding
    gate: bool = False
    allow_na: bool = True  # may the firm declare it not applicable (with a justification)?
    required: bool = True  # must be answered before submit
    effort: Effort = Effort.MEDIUM
    sources: tuple[Source, ...] = ()
    fact: str | None = None  # shared fact key: answered once, used by every framework asking it
    narrative_modes: tuple[str, ...] = ()  # modes in which a written self-evaluation is required

    def scale_for(self, mode: str) -> str | None:
        for m, scale_id in self.scales:
            if m == mode:
                return scale_id
        return None


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None


@dataclass(frozen=True)
class Rule:
    """Where a target's line or a gate's condition comes from: an official document, or a QReady
    assumption with its reason.

    A document rule names the document (`document`: its number, e.g. "杭政办函〔2022〕48号", or its
    title when it has no number), the `issuer`, the `date` issued ("YYYY", "YYYY-MM" or "YYYY-MM-DD")
    and when it is in force (`in_force_from`, `in_force_to`; None = not known / open). `unconfirmed`
    says why we could not confirm the text or that it is still in force (shown to the user).
    An assumption rule has only `assumption`: why QReady assumes it ("QReady estimate — not an
    official line").
    """

    document: str | None = None
    issuer: str | None = None
    date: str | None = None
    in_force_from: str | None = None
    in_force_to: str | None = None
    unconfirmed: Text | None = None
    assumption: Text | None = None

    @property
    def is_assumption(self) -> bool:
        return self.assumption is not None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key in ("document", "issuer", "date", "in_force_from", "in_force_to"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key in ("unconfirmed", "assumption"):
            text = getattr(self, key)
            if text is not None:
                out[key] = {"zh": text.zh, "en": text.en}
        return out


@dataclass(frozen=True)
class Gate:
    """An eligibility rule of a target, decided by one item's answer or one profile fact.

    `passes_if.item` names the deciding item (or `passes_if.profile` the profile fact). The gate is
    unknown while that item is unanswered or that fact is missing.
    """

    id: str
    passes_if: Condition
    title: Text
    sources: tuple[Source, ...] = ()
    rule: Rule | None = None  # where the condition comes from (every released version since 1.1.0 has one)
    # The gate passes, whatever `passes_if` says, when this holds (an exemption: "except 数字经济 firms").
    # Tested on the current answers or profile; unknown (unanswered, missing) means not exempt.
    exempt_if: Condition | None = None

    @property
    def item(self) -> str | None:
        return self.passes_if.item


@dataclass(frozen=True)
class Target:
    """A readiness target, e.g. the 品字标 certification or a city's quality award.

    `threshold` is on the framework's `scale` (percent for most frameworks, the 1000-point scale
    for performance excellence). `gates` are ids of the framework's gates.

    `region`: the GB/T 2260 region-code prefixes of the places the target exists for ("3306" for
    Shaoxing, "33" for Zhejiang); empty for everywhere. A firm registered elsewhere is not measured
    against it (`in_region`). The framework file declares it (`region:`, from 1.1.1); for the versions
    released before, `assessments` derives it from the target's location gate.
    """

    id: str
    title: Text
    gates: tuple[str, ...]
    threshold: Decimal
    sources: tuple[Source, ...] = ()
    description: Text | None = None
    region: tuple[str, ...] = ()
    rule: Rule | None = None  # where the threshold comes from (an official line or a QReady assumption)

    def in_region(self, profile: Mapping[str, object]) -> bool | None:
        """Whether a firm with these profile facts is where the target exists: True or False from its
        `region` code (its `city` code when the region is missing), None when the profile names no
        place. A target without a `region` is everywhere."""
        if not self.region:
            return True
        code = region_code(profile)
        if code is None:
            return None
        return any(code.startswith(prefix) for prefix in self.region)


def region_code(profile: Mapping[str, object]) -> str | None:
    """The firm's GB/T 2260 code in its profile facts: `region`, else `city`; None when neither is a
    code (digits)."""
    for fact in ("region", "city"):
        value = profile.get(fact)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return value
    return None


def region_prefix(code: str) -> str:
    """The prefix every code inside a GB/T 2260 region starts with: "330600" (a city) gives "3306",
    "330000" (a province) "33", "330106" (a county) itself."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


@dataclass(frozen=True)
class Mode:
    """An assessment mode. In a `screening` mode the targets get a screening band
    (`worth_full_evaluation` / `not_yet`), never a verdict: only another mode gives "ready"."""

    id: str
    title: Text
    description: Text | None = None
    screening: bool = False


@dataclass(frozen=True)
class Framework:
    id: str
    version: str
    title: Text
    description: Text
    sections: tuple[Section, ...]
    targets: tuple[Target, ...] = ()
    gates: tuple[Gate, ...] = ()
    scales: tuple[Scale, ...] = ()
    modes: tuple[Mode, ...] = (Mode("default", Text("默认", "Default")),)
    scale: Decimal = Decimal(100)  # the reporting scale: a score = percent * scale / 100
    near_margin: Decimal = Decimal(10)  # on `scale`: a score this far below a threshold is "near"
    evidence_cap: Decimal = Decimal("0.5")  # share of points an item keeps without its evidence
    notes: Text | None = None
    # What is new in this version, for the user moving to it from an earlier one (one line each)
    changes: tuple[Text, ...] = ()
    _index: dict[str, Item] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        index = {item.id: item for section in self.sections for item in section.items}
        object.__setattr__(self, "_index", index)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(self._index.values())

    def item(self, item_id: str) -> Item | None:
        return self._index.get(item_id)

    def scale_by_id(self, scale_id: str) -> Scale | None:
        for s in self.scales:
            if s.id == scale_id:
                return s
        return None

    def gate_by_id(self, gate_id: str) -> Gate | None:
        for g in self.gates:
            if g.id == gate_id:
                return g
        return None

    @property
    def default_mode(self) -> str:
        return self.modes[0].id

    def is_screening(self, mode: str) -> bool:
        """Whether `mode` is a screening mode (targets get a screening band, never a verdict)."""
        return any(m.id == mode and m.screening for m in self.modes)
