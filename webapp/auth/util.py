"""Password hashing, signed expiring tokens and the sign-in rate limit."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
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


# ---- rate limit -----------------------------------------------------------------------------------


class RateLimiter:
    """Fixed-window failure counter: in Redis when REDIS_URL is set (shared by every worker),
    else in this process."""

    def __init__(self) -> None:
        self._local: dict[str, list[float]] = defaultdict(list)

    def _redis(self) -> Any:
        url = current_app.config.get("REDIS_URL")
        if not url:
            return None
        ext = current_app.extensions
        if "qready.redis" not in ext:
            import redis

            ext["qready.redis"] = redis.Redis.from_url(url)
        return ext["qready.redis"]

    def blocked_for(self, key: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        cfg = current_app.config
        limit, window = cfg["SIGNIN_LIMIT"], cfg["SIGNIN_WINDOW"]
        r = self._redis()
        if r is not None:
            count = int(r.get(f"qready:rl:{key}") or 0)
            return max(int(r.ttl(f"qready:rl:{key}")), 1) if count >= limit else 0
        now = time.monotonic()
        hits = [t for t in self._local[key] if now - t < window]
        self._local[key] = hits
        return int(window - (now - hits[0])) + 1 if len(hits) >= limit else 0

    def hit(self, key: str) -> None:
        window = current_app.config["SIGNIN_WINDOW"]
        r = self._redis()
        if r is not None:
            pipe = r.pipeline()
            pipe.incr(f"qready:rl:{key}")
            pipe.expire(f"qready:rl:{key}", window, nx=True)
            pipe.execute()
            return
        self._local[key].append(time.monotonic())

    def reset(self, key: str) -> None:
        r = self._redis()
        if r is not None:
            r.delete(f"qready:rl:{key}")
        self._local.pop(key, None)


limiter = RateLimiter()
