"""Comparison of two results of the same framework: what moved, by section, by item, by target."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from .engine import NEAR, NOT_APPLICABLE, NOT_READY, NOT_YET, READY, WORTH_FULL, Result, num
from .values import CONTEXT

_RANK = {
    NOT_READY: 0,
    NOT_YET: 0,
    NEAR: 1,
    WORTH_FULL: 1,
    READY: 2,
}  # screening bands rank as near / not ready


def _opt(x: Decimal | None) -> float | None:
    return None if x is None else num(x)


def _sub(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Change:
    """Before, after and the difference of one section's or item's points and percent.

    `before`/`after` fields are None when the section or item exists only on one side (versions
    differ); an item that does not apply has points None on that side.
    """

    id: str
    points_before: Decimal | None
    points_after: Decimal | None
    max_before: Decimal | None
    max_after: Decimal | None
    percent_before: Decimal | None = None
    percent_after: Decimal | None = None
    status_before: str | None = None
    status_after: str | None = None

    @property
    def points_delta(self) -> Decimal | None:
        return _sub(self.points_after, self.points_before)

    @property
    def percent_delta(self) -> Decimal | None:
        return _sub(self.percent_after, self.percent_before)

    def to_dict(self, *, item: bool) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "points_before": _opt(self.points_before),
            "points_after": _opt(self.points_after),
            "points_delta": _opt(self.points_delta),
            "max_points_before": _opt(self.max_before),
            "max_points_after": _opt(self.max_after),
        }
        if item:
            out["status_before"] = self.status_before
            out["status_after"] = self.status_after
        else:
            out["percent_before"] = _opt(self.percent_before)
            out["percent_after"] = _opt(self.percent_after)
            out["percent_delta"] = _opt(self.percent_delta)
        return out


@dataclass(frozen=True)
class TargetChange:
    id: str
    before: str | None  # readiness; None when the target exists only on one side
    after: str | None
    score_before: Decimal | None
    score_after: Decimal | None

    @property
    def change(self) -> str:
        """improved | worsened | unchanged | added | removed. A target outside the firm's region
        (`not_applicable`) counts as absent on that side: it is added when the firm moves into the
        region, removed when it moves out, unchanged when it stays out."""
        before = None if self.before == NOT_APPLICABLE else self.before
        after = None if self.after == NOT_APPLICABLE else self.after
        if before is None and after is None:
            return "unchanged"
        if before is None:
            return "added"
        if after is None:
            return "removed"
        d = _RANK[after] - _RANK[before]
        return "improved" if d > 0 else "worsened" if d < 0 else "unchanged"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "score_before": _opt(self.score_before),
            "score_after": _opt(self.score_after),
            "score_delta": _opt(_sub(self.score_after, self.score_before)),
        }


@dataclass(frozen=True)
class Comparison:
    framework: str
    version_before: str
    version_after: str
    before: Result
    after: Result
    sections: tuple[Change, ...]
    items: tuple[Change, ...]
    targets: tuple[TargetChange, ...]

    @property
    def points_delta(self) -> Decimal:
        return self.after.points - self.before.points

    @property
    def max_points_delta(self) -> Decimal:
        return self.after.max_points - self.before.max_points

    @property
    def percent_delta(self) -> Decimal:
        return self.after.percent - self.before.percent

    @property
    def score_delta(self) -> Decimal:
        return self.after.score - self.before.score

    def to_dict(self) -> dict[str, object]:
        with localcontext(CONTEXT):
            b, a = self.before, self.after
            return {
                "framework": self.framework,
                "version_before": self.version_before,
                "version_after": self.version_after,
                "points": {"before": num(b.points), "after": num(a.points), "delta": num(self.points_delta)},
                "max_points": {
                    "before": num(b.max_points),
                    "after": num(a.max_points),
                    "delta": num(self.max_points_delta),
                },
                "percent": {
                    "before": num(b.percent),
                    "after": num(a.percent),
                    "delta": num(self.percent_delta),
                },
                "score": {"before": num(b.score), "after": num(a.score), "delta": num(self.score_delta)},
                "sections": [s.to_dict(item=False) for s in self.sections],
                "items": [i.to_dict(item=True) for i in self.items],
                "targets": [t.to_dict() for t in self.targets],
            }


def _merge_ids(before: list[str], after: list[str]) -> list[str]:
    """Ids of `after` in its order, then those only in `before` in theirs."""
    seen = set(after)
    return after + [i for i in before if i not in seen]


def compare(before: Result, after: Result) -> Comparison:
    """What changed from `before` to `after`. Both must score the same framework (versions may differ)."""
    if before.framework != after.framework:
        raise ValueError(f"cannot compare framework {before.framework!r} with {after.framework!r}")
    with localcontext(CONTEXT):
        bs = {s.id: s for s in before.sections}
        as_ = {s.id: s for s in after.sections}
        sections = []
        for sid in _merge_ids(list(bs), list(as_)):
            x, y = bs.get(sid), as_.get(sid)
            sections.append(
                Change(
                    sid,
                    None if x is None else x.points,
                    None if y is None else y.points,
                    None if x is None else x.max_points,
                    None if y is None else y.max_points,
                    percent_before=None if x is None else x.percent,
                    percent_after=None if y is None else y.percent,
                )
            )
        bi = {i.id: i for i in before.items}
        ai = {i.id: i for i in after.items}
        items = []
        for iid in _merge_ids(list(bi), list(ai)):
            p, q = bi.get(iid), ai.get(iid)
            items.append(
                Change(
                    iid,
                    None if p is None or not p.applicable else p.points,
                    None if q is None or not q.applicable else q.points,
                    None if p is None or not p.applicable else p.max_points,
                    None if q is None or not q.applicable else q.max_points,
                    status_before=None if p is None else p.status,
                    status_after=None if q is None else q.status,
                )
            )
        bt = {t.id: t for t in before.targets}
        at = {t.id: t for t in after.targets}
        targets = []
        for tid in _merge_ids(list(bt), list(at)):
            u, v = bt.get(tid), at.get(tid)
            targets.append(
                TargetChange(
                    tid,
                    None if u is None else u.readiness,
                    None if v is None else v.readiness,
                    None if u is None else u.score,
                    None if v is None else v.score,
                )
            )
    return Comparison(
        framework=after.framework,
        version_before=before.version,
        version_after=after.version,
        before=before,
        after=after,
        sections=tuple(sections),
        items=tuple(items),
        targets=tuple(targets),
    )
