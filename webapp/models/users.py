from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from webapp.models.orgs import Membership


@functools.lru_cache(maxsize=1024)
def _stamp_of(password_hash: str) -> str:
    # asked on every signed-in request (`get_id`); the same few hashes over and over
    return hashlib.sha256(password_hash.encode()).hexdigest()[:12]


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # raised by a sign-out and by an admin's "sign out everywhere": every session cookie (and
    # remember-me cookie) issued before names an older generation and is no longer accepted
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # any change to the account (a page that names the user is out of date; see questionnaire/pagecache.py)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now(), index=True
    )
    # read with the user on every signed-in request (`access.load_user`); written as Membership rows
    memberships: Mapped[list[Membership]] = relationship(order_by="Membership.id", viewonly=True)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def session_stamp(self) -> str:
        """Changes with every password change (each hash has a fresh salt)."""
        return _stamp_of(self.password_hash)

    def get_id(self) -> str:
        """Flask-Login's session id: the user, a stamp of the password (a password change ends every
        other session) and the session generation (a sign-out ends every session, server-side: a
        cookie saved before it names the old generation). See `webapp.auth.session_user`."""
        return f"{self.id}:{self.session_stamp}:{self.session_generation}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
