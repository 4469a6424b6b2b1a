"""JSON errors for the API, in the caller's language: `{"error": {"code", "message"}}`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: ("bad_request", _("The request is malformed.")),
        401: (
            "unauthorized",
            _("A valid API token is required: send it as “Authorization: Bearer <token>”."),
        ),
        403: ("forbidden", _("Your role does not allow this.")),
        404: ("not_found", _("Not found.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
        409: ("conflict", _("The request conflicts with the current state.")),
        413: ("too_large", _("The request is too large.")),
        415: ("unsupported_media_type", _("Send the body as JSON (Content-Type: application/json).")),
        422: ("invalid", _("Some values are not valid.")),
        500: ("server_error", _("Something went wrong on our side. Please try again later.")),
        503: ("unavailable", _("The service is briefly unavailable. Try again in a moment.")),
    }


def respond(status: int, code: str | None = None, message: str | None = None, **extra: Any) -> Response:
    default_code, default_message = _messages().get(status, ("error", _("Something went wrong.")))
    body = {"error": {"code": code or default_code, "message": message or default_message, **extra}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="QReady API"'
    return response


def from_exception(exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return respond(exc.status, exc.code, exc.message, **exc.extra)
    if isinstance(exc, HTTPException) and exc.code is not None:
        return respond(exc.code)
    return respond(500)
