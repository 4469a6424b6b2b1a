"""Stripe's events, once each and in the order they happened.

`process(event)` is called with an event whose signature was verified on the raw body. It records the
event id (primary key) and applies the event's effect in the same transaction: a replay finds the id
and changes nothing. Stripe does not deliver events in order, so the subscription state carries the
`created` time of the event that set it, and an event created earlier is recorded but changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp import db, tenancy
from webapp.billing import plans, services, stripe_api
from webapp.billing.services import GRACE_STATUSES, Org
from webapp.models import BillingAccount, Consultancy, Firm, Regulator, StripeEvent
from webapp.models.billing import SUBSCRIPTION_STATUSES

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def _at(seconds: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC) if seconds else None


def _org_from(obj: Obj) -> Org | None:
    meta = obj.get("metadata") or {}
    org = Org.parse(meta.get("org")) or Org.parse(obj.get("client_reference_id"))
    if org is None:
        details = (
            obj.get("subscription_details") or (obj.get("parent") or {}).get("subscription_details") or {}
        )
        org = Org.parse((details.get("metadata") or {}).get("org"))
    return org


def _account(obj: Obj) -> BillingAccount | None:
    """The account an object is about: by the organisation in its metadata, else by its customer."""
    org = _org_from(obj)
    if org is not None:
        model = {"firm": Firm, "consultancy": Consultancy, "regulator": Regulator}[org.kind]
        with tenancy.bypass():  # the webhook has no signed-in user: the organisation is named by Stripe
            if db.session.get(model, org.id) is None:
                return None  # an organisation deleted since: recorded, nothing to change
        return services.account_for_update(org)
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not customer:
        return None
    return db.session.scalar(select(BillingAccount).where(BillingAccount.stripe_customer_id == customer))


def _newer(acct: BillingAccount, created: int) -> bool:
    return acct.state_event_created is None or created >= acct.state_event_created


def _grace(created: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(created, dt.UTC) + dt.timedelta(
        days=int(current_app.config["BILLING_GRACE_DAYS"])
    )


def _checkout_completed(acct: BillingAccount, obj: Obj, created: int) -> None:
    if obj.get("customer") and not acct.stripe_customer_id:
        acct.stripe_customer_id = obj["customer"]
    meta = obj.get("metadata") or {}
    plan, interval = plans.get(meta.get("plan")), meta.get("interval")
    paid = obj.get("payment_status") in ("paid", "no_payment_required")
    if obj.get("mode") == "payment":
        if not paid or meta.get("prepaid") != "1" or interval not in plans.INTERVALS:
            return
        # a period paid in advance: it starts now, or when the one paid before ends
        start = max(
            d for d in (_at(created), acct.current_period_end if acct.status == "prepaid" else None) if d
        )
        length = dt.timedelta(days=366 if interval == "yearly" else 31)
        acct.plan, acct.interval, acct.status = plan.id, interval, "prepaid"
        acct.current_period_end = start + length
        acct.grace_until = acct.payment_failed_at = None
        acct.state_event_created = max(created, acct.state_event_created or 0)
        return
    if obj.get("subscription"):
        if acct.stripe_subscription_id != obj["subscription"] and not _newer(acct, created):
            return
        acct.stripe_subscription_id = obj["subscription"]
    if paid and _newer(acct, created):
        acct.plan = plan.id
        acct.interval = interval if interval in plans.INTERVALS else acct.interval
        acct.status = "active"
        acct.grace_until = acct.payment_failed_at = None
        acct.state_event_created = created


def _period_end(sub: Obj) -> int | None:
    if sub.get("current_period_end"):
        return int(sub["current_period_end"])
    items = (sub.get("items") or {}).get("data") or []
    ends = [int(i["current_period_end"]) for i in items if i.get("current_period_end")]
    return max(ends) if ends else None  # API 2025-03-31 and later: the period is on the items


def _subscription(acct: BillingAccount, sub: Obj, created: int, deleted: bool = False) -> None:
    if deleted and acct.stripe_subscription_id and sub.get("id") != acct.stripe_subscription_id:
        return  # the end of an older subscription than the one we follow never cancels the new one
    if not _newer(acct, created):
        return  # an older state than the one we have
    if (
        acct.state_event_created == created
        and acct.status == "canceled"
        and sub.get("id") == acct.stripe_subscription_id
    ):
        return  # same second: a canceled subscription stays canceled
    items = (sub.get("items") or {}).get("data") or []
    price = (items[0].get("price") or {}) if items else {}
    known = stripe_api.plan_of_price(price.get("id"))
    meta = sub.get("metadata") or {}
    if known is not None:
        acct.plan, acct.interval = known
    elif meta.get("plan") in plans.ids():
        acct.plan = meta["plan"]
        acct.interval = meta.get("interval") if meta.get("interval") in plans.INTERVALS else acct.interval
    acct.quantity = int(items[0].get("quantity") or 1) if items else acct.quantity
    acct.stripe_subscription_id = sub.get("id") or acct.stripe_subscription_id
    if sub.get("customer") and not acct.stripe_customer_id:
        acct.stripe_customer_id = sub["customer"]
    status = "canceled" if deleted else str(sub.get("status") or "active")
    acct.status = status if status in SUBSCRIPTION_STATUSES else "incomplete"
    acct.current_period_end = _at(_period_end(sub))
    acct.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    if acct.status in GRACE_STATUSES:
        acct.grace_until = acct.grace_until or _grace(created)
        acct.payment_failed_at = acct.payment_failed_at or _at(created)
    elif acct.status in ("active", "trialing"):
        acct.grace_until = acct.payment_failed_at = None
    acct.state_event_created = created


def _invoice_paid(acct: BillingAccount, inv: Obj, created: int) -> None:
    if not _newer(acct, created):
        return
    if acct.status in GRACE_STATUSES or acct.status == "incomplete":
        acct.status = "active"
    acct.grace_until = acct.payment_failed_at = None
    acct.state_event_created = created


def _invoice_failed(acct: BillingAccount, inv: Obj, created: int) -> None:
    if not _newer(acct, created):
        return
    if acct.status in ("active", "trialing"):
        acct.status = "past_due"
    if acct.status in GRACE_STATUSES:
        acct.payment_failed_at = acct.payment_failed_at or _at(created)
        acct.grace_until = acct.grace_until or _grace(created)
    acct.state_event_created = created


HANDLERS: dict[str, Callable[[BillingAccount, Obj, int], None]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": lambda a, o, c: _subscription(a, o, c, deleted=True),
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


def process(event: Obj) -> str:
    """Record the event and apply it: "duplicate" (seen before: nothing changes), "ignored" (a type we
    do not handle, or about no account of ours: recorded only) or "applied"."""
    event_id, event_type, created = str(event["id"]), str(event["type"]), int(event["created"])
    if db.session.get(StripeEvent, event_id) is not None:
        return "duplicate"
    db.session.add(StripeEvent(id=event_id, type=event_type, created=created))
    db.session.flush()  # a concurrent delivery of the same event fails here (primary key)
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    obj = (event.get("data") or {}).get("object") or {}
    acct = _account(obj)
    if acct is None:
        log.warning("stripe event %s (%s) is about no account of ours", event_id, event_type)
        return "ignored"
    before = services.state_of(acct).plan.id
    handler(acct, obj, created)
    db.session.flush()
    after = services.state_of(acct).plan.id
    if before != after:
        services.record_change(acct, before, after, source="stripe", reason=event_type, event_id=event_id)
    return "applied"
