from __future__ import annotations

import io
import re
import unicodedata
from os import PathLike
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Response, send_file
from werkzeug.http import quote_header_value


def safe_next(target: str | None) -> str | None:
    """A `next` URL only when it stays on this site (a path, no scheme or host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# ---- downloads --------------------------------------------------------------------------------------

_UNSAFE_IN_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()+-]+")  # what every browser keeps as it is
_ATTR_CHAR = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits (quote() keeps those)


def ascii_filename(filename: str, default: str = "download") -> str:
    """A plain-ASCII stand-in for a file name: accents dropped, other characters as "_"."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""

    def clean(part: str) -> str:
        part = "".join(c for c in unicodedata.normalize("NFKD", part) if not unicodedata.combining(c))
        return re.sub(r"_{2,}", "_", _UNSAFE_IN_FALLBACK.sub("_", part)).strip(" ._-")

    stem, ext = clean(stem) or default, clean(ext)
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition of a download (RFC 6266): `filename="<ASCII stand-in>"` for old
    clients and, when the name is not that, `filename*=UTF-8''<percent-encoded name>` (RFC 5987),
    which every current browser prefers. Always pure ASCII, so any server and proxy passes it on
    (gunicorn drops a response whose header carries raw UTF-8)."""
    fallback = ascii_filename(filename)
    value = (
        f"{'inline' if inline else 'attachment'}; filename={quote_header_value(fallback, allow_token=False)}"
    )
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe=_ATTR_CHAR, encoding="utf-8")
    return value


def send_download(
    data: bytes | str | PathLike[str],
    filename: str,
    mimetype: str,
    *,
    inline: bool = False,
    **send_file_options: Any,
) -> Response:
    """Every download of the app goes out through here: the bytes (or a file's path) with the
    right Content-Disposition (`content_disposition`) whatever the file name's language.

    `send_file_options` go to Flask's `send_file` (`max_age`, `etag`, `conditional`, ...)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(source, mimetype=mimetype, **send_file_options)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response
