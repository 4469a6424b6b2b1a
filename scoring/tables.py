"""Per-framework lookup tables, built once and cached, so scoring is a few dict look-ups per item.

The cache is keyed by (framework id, version) and remembers the framework object it was built from: a
different object with the same id and version (a test's hand-built framework, a reloaded file) gets
fresh tables, so a stale table is never used.

Building the tables also checks the framework's internal references (a gate naming an unknown item,
a target naming an unknown gate, a scale item naming an unknown scale): such a framework is refused
with `FrameworkError` rather than scored wrongly.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from decimal import Decimal, localcontext

from .model import AnswerType, Condition, Framework, Gate, Item, Target
from .types import AnswerKind, kind_of
from .values import CONTEXT

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class FrameworkError(ValueError):
    """The framework itself is inconsistent (an internal reference points nowhere)."""


@dataclass(frozen=True, slots=True)
class BandRow:
    lo: Decimal | None
    hi: Decimal | None
    points: Decimal


@dataclass(frozen=True, slots=True)
class ItemTable:
    """What scoring needs of one item, precomputed."""

    pos: int  # position in framework order
    id: str
    item: Item
    section: int  # position of its section
    section_id: str
    kind: AnswerType
    rules: AnswerKind  # the answer type's check, points and candidates (`scoring.types`)
    by_mode: bool  # applies only in the modes it has levels for (scale items)
    max_points: Decimal  # counted maximum: 0 for text items
    cap_points: Decimal | None  # evidence_required: the most it earns without evidence
    asks_evidence: bool
    yes_points: Decimal
    no_points: Decimal
    choice_points: dict[str, Decimal]
    level_points: dict[str, dict[str, Decimal]]  # mode -> level value -> points (scale items)
    level_best: dict[str, Decimal]  # mode -> the most a level gives (a mode may cap below 100 %)
    bands: tuple[BandRow, ...]
    lo: Decimal | None  # number / percent bounds
    hi: Decimal | None
    conditions: tuple[Condition, ...]
    gates: tuple[int, ...]  # positions of the gates this item decides
    cost: int
    weight: int  # cost_lcm // cost: points x weight orders items by points per unit of effort

    def best(self, mode: str) -> Decimal:
        """The most an answer earns in `mode` (a mode may cap a scale below the item's points)."""
        return self.level_best[mode] if self.by_mode else self.max_points

    def band_points(self, x: Decimal) -> Decimal:
        for b in self.bands:
            if (b.lo is None or x >= b.lo) and (b.hi is None or x < b.hi):
                return b.points
        return _ZERO


@dataclass(frozen=True, slots=True)
class Tables:
    framework: Framework
    items: tuple[ItemTable, ...]
    by_id: dict[str, ItemTable]
    sections: tuple[tuple[str, tuple[int, ...]], ...]  # section id, item positions
    gates: tuple[Gate, ...]
    gate_pos: dict[str, int]
    targets: tuple[Target, ...]
    target_gates: tuple[tuple[int, ...], ...]  # per target: gate positions
    modes: frozenset[str]
    referenced: frozenset[str]  # items some applies_if condition tests
    capped_modes: frozenset[str]  # modes in which some scale item's best level is below 100 %
    ids: tuple[str, ...]  # item ids in framework order
    costs: tuple[int, ...]  # effort costs in framework order
    cost_lcm: int  # least common multiple of the items' effort costs


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], Tables] = {}
_CACHE_MAX = 256


def tables_for(framework: Framework) -> Tables:
    """The (cached) tables of a framework."""
    key = (framework.id, framework.version)
    t = _CACHE.get(key)
    if t is not None and t.framework is framework:
        return t
    t = _build(framework)
    with _LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = t
    return t


def clear_cache() -> None:
    """Forget every cached table (for tests and benchmarks)."""
    with _LOCK:
        _CACHE.clear()


def _check_condition(framework: Framework, where: str, cond: Condition) -> None:
    if (cond.item is None) == (cond.profile is None):
        raise FrameworkError(f"{where}: a condition needs exactly one of item and profile")
    if cond.item is not None and framework.item(cond.item) is None:
        raise FrameworkError(f"{where}: condition on unknown item {cond.item!r}")


