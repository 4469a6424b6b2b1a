"""The plans, read from `plans.yaml` (data, not code): what each allows, what it costs in CNY.

No Flask here: the configuration checks the default plan's id with it before the app exists.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PLANS_FILE = Path(__file__).with_name("plans.yaml")
INTERVALS = ("monthly", "yearly")
FREE = "free"


@dataclass(frozen=True)
class Plan:
    id: str
    order: int
    audience: str  # firm | consultancy | regulator: who buys it (or is granted it)
    name: dict[str, str]
    summary: dict[str, str]
    prices: dict[str, int]  # interval -> whole yuan
    limits: dict[str, int | None]
    features: frozenset[str]
    unlocks: tuple[dict[str, str], ...]
    per: str | None = None  # "client_firm": the price is per client firm
    grant_only: bool = False  # never sold: a platform admin grants it
    extra: dict[str, Any] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.name.get(lang) or self.name["en"]

    def allows(self, feature: str) -> bool:
        return feature in self.features

    @property
    def paid(self) -> bool:
        return bool(self.prices) and not self.grant_only


@functools.lru_cache(maxsize=1)
def _load() -> tuple[str, dict[str, Plan]]:
    data = yaml.safe_load(PLANS_FILE.read_text(encoding="utf-8"))
    out: dict[str, Plan] = {}
    for raw in data["plans"]:
        plan = Plan(
            id=raw["id"],
            order=int(raw["order"]),
            audience=raw["audience"],
            name=dict(raw["name"]),
            summary=dict(raw.get("summary") or {}),
            prices={k: int(v) for k, v in (raw.get("prices") or {}).items()},
            limits=dict(raw.get("limits") or {}),
            features=frozenset(raw.get("features") or ()),
            unlocks=tuple(dict(u) for u in raw.get("unlocks") or ()),
            per=raw.get("per"),
            grant_only=bool(raw.get("grant_only", False)),
        )
        if set(plan.prices) - set(INTERVALS):
            raise ValueError(f"plan {plan.id}: prices are monthly and yearly only")
        out[plan.id] = plan
    if FREE not in out:
        raise ValueError("plans.yaml needs a plan with the id 'free'")
    return str(data.get("currency", "CNY")), out


def currency() -> str:
    return _load()[0]


def all_plans() -> list[Plan]:
    return sorted(_load()[1].values(), key=lambda p: p.order)


def ids() -> list[str]:
    return [p.id for p in all_plans()]


def get(plan_id: str | None) -> Plan:
    """The plan with this id; an unknown id (a plan removed from the file) counts as Free."""
    plans = _load()[1]
    return plans.get(plan_id or FREE) or plans[FREE]


def cheapest_allowing(feature: str, audience: str | None = None) -> Plan | None:
    """The least complete plan that allows `feature`, preferring plans sold to `audience`."""
    allowing = [p for p in all_plans() if p.allows(feature)]
    mine = [p for p in allowing if audience is None or p.audience == audience]
    sold = [p for p in (mine or allowing) if not p.grant_only] or mine or allowing
    return sold[0] if sold else None


def config_key(plan_id: str, interval: str) -> str:
    """The configuration key of a plan's Stripe Price id, e.g. STRIPE_PRICE_FIRM_PRO_YEARLY."""
    return f"STRIPE_PRICE_{plan_id.upper()}_{interval.upper()}"
