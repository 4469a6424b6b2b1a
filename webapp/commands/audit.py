"""`flask audit prune`: delete the audit log's events older than AUDIT_RETENTION_DAYS. Run it daily
(cron, a systemd timer), beside `flask privacy purge-firms`.

The log is append-only in the database (triggers); the one exception, made by the migration
d2f6a8c4e1b7, is a DELETE of rows older than six months (AUDIT_MIN_RETENTION_DAYS) in a transaction
that says it prunes (PostgreSQL: the setting `qready.audit_prune`, set here and nowhere else). The
pruning itself is recorded: an `audit.pruned` event with the cut-off and the count.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, func, select, text

from webapp import audit as audit_log
from webapp import db
from webapp.config import AUDIT_MIN_RETENTION_DAYS
from webapp.models import AuditEvent

audit = AppGroup("audit", help="The audit log.")


@audit.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def prune(dry_run: bool) -> None:
    """Delete the audit events older than AUDIT_RETENTION_DAYS (at least 180)."""
    days = max(int(current_app.config["AUDIT_RETENTION_DAYS"]), AUDIT_MIN_RETENTION_DAYS)
    cutoff = db.utcnow() - dt.timedelta(days=days)
    table = AuditEvent.__table__
    conn = db.session.connection()
    if dry_run:
        n = conn.execute(select(func.count()).select_from(table).where(table.c.created_at < cutoff)).scalar()
        click.echo(f"{n} audit events are older than {days} days (before {cutoff:%Y-%m-%d %H:%M} UTC).")
        db.session.rollback()
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('qready.audit_prune', 'on', true)"))  # this transaction only
    n = conn.execute(delete(table).where(table.c.created_at < cutoff)).rowcount
    audit_log.record(
        "audit.pruned",
        detail={"before": cutoff.isoformat(timespec="seconds"), "deleted": n, "days": days},
        actor=None,
    )
    db.session.commit()
    click.echo(f"Deleted {n} audit events older than {days} days (before {cutoff:%Y-%m-%d %H:%M} UTC).")
