"""`flask tokens create EMAIL [--name N]`: a personal API token, printed alone on the last line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp import audit, db
from webapp.api import tokens as token_service
from webapp.models import User

tokens = AppGroup("tokens", help="Personal API tokens.")


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="CLI", show_default=True, help="A name to recognise the token by.")
def create(email: str, name: str) -> None:
    """Create a token for the user with EMAIL. It is shown once and stored hashed."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(f"No user with the email {email}.", err=True)
        sys.exit(2)
    row, token = token_service.create(user, name)
    audit.record("token.created", target=row, detail={"prefix": row.prefix, "for": user.email})
    db.session.commit()
    click.echo(f"Token {name!r} for {user.email}; it acts with this user's permissions. Keep it secret:")
    click.echo(token)
