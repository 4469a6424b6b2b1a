"""The session cookie and the CSRF token, each verified once per worker.

Flask's session is a signed cookie: every request of a signed-in user verifies its signature and parses
its JSON, though the same person sends the same cookie request after request. `KeptSessionInterface`
is Flask's own interface with one addition: each worker keeps, for the cookies it verified recently,
what they decoded to and when they were signed. A cookie seen again is looked up by its exact text —
signature included — so only a text that verified before maps to data; its age is checked again on
each use, as Flask would. What the session holds, how it is signed and when it is written are
Flask's, unchanged.

`check_csrf` does the same for Flask-WTF's CSRF token (the session's raw token, signed), checked on
every request that writes: a signed token this worker verified before is mapped back to the raw token
it carries and compared with the session's, as Flask-WTF compares; any other request — a token not
seen yet, a mismatch, an HTTPS request whose referrer is not this site — goes to Flask-WTF's own
`protect`, which decides and answers. Tokens are kept only while they do not expire
(`WTF_CSRF_TIME_LIMIT` None, as configured here).
"""

from __future__ import annotations

import copy
import hmac
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, ValidationError, same_origin, validate_csrf
from itsdangerous import BadSignature

_PLAIN = (str, int, float, bool, type(None))


def _fresh(data: dict[str, Any]) -> dict[str, Any]:
    """A copy a request may change without changing the kept one (flashes are lists)."""
    if all(isinstance(v, _PLAIN) for v in data.values()):
        return dict(data)
    return copy.deepcopy(data)


class KeptSessionInterface(SecureCookieSessionInterface):
    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        val = request.cookies.get(self.get_cookie_name(app))
        if not val or not app.secret_key or self.size <= 0:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        with self._lock:
            hit = self._seen.get(val)
            if hit is not None:
                self._seen.move_to_end(val)
        if hit is not None:
            data, signed_at = hit
            if 0 <= time.time() - signed_at <= max_age:
                return self.session_class(_fresh(data))
            with self._lock:
                self._seen.pop(val, None)
            return self.session_class()  # expired, as Flask would find it
        s = self.get_signing_serializer(app)
        assert s is not None
        try:
            data, signed = s.loads(val, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict):
            with self._lock:
                self._seen[val] = (_fresh(data), signed.timestamp())
                while len(self._seen) > self.size:
                    self._seen.popitem(last=False)
        return self.session_class(data)


class _Kept(OrderedDict[str, str]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def find(self, key: str) -> str | None:
        with self.lock:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
            return value

    def keep(self, key: str, value: str) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self[key] = value
            while len(self) > self.size:
                self.popitem(last=False)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _token_sent(app: Flask) -> str | None:
    if request.mimetype in _FORMS:
        token = request.form.get(app.config["WTF_CSRF_FIELD_NAME"])
        if token:
            return str(token)
    for name in app.config["WTF_CSRF_HEADERS"]:
        token = request.headers.get(name)
        if token:
            return token
    return None


def check_csrf(app: Flask, csrf: CSRFProtect, size: int) -> None:
    """Check the CSRF token of every request that writes, with Flask-WTF's checks, remembering the
    tokens verified. Call before `csrf.init_app`: Flask-WTF's own check is replaced by this one."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    kept = _Kept(size)

    @app.before_request
    def _check() -> None:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.method not in app.config["WTF_CSRF_METHODS"]:
            return
        token = _token_sent(app)
        raw = kept.find(token) if token else None
        field = app.config["WTF_CSRF_FIELD_NAME"]
        if raw is not None and hmac.compare_digest(str(session.get(field, "")), raw) and _referrer_ok(app):
            g.csrf_valid = True
            return
        csrf.protect(apply_exemptions=True)  # decides, and answers a failure itself
        if token and app.config["WTF_CSRF_TIME_LIMIT"] is None and field in session:
            try:
                validate_csrf(token)  # the token protect() found may have been another one
            except (ValidationError, CSRFError):
                return
            kept.keep(token, str(session[field]))


def _referrer_ok(app: Flask) -> bool:
    if not (request.is_secure and app.config.get("WTF_CSRF_SSL_STRICT", True)):
        return True
    return bool(request.referrer) and same_origin(request.referrer, f"https://{request.host}/")
