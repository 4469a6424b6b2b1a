"""The session cookie, verified once per worker.

Flask's session is a signed cookie: every request of a signed-in user verifies its signature and parses
its JSON, though the same person sends the same cookie request after request. `KeptSessionInterface`
is Flask's own interface with one addition: each worker keeps, for the cookies it verified recently,
what they decoded to and when they were signed. A cookie seen again is looked up by its exact text —
signature included — so only a text that verified before maps to data; its age is checked again on
each use, as Flask would. What the session holds, how it is signed and when it is written are
Flask's, unchanged.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
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
