"""`flask digest [--days N]`: the weekly mail of each action owner's overdue and upcoming actions."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app, url_for
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import db, mail, tenancy
from webapp.models import Action, User
from webapp.models.plan import OPEN_STATUSES
from webapp.plan import services


def send_digests(days: int = 7, *, day: dt.date | None = None) -> int:
    """Mail every owner of an open action that is overdue or due within `days` days, in their
    language; only the firms they may reach now count (a revoked grant drops its firm's actions).
    Returns the number of mails sent."""
    today = day or services.today()
    horizon = today + dt.timedelta(days=days)
    with tenancy.bypass():
        owner_ids = set(
            db.session.scalars(
                select(Action.owner_id).where(
                    Action.owner_id.is_not(None),
                    Action.status.in_(OPEN_STATUSES),
                    Action.due_on.is_not(None),
                    Action.due_on < horizon,
                )
            )
        )
    sent = 0
    for user in db.session.scalars(select(User).where(User.id.in_(owner_ids)).order_by(User.id)):
        if not user.is_active_account:
            continue
        mine, names = services.actions_for_user(user.id)
        actions = [
            a for a in mine if a.status in OPEN_STATUSES and a.due_on is not None and a.due_on < horizon
        ]
        if not actions:
            continue
        overdue = [a for a in actions if a.due_on < today]  # type: ignore[operator]
        upcoming = [a for a in actions if a.due_on >= today]  # type: ignore[operator]
        with force_locale(user.locale or "zh"):
            mail.send(
                user.email,
                _(
                    "Your QReady actions: %(overdue)s overdue, %(upcoming)s due soon",
                    overdue=len(overdue),
                    upcoming=len(upcoming),
                ),
                "digest",
                user=user,
                overdue=overdue,
                upcoming=upcoming,
                firms=names,
                title_of=services.title_of,
                days=days,
                link=url_for("plan.mine", _external=True),
            )
        sent += 1
    return sent


@click.command("digest")
@click.option(
    "--days", default=7, show_default=True, help="Actions due within this many days count as upcoming."
)
@with_appcontext
def digest(days: int) -> None:
    """Mail each action owner their overdue and upcoming actions (to the log without MAIL_SERVER)."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        sent = send_digests(days)
    click.echo(f"{sent} digest mails sent.")
