"""Rendered section pages, kept per worker process and served again while nothing they show changed.

A section page reads the assessment's answers, evidence (this round's and the previous round's),
comments, assignments and history, scores the whole assessment and renders a dozen questions with
their help and policy quotes: tens of milliseconds. People reload it and move between sections far
more often than anything on it changes, so the rendered page is kept, keyed by everything it
depends on:

- the *stamp* of the assessment, read in one statement (`stamp`): its status, mode and last change,
  the firm's profile (it decides what applies), the newest row of the answer history (every change
  of an answer, shared facts included, writes one; rows are never removed), and the newest row and
  the row count of the evidence of both rounds, the comments and the section assignments (a removed
  row lowers the count);
- who asks and how: the user (name, memberships, active organisation, role in the firm), the
  language, the URL, the scoring date (today in Zhejiang), the framework as loaded.

Anything else that could change a page (a colleague renaming themselves, an organisation renamed
in the switcher) is bounded by a lifetime (`SECTION_CACHE_SECONDS`, default 300 s). A page with
flashed messages is neither served from nor kept in the cache. Pages are kept per session (the
session's CSRF token is part of the key, see `serve`).

Responses carry an ETag, so a browser that asks again with If-None-Match gets 304 Not Modified.
`SECTION_CACHE_SIZE` (default 256 pages a worker, 0 turns the cache off) bounds the memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import Response, current_app, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import and_, bindparam, func, select

from webapp import db
from webapp.models import AnswerHistory, Assessment, Comment, Evidence, Firm, SectionAssignment


class PageCache:
    """A small LRU of rendered pages with a lifetime, safe across a worker's threads."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self._pages: OrderedDict[Hashable, tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """The page kept for `key` and its ETag."""
        with self._lock:
            hit = self._pages.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit[0] > self.seconds:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return hit[1], hit[2]

    def put(self, key: Hashable, page: bytes, etag: str) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = (time.monotonic(), page, etag)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def cache() -> PageCache:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    made = app.extensions.get("qready.section_pages")
    if made is None:
        made = PageCache(
            int(app.config["SECTION_CACHE_SIZE"]),
            float(app.config["SECTION_CACHE_SECONDS"]),
        )
        app.extensions["qready.section_pages"] = made
    return made  # type: ignore[no-any-return]


_STATEMENT: list[db.HotStatement] = []


def _stamp_statement() -> db.HotStatement:
    if _STATEMENT:
        return _STATEMENT[0]
    a = Assessment.__table__
    aid = a.c.id
    prev = a.c.previous_id

    def newest(table: Any, where: Any) -> tuple[Any, Any]:
        # the newest row and the number of rows, two columns: any arithmetic on ids overflows
        # PostgreSQL's integer once the table's ids pass a few tens of thousands
        return (
            select(func.max(table.c.id)).where(where).scalar_subquery(),
            select(func.count()).where(where).scalar_subquery(),
        )

    h, e, c, s = AnswerHistory.__table__, Evidence.__table__, Comment.__table__, SectionAssignment.__table__
    stmt = (
        select(
            a.c.status,
            a.c.mode,
            a.c.updated_at,
            a.c.previous_id,
            Firm.name,
            Firm.region_code,
            Firm.industry_division,
            Firm.above_scale,
            Firm.size_class,
            Firm.founded_on,
            Firm.employees,
            # history rows are only ever added: the newest one is enough (one lookup in its index)
            select(func.max(h.c.id)).where(h.c.assessment_id == aid).scalar_subquery(),
            *newest(
                e, and_(e.c.firm_id == a.c.firm_id, e.c.assessment_id.in_([aid, func.coalesce(prev, 0)]))
            ),
            *newest(c, c.c.assessment_id == aid),
            *newest(s, s.c.assessment_id == aid),
            select(func.max(s.c.assigned_at)).where(s.c.assessment_id == aid).scalar_subquery(),
        )
        .select_from(a.join(Firm.__table__, Firm.id == a.c.firm_id))
        .where(aid == bindparam("assessment_id"), a.c.firm_id == bindparam("firm_id"))
    )
    hot = db.HotStatement(stmt)
    _STATEMENT.append(hot)
    return hot


def stamp_statement(args: dict[str, Any]) -> list[tuple[db.HotStatement, dict[str, Any]]]:
    """The stamp's statement for a section page's URL arguments, to be sent with the signed-in
    user's (`db.prefetch`)."""
    return [(_stamp_statement(), {"firm_id": args["firm_id"], "assessment_id": args["assessment_id"]})]


def stamp(firm_id: int, assessment_id: int) -> tuple[Any, ...] | None:
    """Everything stored that a section page of the assessment shows, in one round trip; None when the
    firm has no such assessment. `firm_id` must be one the caller's access rule admitted."""
    return _stamp_statement().first({"firm_id": firm_id, "assessment_id": assessment_id})


def serve(key: tuple[Any, ...], render: Callable[[], str]) -> Response:
    """The page for `key`: from the cache, or rendered (and kept). With an ETag; 304 when the browser
    already has it.

    The page holds the session's CSRF token, signed. Tokens do not expire here (`WTF_CSRF_TIME_LIMIT`
    is None: a token lives as long as its session), so a page kept for this session, keyed by the
    session's raw token, stays valid; another session never gets it."""
    if "csrf_token" not in session:
        generate_csrf()  # a first visit: put the session's raw token in place before keying on it
    key = (*key, session["csrf_token"])
    flashes = bool(session.get("_flashes"))
    pages = cache()
    kept = None if flashes else pages.get(key)
    etag = kept[1] if kept is not None else hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    if not flashes and request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        if kept is not None:
            body = kept[0]
        else:
            body = render().encode()
            if not flashes:
                pages.put(key, body, etag)
        response = Response(body, mimetype="text/html")
    if not flashes:
        response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
