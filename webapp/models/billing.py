"""Billing: each organisation's plan and Stripe subscription, the plan changes, the Stripe events seen.

A billing account belongs to one organisation (a firm, a consultancy or a regulator: exactly one of the
three columns, as in `Membership`). It is not tenant-scoped: a consultancy's or a regulator's account has
no firm, and the rows hold no assessment data. Only the billing views (the organisation's own owner, a
platform admin) and the webhook read them, each through `webapp.billing.services`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow
from webapp.models.orgs import _ONE_ORG, OrgRef

SUBSCRIPTION_STATUSES = (
    "none",  # never subscribed
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "paused",
    "prepaid",  # a period paid in advance (WeChat Pay, Alipay): no subscription renews it
)


class BillingAccount(OrgRef, Base):
    __tablename__ = "billing_accounts"
    __table_args__ = (CheckConstraint(_ONE_ORG, name="one_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), unique=True, index=True
    )
    consultancy_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultancies.id", ondelete="CASCADE"), unique=True, index=True
    )
    regulator_id: Mapped[int | None] = mapped_column(
        ForeignKey("regulators.id", ondelete="CASCADE"), unique=True, index=True
    )
    # What Stripe sold: the plan of the subscription (or of the period paid in advance) and its state.
    plan: Mapped[str] = mapped_column(String(32), default="free")
    status: Mapped[str] = mapped_column(String(24), default="none")
    interval: Mapped[str | None] = mapped_column(String(8))  # monthly | yearly
    quantity: Mapped[int | None] = mapped_column(Integer)  # client firms, for the Consultant plan
    current_period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    # The `created` time (seconds) of the Stripe event that last set the subscription's state: an event
    # created earlier never overwrites it (Stripe does not promise to deliver events in order).
    state_event_created: Mapped[int | None] = mapped_column(BigInteger)
    payment_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    grace_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # then downgraded to Free
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # A plan granted by hand by a platform admin (a regulator, a pilot): wins over Stripe while set.
    granted_plan: Mapped[str | None] = mapped_column(String(32))
    # 发票抬头: the invoice title Stripe puts on invoices (the firm's name unless changed)
    invoice_title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PlanChange(OrgRef, Base):
    """The audit trail of plans: who (a user, or Stripe through an event), when, why, from what to what."""

    __tablename__ = "plan_changes"
    __table_args__ = (CheckConstraint(_ONE_ORG, name="one_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    consultancy_id: Mapped[int | None] = mapped_column(ForeignKey("consultancies.id", ondelete="CASCADE"))
    regulator_id: Mapped[int | None] = mapped_column(ForeignKey("regulators.id", ondelete="CASCADE"))
    old_plan: Mapped[str] = mapped_column(String(32))
    new_plan: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # grant | revoke | stripe
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stripe_event_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class StripeEvent(Base):
    """A Stripe event handled: its id is the primary key, written in the same transaction as the
    event's effect, so a replay (Stripe retries; an attacker resends a signed body) changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[int] = mapped_column(BigInteger)  # the event's `created`, seconds since the epoch
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
