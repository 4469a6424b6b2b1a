"""The public JSON API (/api/v1): personal tokens, JSON errors in the caller's language, OpenAPI 3.1."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

PREFIX = "/api/"


def init_app(app: Flask) -> None:
    from webapp.api.blueprint import bp
    from webapp.api.errors import ApiError, from_exception
    from webapp.extensions import csrf

    csrf.exempt(bp)  # token auth only: the API never reads the session cookie
    app.register_blueprint(bp)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return from_exception(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith(PREFIX):
            return from_exception(exc)
        return exc