def _build(framework: Framework) -> Tables:
    with localcontext(CONTEXT):
        return _build_in_context(framework)


def _build_in_context(fw: Framework) -> Tables:
    modes = frozenset(m.id for m in fw.modes)
    gate_pos: dict[str, int] = {}
    decided: dict[str, list[int]] = {}
    for gi, g in enumerate(fw.gates):
        if g.id in gate_pos:
            raise FrameworkError(f"duplicate gate id {g.id!r}")
        gate_pos[g.id] = gi
        _check_condition(fw, f"gate {g.id!r}", g.passes_if)
        if g.exempt_if is not None:
            _check_condition(fw, f"gate {g.id!r} exempt_if", g.exempt_if)
        if g.passes_if.item is not None:
            decided.setdefault(g.passes_if.item, []).append(gi)

    cost_lcm = math.lcm(*(i.effort.cost for i in fw.items)) if fw.items else 1
    items: list[ItemTable] = []
    sections: list[tuple[str, tuple[int, ...]]] = []
    referenced: set[str] = set()
    seen: set[str] = set()
    for si, section in enumerate(fw.sections):
        positions: list[int] = []
        for item in section.items:
            if item.id in seen:
                raise FrameworkError(f"duplicate item id {item.id!r}")
            seen.add(item.id)
            for cond in item.applies_if:
                _check_condition(fw, f"item {item.id!r}", cond)
                if cond.item is not None:
                    referenced.add(cond.item)
            pos = len(items)
            positions.append(pos)
            items.append(_item_table(fw, pos, si, item, tuple(decided.get(item.id, ())), cost_lcm))
        sections.append((section.id, tuple(positions)))

    target_gates: list[tuple[int, ...]] = []
    for target in fw.targets:
        gps: list[int] = []
        for gid in target.gates:
            if gid not in gate_pos:
                raise FrameworkError(f"target {target.id!r} names unknown gate {gid!r}")
            if gate_pos[gid] not in gps:
                gps.append(gate_pos[gid])
        target_gates.append(tuple(gps))

    return Tables(
        framework=fw,
        items=tuple(items),
        by_id={t.item.id: t for t in items},
        sections=tuple(sections),
        gates=fw.gates,
        gate_pos=gate_pos,
        targets=fw.targets,
        target_gates=tuple(target_gates),
        modes=modes,
        referenced=frozenset(referenced),
        capped_modes=frozenset(m for t in items for m, best in t.level_best.items() if best < t.max_points),
        ids=tuple(t.id for t in items),
        costs=tuple(t.cost for t in items),
        cost_lcm=cost_lcm,
    )


def _item_table(
    fw: Framework, pos: int, si: int, item: Item, gates: tuple[int, ...], cost_lcm: int
) -> ItemTable:
    rules = kind_of(item.answer_type)
    max_points = item.max_points if rules.scored else _ZERO
    for _, scale_id in item.scales:
        if fw.scale_by_id(scale_id) is None:
            raise FrameworkError(f"item {item.id!r} names unknown scale {scale_id!r}")
    fields: dict[str, object] = {
        "yes_points": max_points,
        "no_points": _ZERO,
        "choice_points": {},
        "level_points": {},
        "lo": item.min_value,
        "hi": item.max_value,
    }
    fields.update(rules.prepare(fw, item, max_points))
    level_points: dict[str, dict[str, Decimal]] = fields.pop("level_points")  # type: ignore[assignment]
    cap = fw.evidence_cap * max_points if item.evidence_required else None
    return ItemTable(
        pos=pos,
        id=item.id,
        item=item,
        section=si,
        section_id=fw.sections[si].id,
        kind=item.answer_type,
        rules=rules,
        by_mode=rules.by_mode,
        max_points=max_points,
        cap_points=cap,
        asks_evidence=item.evidence is not None or item.evidence_required,
        level_points=level_points,
        level_best={m: max(levels.values(), default=_ZERO) for m, levels in level_points.items()},
        bands=tuple(BandRow(b.min, b.max, b.points) for b in item.bands),
        conditions=item.applies_if,
        gates=gates,
        cost=item.effort.cost,
        weight=cost_lcm // item.effort.cost,
        **fields,  # type: ignore[arg-type]
    )
