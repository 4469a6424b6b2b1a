"""`flask billing ...`: the plans seen from the command line, for operators and the daily job."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp import db, tenancy
from webapp.billing import plans, services
from webapp.billing.services import GRACE_STATUSES, Org
from webapp.db import utcnow
from webapp.models import BillingAccount, PlanChange

billing_cli = AppGroup("billing", help="Plans and billing.")

DOWNGRADE_REASON = "payment failed; grace period over"


@billing_cli.command("sweep")
def sweep() -> None:
    """Record in the audit trail each downgrade whose grace period is over (run daily).

    The downgrade itself needs no job: entitlements read the grace period's end. This writes it
    down once, so the admin's trail says when and why an organisation became Free."""
    now = utcnow()
    done = 0
    with tenancy.bypass():
        due = db.session.scalars(
            select(BillingAccount).where(
                BillingAccount.status.in_(GRACE_STATUSES),
                BillingAccount.grace_until < now,
                BillingAccount.granted_plan.is_(None),
            )
        )
        for acct in due:
            recorded = db.session.scalar(
                select(PlanChange.id).where(
                    PlanChange.account_id == acct.id,
                    PlanChange.reason == DOWNGRADE_REASON,
                    PlanChange.created_at >= (acct.payment_failed_at or acct.grace_until),
                )
            )
            if recorded is None:
                services.record_change(
                    acct, acct.plan, plans.FREE, source="downgrade", reason=DOWNGRADE_REASON
                )
                done += 1
        db.session.commit()
    click.echo(f"{done} downgrade(s) recorded")


@billing_cli.command("grant")
@click.argument("org")
@click.argument("plan")
@click.option("--reason", required=True, help="Kept in the audit trail.")
def grant(org: str, plan: str, reason: str) -> None:
    """Grant PLAN to ORG (firm:ID, consultancy:ID or regulator:ID) by hand; PLAN "-" takes it back."""
    target = Org.parse(org)
    if target is None or (plan != "-" and plan not in plans.ids()):
        raise click.UsageError(f"ORG is kind:id, PLAN one of {', '.join(plans.ids())} or -")
    with tenancy.bypass():
        change = services.grant(target, None if plan == "-" else plan, reason, actor_id=None)
        db.session.commit()
    click.echo(f"{target.key}: {change.old_plan} -> {change.new_plan}")
