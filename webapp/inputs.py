"""What every request may send: text the database can store, JSON of a bounded depth.

PostgreSQL refuses a NUL character in text, and a lone UTF-16 surrogate (JSON "\\ud800") cannot be
encoded for any database; JSON nested thousands deep exhausts Python's recursion. Rather than each
form, view and service guarding each field, a request carrying any of them is refused here, before its
view runs, with a 400 in the reader's language (`BadInput`): the fields of a posted form, the query,
the URL's parts, uploaded files' names and every string (keys included) of a JSON body. Nothing of the
request is saved; nothing saved before is touched. JSON is parsed through `BoundedJSONProvider`, so a
body nested deeper than `MAX_JSON_DEPTH` is refused wherever it is read.

Numbers are bounded where they are checked: the engine refuses an answer of 10^15 or more in size
(`scoring.submission.NUMBER_LIMIT`); versions are whole numbers within PostgreSQL's integer
(`version`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from webapp.util import safe_next

MAX_JSON_DEPTH = 32  # arrays and objects inside each other; the API's deepest body needs 3
MAX_INTEGER = 2**31 - 1  # PostgreSQL's integer
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BadInput(BadRequest):
    """A request refused as a whole: `code` is `bad_text`, `too_deep` or `bad_version`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code_name = code

    def message(self) -> str:
        if self.code_name == "too_deep":
            return _("The request is nested too deeply to be read. Nothing was saved.")
        if self.code_name == "bad_version":
            return _(
                "The answer's version must be a whole number from 0 to %(max)s. Nothing was saved.",
                max=MAX_INTEGER,
            )
        return _(
            "What you sent contains a character that cannot be saved (a NUL character or a broken Unicode "
            "character). Remove it and try again. Nothing was saved."
        )


def bad_text(value: str) -> bool:
    """A NUL character or a lone surrogate: text no database here can store."""
    return _BAD_TEXT.search(value) is not None


def _depth_within(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest at most `limit` deep (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _json_has_bad_text(data: Any) -> bool:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if bad_text(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with the depth of what it reads bounded: `request.get_json` and everything
    else reading JSON through the app raise `BadInput("too_deep")` (not a ValueError, so not taken
    for malformed JSON) where Python would run out of recursion or the body nests too deep."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            data = json.loads(s, **kwargs)
        except RecursionError:
            raise BadInput("too_deep") from None
        if not _depth_within(data, MAX_JSON_DEPTH):
            raise BadInput("too_deep")
        return data


def version(value: Any) -> int | None:
    """An answer's version as sent (None when not sent): a whole number within the database's
    integer, or `BadInput("bad_version")`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise BadInput("bad_version")
    return value


def _strings() -> Iterable[str]:
    """Every string of the request that a view may store or look up."""
    for k, v in (request.view_args or {}).items():
        yield k
        if isinstance(v, str):
            yield v
    for k, vs in request.args.lists():
        yield k
        yield from vs
    if request.method not in _BODY_METHODS:
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for k, vs in request.form.lists():
            yield k
            yield from vs
        for k, fs in request.files.lists():
            yield k
            yield from (f.filename or "" for f in fs)


def check_request() -> None:
    """Refuse a request carrying text that cannot be stored, or JSON nested too deep."""
    if any(bad_text(s) for s in _strings()):
        raise BadInput("bad_text")
    if request.method in _BODY_METHODS and request.is_json:
        data = request.get_json(silent=True)  # kept for the view; too deep raises BadInput
        if data is not None and _may_hold_bad_text(request.get_data()) and _json_has_bad_text(data):
            raise BadInput("bad_text")


def _may_hold_bad_text(body: bytes) -> bool:
    """Whether parsed JSON may hold a NUL or a lone surrogate (the walk costs more than the parse).
    JSON allows neither raw in a string; they come as a \\u escape, or as a surrogate's UTF-8 bytes
    (starting 0xED: Python reads JSON with "surrogatepass"), or in a body encoded otherwise (UTF-16
    or UTF-32, with NUL bytes). Anything else holds none, and needs no walk."""
    return b"\\u" in body or b"\xed" in body or b"\x00" in body


def refused(exc: BadInput) -> Response | tuple[Any, int]:
    """The 400 for a refused request: the API's JSON error, the questionnaire's JSON for a JSON
    request, else a page saying what was wrong with a link back."""
    message = exc.message()
    if request.path.startswith("/api/"):
        from webapp.api.errors import respond

        return respond(400, exc.code_name, message)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(ok=False, error=exc.code_name, message=message), 400
    back = None
    if request.referrer:
        referrer = request.referrer
        host = request.host_url.rstrip("/")
        back = safe_next(referrer[len(host) :] if referrer.startswith(host + "/") else referrer)
    return render_template("core/bad_input.html", message=message, back=back), 400


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(check_request)
    app.register_error_handler(BadInput, refused)
