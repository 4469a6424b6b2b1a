"""Personal API tokens: create (shown once), look up by hash, revoke."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from webapp import db
from webapp.db import utcnow
from webapp.models import ApiToken, User

PREFIX = "qr_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself (never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip() or "API", prefix=token[:10], token_hash=_hash(token))
    db.session.add(row)
    db.session.flush()
    return row, token


def lookup(token: str) -> ApiToken | None:
    if not token.startswith(PREFIX):
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    return row


def of_user(user: User) -> list[ApiToken]:
    q = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(q.order_by(ApiToken.created_at)))


def revoke(row: ApiToken) -> None:
    row.revoked_at = utcnow()
