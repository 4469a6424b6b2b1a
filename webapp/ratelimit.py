"""Rate limits, with Flask-Limiter: one count for every worker and every node.

Where the counts live (`RATELIMIT_STORAGE_URI`, set in `config.load`):

- With `REDIS_URL`: in that Redis (Flask-Limiter's own Redis storage). Every node of a deployment
  shares it: a deployment of more than one node must set `REDIS_URL`.
- Without it: in a small SQLite file in the instance folder (`qready+sqlite://`, `SQLiteStorage`
  below), which every gunicorn worker of the node shares, and which needs no service. limits' own
  `memory://` storage would not do: each worker process would keep its own counts (the defect this
  module replaces: 9 to 10 wrong passwords before a refusal with the limit at 5, on two workers).

If the storage fails (Redis restarting), each worker counts in memory until it answers again
(`RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`): the limits hold per worker meanwhile, and nobody gets an error.

The limits (see `auth.controllers.signin` and `api.blueprint`):

- Sign-in, by account: `SIGNIN_LIMIT` attempts per email address in `SIGNIN_WINDOW` seconds, from any
  address; a successful sign-in and a password reset start the count again. Each attempt counts when it
  is made (an atomic increment), so attempts sent at once cannot slip past the limit.
- Sign-in, by address: `SIGNIN_ADDRESS_LIMIT` failed sign-ins per client address in the same window,
  whatever the accounts (someone trying one password on many accounts).
- While a limit holds, every sign-in attempt it covers is refused with the same page, the right
  password included: it says how many minutes to wait, and offers the password reset. Answering a
  right password differently would tell a guesser that the guess was right.
- The API: `API_RATE_LIMIT` requests per token (per client address for requests without a token),
  answered beyond it with a 429 JSON error and `Retry-After`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import threading
import time
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_qualified_name
from limits import parse
from limits.storage import Storage

log = logging.getLogger("qready.ratelimit")


def remote_address() -> str:
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=remote_address, strategy="fixed-window")

LIMITED_BLUEPRINTS = frozenset({"api"})  # a limit on the whole blueprint (api/blueprint.py)
_limited: dict[str, bool] = {}


def _without_limits() -> bool:
    """True for a request whose view has no limit. Flask-Limiter works that out itself on every request,
    at about 0.15 ms (0.06 ms with this as its request filter); the busy requests (autosave) skip it."""
    endpoint = request.endpoint or ""
    limited = _limited.get(endpoint)
    if limited is None:
        view = current_app.view_functions.get(endpoint)
        marked = getattr(limiter, "_marked_for_limiting", None)  # the views `limiter.limit` decorated
        limited = (
            request.blueprint in LIMITED_BLUEPRINTS
            or marked is None  # (should Flask-Limiter ever drop it: check every request, as it does)
            or (view is not None and get_qualified_name(view) in marked)
        )
        _limited[endpoint] = limited
    return not limited


def _check() -> None:
    if not _without_limits():
        limiter._check_request_limit()


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    hooks = app.before_request_funcs.setdefault(None, [])
    if limiter._check_request_limit in hooks:  # Flask-Limiter's own hook, called by `_check` when needed
        hooks[hooks.index(limiter._check_request_limit)] = _check
    app.register_error_handler(RateLimitExceeded, _exceeded)


def _exceeded(exc: RateLimitExceeded) -> Any:
    """A limit's own answer (the sign-in page, the API's JSON) when it made one; else the error page."""
    if exc.response is not None:
        return exc.response
    from webapp import errors

    return errors.handle(exc)


def seconds_left(limit: RequestLimit) -> int:
    """Whole seconds until the limit's window ends."""
    return max(1, math.ceil(limit.window[0] - time.time()))


def with_retry_after(response: Response, limit: RequestLimit) -> Response:
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds_left(limit))
    return response


# ---- sign-in -------------------------------------------------------------------------------------

ACCOUNT_SCOPE = "account"


def signin_account() -> str:
    """The account a sign-in names (its email as typed, the way accounts are stored)."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def signin_account_limit() -> str:
    cfg = current_app.config
    return f"{cfg['SIGNIN_LIMIT']} per {cfg['SIGNIN_WINDOW']} seconds"


def signin_address_limit() -> str:
    cfg = current_app.config
    return f"{cfg['SIGNIN_ADDRESS_LIMIT']} per {cfg['SIGNIN_WINDOW']} seconds"


def failed_signin(response: Response) -> bool:
    return response.status_code == 401


def forget_signin_attempts(email: str) -> None:
    """Start the account's count again (a successful sign-in, a password reset)."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    args = [*([prefix] if prefix else []), "email:" + email.strip().lower(), f"auth.signin:{ACCOUNT_SCOPE}"]
    try:
        limiter.limiter.clear(parse(signin_account_limit()), *args)
    except Exception:  # the storage is away: the count simply runs out with its window
        log.warning("could not clear the sign-in count of an account", exc_info=True)


# ---- the API -------------------------------------------------------------------------------------


def api_key() -> str:
    """Per token (a hash of it: the token itself is never kept), or per address without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "address:" + remote_address()


def api_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def api_breach(limit: RequestLimit) -> Response:
    from flask_babel import gettext as _

    from webapp.api.errors import respond

    wait = seconds_left(limit)
    response = respond(
        429,
        "rate_limited",
        _("Too many requests. Try again in %(n)s seconds.", n=wait),
        retry_after=wait,
    )
    return with_retry_after(response, limit)


# ---- a storage the workers of one node share, without a service -----------------------------------


class SQLiteStorage(Storage):
    """limits' fixed-window counters in a SQLite file: `qready+sqlite:///absolute/path.sqlite3` (the
    scheme's two slashes, then the path).

    Every process opens its own connection (per thread); an increment is one write transaction
    (`BEGIN IMMEDIATE`), so the workers' increments of one key never overlap and none is lost."""

    STORAGE_SCHEME = ["qready+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        path = (uri or "").split("://", 1)[1] if uri and "://" in uri else ""
        if not path:
            raise ValueError(
                "qready+sqlite:// needs a file path, e.g. qready+sqlite:///srv/ratelimits.sqlite3"
            )
        self.path = path
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():  # not across a fork
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        conn, now = self._conn(), time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT count, expires FROM counters WHERE key = ?", (key,)).fetchone()
            if row is None or row[1] <= now:
                count = amount
                conn.execute(
                    "INSERT OR REPLACE INTO counters (key, count, expires) VALUES (?, ?, ?)",
                    (key, count, now + expiry),
                )
                if row is None and hash(key) % 64 == 0:  # now and then, forget windows long gone
                    conn.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            else:
                count = row[0] + amount
                conn.execute("UPDATE counters SET count = ? WHERE key = ?", (count, key))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._conn()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = (
            self._conn()
            .execute("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counters WHERE key = ?", (key,))
