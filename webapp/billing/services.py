"""Billing accounts and their plans: what plan an organisation has now, hand grants, and the changes
Stripe's events make. Functions with explicit arguments; they flush, never commit (the request, the
webhook or the CLI command commits once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp import db
from webapp.billing import plans
from webapp.billing.plans import Plan
from webapp.db import utcnow
from webapp.models import BillingAccount, PlanChange

KINDS = ("firm", "consultancy", "regulator")
PAID_STATUSES = ("active", "trialing", "prepaid")
GRACE_STATUSES = ("past_due", "unpaid")


@dataclass(frozen=True)
class Org:
    """An organisation: a firm, a consultancy or a regulator, by id."""

    kind: str
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, key: str | None) -> Org | None:
        kind, _sep, raw = (key or "").partition(":")
        if kind not in KINDS or not raw.isdigit() or not 0 < int(raw) < 2**31:
            return None
        return cls(kind, int(raw))

    def columns(self) -> dict[str, int | None]:
        return {f"{k}_id": (self.id if k == self.kind else None) for k in KINDS}


def org_of(row: BillingAccount | PlanChange) -> Org:
    return Org(row.kind, row.org_id)


def billing_on() -> bool:
    """Billing is on when a Stripe key is configured; off, every organisation has the default plan."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


@dataclass(frozen=True)
class PlanState:
    """An organisation's plan right now, and why."""

    plan: Plan
    source: str  # config (billing off) | grant | stripe | free
    status: str  # the subscription's status ("none" without one)
    grace_until: dt.datetime | None = None  # payment failed: the plan stays until then
    downgraded_from: Plan | None = None  # payment failed and the grace period is over
    period_end: dt.datetime | None = None
    cancel_at_period_end: bool = False

    @property
    def in_grace(self) -> bool:
        return self.grace_until is not None and self.downgraded_from is None


def account(org: Org) -> BillingAccount | None:
    col = getattr(BillingAccount, f"{org.kind}_id")
    return db.session.scalar(select(BillingAccount).where(col == org.id))


def account_for_update(org: Org) -> BillingAccount:
    """The organisation's account, locked until the transaction ends (two webhook deliveries about one
    account take turns, so the older event cannot write last); made when it has none yet."""
    col = getattr(BillingAccount, f"{org.kind}_id")
    acct = db.session.scalar(select(BillingAccount).where(col == org.id).with_for_update())
    if acct is None:
        acct = BillingAccount(**org.columns(), plan=plans.FREE, status="none", cancel_at_period_end=False)
        db.session.add(acct)
        db.session.flush()
    return acct


def state_of(acct: BillingAccount | None, now: dt.datetime | None = None) -> PlanState:
    """The plan an account gives now. Billing off: the configured plan for everyone."""
    if not billing_on():
        return PlanState(plans.get(current_app.config["BILLING_DEFAULT_PLAN"]), "config", "none")
    if acct is None:
        return PlanState(plans.get(plans.FREE), "free", "none")
    now = now or utcnow()
    if acct.granted_plan:
        return PlanState(plans.get(acct.granted_plan), "grant", acct.status)
    sold = plans.get(acct.plan)
    common: dict[str, Any] = {
        "status": acct.status,
        "period_end": acct.current_period_end,
        "cancel_at_period_end": acct.cancel_at_period_end,
    }
    if acct.status == "prepaid" and acct.current_period_end is not None and acct.current_period_end < now:
        return PlanState(plans.get(plans.FREE), "free", **common)  # the period paid in advance is over
    if acct.status in PAID_STATUSES:
        return PlanState(sold, "stripe", **common)
    if acct.status in GRACE_STATUSES and acct.grace_until is not None:
        if now < acct.grace_until:
            return PlanState(sold, "stripe", grace_until=acct.grace_until, **common)
        return PlanState(
            plans.get(plans.FREE), "free", grace_until=acct.grace_until, downgraded_from=sold, **common
        )
    return PlanState(plans.get(plans.FREE), "free", **common)


def plan_state(org: Org, now: dt.datetime | None = None) -> PlanState:
    if not billing_on():
        return state_of(None, now)
    return state_of(account(org), now)


def record_change(
    acct: BillingAccount,
    old: str,
    new: str,
    *,
    source: str,
    reason: str,
    actor_id: int | None = None,
    event_id: str | None = None,
) -> PlanChange:
    change = PlanChange(
        account_id=acct.id,
        firm_id=acct.firm_id,
        consultancy_id=acct.consultancy_id,
        regulator_id=acct.regulator_id,
        old_plan=old,
        new_plan=new,
        source=source,
        reason=reason,
        actor_id=actor_id,
        stripe_event_id=event_id,
    )
    db.session.add(change)
    db.session.flush()
    # and in the audit log, in the same transaction: a firm's owners see their firm's plan changes
    from webapp import audit
    from webapp.models import User

    org = org_of(acct)
    audit.plan_changed(
        firm_id=acct.firm_id,
        org=None if org.kind == "firm" else (org.kind, org.id),
        old=old,
        new=new,
        source=source,
        detail={"reason": reason[:200]} if reason else None,
        actor=db.session.get(User, actor_id) if actor_id else None,
    )
    return change


def grant(org: Org, plan_id: str | None, reason: str, actor_id: int | None) -> PlanChange:
    """A platform admin grants a plan by hand (a regulator, a pilot), or with `plan_id` None takes the
    grant back (the organisation returns to what Stripe sold it). The reason goes to the audit trail."""
    acct = account_for_update(org)
    old = state_of(acct).plan.id if billing_on() else (acct.granted_plan or acct.plan)
    acct.granted_plan = plans.get(plan_id).id if plan_id else None
    db.session.flush()
    new = state_of(acct).plan.id if billing_on() else (acct.granted_plan or acct.plan)
    return record_change(
        acct, old, new, source="grant" if plan_id else "revoke", reason=reason, actor_id=actor_id
    )


def changes(org: Org | None = None, limit: int = 200) -> list[PlanChange]:
    q = select(PlanChange).order_by(PlanChange.created_at.desc(), PlanChange.id.desc()).limit(limit)
    if org is not None:
        q = q.where(getattr(PlanChange, f"{org.kind}_id") == org.id)
    return list(db.session.scalars(q))


def accounts_by_org() -> dict[str, BillingAccount]:
    return {org_of(a).key: a for a in db.session.scalars(select(BillingAccount))}
