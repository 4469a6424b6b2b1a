"""Regulator statistics: the one place that reads across firms.

It returns aggregates only — counts per region, industry section and size class — and suppresses
any group smaller than `MIN_GROUP`, so no single firm can be singled out. Where a breakdown would
hide just one group, the total less the groups shown would give it away, so the smallest group
shown is hidden as well (complementary suppression). It never returns a firm's name, code or
answers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from webapp import db, tenancy
from webapp.models import Firm
from webapp.refdata import industries, regions

MIN_GROUP = 5
SIZE_ORDER = ("large", "medium", "small", "micro", "unknown")


@dataclass(frozen=True)
class Group:
    key: str
    count: int | None  # None: suppressed, for the reason in `hidden`
    hidden: str | None = None  # "small": fewer than MIN_GROUP firms; "complement": it would reveal one


@dataclass(frozen=True)
class FirmStats:
    jurisdiction: str
    total: int | None
    by_region: list[Group]
    by_industry: list[Group]
    by_size: list[Group]


def _groups(counter: Counter[str], order: list[str]) -> list[Group]:
    present = [(key, counter[key]) for key in order if counter[key] > 0]
    hidden = {key: "small" for key, n in present if n < MIN_GROUP}
    if len(hidden) == 1:
        # one hidden group alone is the total less the groups shown: hide the smallest shown one too
        shown = [(n, key) for key, n in present if key not in hidden]
        if shown:
            hidden[min(shown)[1]] = "complement"
    return [Group(key, None if key in hidden else n, hidden.get(key)) for key, n in present]


def firm_stats(jurisdiction: str) -> FirmStats:
    with tenancy.bypass():
        rows = db.session.execute(select(Firm.region_code, Firm.industry_division, Firm.size_class)).all()
    inside = [r for r in rows if regions.is_within(r.region_code, jurisdiction)]
    children = [c.code for c in regions.children(jurisdiction)]
    by_region: Counter[str] = Counter()
    for r in inside:
        for child in children:
            if regions.is_within(r.region_code, child):
                by_region[child] += 1
                break
    by_industry = Counter(industries.section_of(r.industry_division) or "?" for r in inside)
    by_size = Counter(r.size_class or "unknown" for r in inside)
    total = len(inside)
    return FirmStats(
        jurisdiction=jurisdiction,
        total=total if total >= MIN_GROUP or total == 0 else None,
        by_region=_groups(by_region, children),
        by_industry=_groups(by_industry, [s.letter for s in industries.sections()]),
        by_size=_groups(by_size, list(SIZE_ORDER)),
    )
