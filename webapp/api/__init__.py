"""The public JSON API (/api/v1): personal tokens, JSON errors in the caller's language, OpenAPI 3.1."""

from __future__ import annotations

from flask import Flask, Response

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

    # Every other error under PREFIX answers in JSON too: webapp/errors.py.
