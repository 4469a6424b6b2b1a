"""`flask privacy purge-firms`: delete the firms whose 30 days after an owner deleted them are over.
Run it daily (cron, a systemd timer): a firm is gone, evidence files included, within a day of its
date."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp import audit, db
from webapp.privacy import services
from webapp.questionnaire import storage

privacy = AppGroup("privacy", help="Data rights: deleting what is due.")


@privacy.command("purge-firms")
def purge_firms() -> None:
    """Delete every firm whose deletion is due, with all its data and evidence files."""
    now = db.utcnow()
    store = storage.store()
    due = services.firms_due(now)
    for firm in due:
        name, firm_id, when = firm.name, firm.id, firm.deletion_due_at
        audit.record("firm.deleted", firm_id=firm_id, target=firm, detail={"due": when}, actor=None)
        files = services.purge_firm(firm, store)
        db.session.commit()  # one firm at a time: a failure leaves the others as they were
        click.echo(f"Deleted firm {firm_id} {name} ({files} evidence files).")
    if not due:
        click.echo("No firm is due for deletion.")
