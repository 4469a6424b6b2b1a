"""Error pages: the site's layout in the reader's language, a short message per code and a way home;
under /api/ the API's JSON errors (`{"error": {"code", "message"}}`, webapp/api/errors.py).

The 500 page must answer when the database is what failed: it queries nothing (the signed-in user is
taken only if the request already loaded it, the organisation switcher is left out), and when even
that render fails a static page in both languages is sent.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from webapp import db
from webapp.api import PREFIX as API_PREFIX
from webapp.extensions import login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("The request could not be processed"),
        _l(
            "What the browser sent could not be understood; a form may have been open too long. Reload the page and try again."
        ),
    ),
    401: (_l("Please sign in"), _l("Sign in to see this page.")),
    403: (
        _l("You are not allowed to open this page"),
        _l("Your account has no access to it. If you think it should, ask the owner of the organisation."),
    ),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. It may have moved, or the link is mistyped."),
    ),
    405: (
        _l("This page does not accept this kind of request"),
        _l("Go back to the page and use its own buttons and links."),
    ),
    410: (_l("This has been removed"), _l("What you asked for has been removed and is no longer available.")),
    413: (_l("What you sent is too large"), _l("Send a smaller file, or fewer files at once.")),
    422: (
        _l("What you sent could not be accepted"),
        _l("Some values could not be accepted. Go back, check the form and try again."),
    ),
    429: (
        _l("Too many requests"),
        _l("You sent too many requests in a short time. Wait a minute, then try again."),
    ),
    503: (
        _l("The service is briefly unavailable"),
        _l("Please try again in a moment. Everything saved before is kept."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("The page could not be shown because of an error on our side. Please try again later."),
    ),
}
GENERIC = (_l("Something went wrong"), _l("The page could not be shown. Please try again later."))

STATIC_PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>出错了 · Something went wrong</title><link rel="stylesheet" href="/static/css/app.css"></head>
<body><main class="container"><section class="card narrow">
<h1>系统出了问题</h1>
<p>页面暂时无法显示，请稍后再试。</p>
<p lang="en">Something went wrong on our side. Please try again later.</p>
<p><a href="/">返回首页</a> · <a href="/" lang="en">Back to the start page</a></p>
</section></main></body>
</html>
"""


RETRY_AFTER = 1  # seconds: a broken database connection is replaced by the next request


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle)  # Flask brings every unhandled error here as a 500
    app.register_error_handler(DBAPIError, _database_error)


def _database_error(exc: DBAPIError) -> Response:
    """A request whose database connection broke under it (the server ended it, or restarted): 503
    with Retry-After, which the questionnaire's offline queue retries by itself (static/js/
    questionnaire.js) and a person may simply repeat. Any other database error stays a 500."""
    if not db.disconnected(exc):
        raise exc
    return unavailable(exc)


def unavailable(exc: BaseException) -> Response:
    """503, Retry-After: the request may be sent again as it is. Its transaction was rolled back (or,
    when the connection broke during COMMIT, may have been committed: every write the browser retries
    is safe to repeat, the autosave by its version)."""
    log.warning("the database connection broke during %s %s: %s", request.method, request.path, exc)
    db.session.rollback()
    _forget_session_changes()
    error = ServiceUnavailable(retry_after=RETRY_AFTER)
    if not request.path.startswith(API_PREFIX) and (
        request.is_json or request.accept_mimetypes.best == "application/json"
    ):
        message = MESSAGES[503][1]
        response = jsonify(ok=False, error="unavailable", message=str(message))
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    response = handle(error)
    assert isinstance(response, Response)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _forget_session_changes() -> None:
    """The session cookie goes back to what the request brought: what the request did to it (a
    sign-in, a new CSRF secret) went with its rolled-back transaction, and sending the same request
    again must find the session it was made for (bench/load.py met a sign-in retried with a CSRF
    token the failed attempt had replaced)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    brought = app.session_interface.open_session(app, request)
    if brought is not None:
        session.clear()
        session.update(brought)


def handle(exc: HTTPException) -> Response | HTTPException:
    code = exc.code or 500
    if code >= 500:
        _no_database()
    if request.path.startswith(API_PREFIX):
        return _api(exc)
    try:
        response = _page(exc, code)
    except Exception:
        log.exception("the %s error page failed; sending the static page", code)
        response = Response(STATIC_PAGE, status=code, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow (405), Retry-After, WWW-Authenticate
    return response


def _page(exc: HTTPException, code: int) -> Response:
    title, message = MESSAGES.get(code, GENERIC)
    context = {}
    if code >= 500:
        context = {"org_choices": list, "active_org": None}  # the switcher reads organisation names
    html = render_template("errors/error.html", code=code, title=title, message=message, **context)
    return Response(html, status=code, mimetype="text/html")


def _api(exc: HTTPException) -> Response:
    from webapp.api.errors import from_exception

    try:
        return from_exception(exc)
    except Exception:
        log.exception("the API's %s error failed", exc.code)
        body = '{"error": {"code": "server_error", "message": "Something went wrong on our side."}}'
        return Response(body, status=InternalServerError.code, mimetype="application/json")


def _no_database() -> None:
    """Before a 500 page: take no user from the database. The one the request loaded already is
    used (its columns are loaded); else the page is shown as to a visitor."""
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
