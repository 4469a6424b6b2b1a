"""Response headers that keep pages from being framed, sniffed or fed outside code.

Every response gets a Content-Security-Policy: only this site's own scripts (no inline script, no
eval), styles, images, fonts and connections; no plugins; forms post only here; no page may be framed
(`frame-ancestors 'none'`, and X-Frame-Options for older browsers). The report read in the app embeds
the report's own stylesheet and its SVG charts, which carry inline styles; that view alone may use
inline styles (`allow_inline_styles`) — styles, never scripts. The API answers `no-store`: private
data is never kept by a cache. HSTS is sent in production over HTTPS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request

V = TypeVar("V", bound=Callable[..., Any])

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _policy(inline_styles: bool) -> str:
    parts = dict(_POLICY)
    if inline_styles:
        parts["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{k} {v}" for k, v in parts.items())


POLICY = _policy(False)
POLICY_INLINE_STYLES = _policy(True)


def allow_inline_styles(view: V) -> V:
    """Mark a view whose page embeds inline styles it made itself (the report's charts)."""
    view.inline_styles = True  # type: ignore[attr-defined]
    return view


def _inline_styles() -> bool:
    if g.get("inline_styles"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "inline_styles", False))


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Content-Security-Policy", POLICY_INLINE_STYLES if _inline_styles() else POLICY)
        if request.path.startswith("/api/"):
            h["Cache-Control"] = "no-store"
        if app.config["ENV"] == "production" and request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
