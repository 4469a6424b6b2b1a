"""Password hashing, signed expiring tokens, ending sessions. (The sign-in limits: webapp/ratelimit.py.)"""

from __future__ import annotations

import contextlib
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from webapp import db
from webapp.models import User


def end_sessions(user_id: int) -> None:
    """End every session of the user, on every device, server-side: the next generation makes each
    session and remember-me cookie issued before name an id the user loader refuses."""
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# A real hash to compare against when the email is unknown, so both paths take the same time.
_DUMMY: dict[str, str] = {}


def check_password(user: User | None, password: str) -> bool:
    hasher = _hasher()
    if user is None:
        key = f"{hasher.time_cost}:{hasher.memory_cost}"
        if key not in _DUMMY:
            _DUMMY[key] = hasher.hash("qready-dummy-password")
        with contextlib.suppress(VerificationError):
            hasher.verify(_DUMMY[key], password)
        return False
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---- tokens ---------------------------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"qready.{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int) -> tuple[Any, str | None]:
    """(payload, None) or (None, "expired" | "invalid")."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age), None
    except SignatureExpired:
        return None, "expired"
    except BadSignature:
        return None, "invalid"
