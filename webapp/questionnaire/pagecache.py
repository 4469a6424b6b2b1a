"""The section page's ETag: a browser that has the page asks again with If-None-Match and gets 304
Not Modified unless something the page shows changed. Nothing rendered is kept on the server: a page
that changed is rendered again, and only the browser keeps what it was sent.

The ETag names everything the page shows:

- the *stamp* of the assessment, read with it in the statement that loads it (`stamp_columns`): its
  status, mode and last change, the firm's profile (it decides what applies), the newest row of the answer history (every change
  of an answer, shared facts included, writes one; rows are never removed), the newest row and the
  row count of the evidence of both rounds, the comments and the section assignments (a removed row
  lowers the count), and the newest change to any user account (a colleague renamed: pages name the
  people who answered, commented and were assigned);
- who asks and how: the user (name, memberships, active organisation, role in the firm), the
  session (the page holds its CSRF token), the language, the URL, the scoring date (today in
  Zhejiang); for a consultant, the header's consultancy, client and client switcher (its clients by
  name: a new grant, a revoked one or a client renamed changes the page);
- the build (`webapp.build`): the code, templates, static files, translations and frameworks served;
- the age of the CSRF token the page holds: a page is answered 304 only within the half of
  `WTF_CSRF_TIME_LIMIT` it was rendered in, so a kept page's token always has half its life left.

A page with flashed messages has no ETag and is always rendered.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import and_, func, select

from webapp import access
from webapp.build import build_id
from webapp.models import AnswerHistory, Assessment, Comment, Evidence, SectionAssignment, User


@functools.cache
def stamp_columns() -> tuple[Any, ...]:
    """What the section page shows besides the assessment and its firm, as columns read with the
    assessment (`access.assessment(reading=...)`): built once (building them costs more than
    running them)."""
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
    return (
        # history rows are only ever added: the newest one is enough (one lookup in its index)
        select(func.max(h.c.id)).where(h.c.assessment_id == aid).scalar_subquery(),
        *newest(e, and_(e.c.firm_id == a.c.firm_id, e.c.assessment_id.in_([aid, func.coalesce(prev, 0)]))),
        *newest(c, c.c.assessment_id == aid),
        *newest(s, s.c.assessment_id == aid),
        select(func.max(s.c.assigned_at)).where(s.c.assessment_id == aid).scalar_subquery(),
        # any account changed (a name on the page): one lookup at the end of its index
        select(func.max(User.__table__.c.updated_at)).scalar_subquery(),
    )


def stamp_of(a: Assessment, read: tuple[Any, ...]) -> tuple[Any, ...]:
    """The stamp of an assessment read with `stamp_columns`."""
    f = a.firm
    firm = (
        f.name,
        f.region_code,
        f.industry_division,
        f.above_scale,
        f.size_class,
        f.founded_on,
        f.employees,
    )
    return (a.status, a.mode, a.updated_at, a.previous_id, *firm, *read)


def stamp(firm_id: int, assessment_id: int) -> tuple[Any, ...] | None:
    """Everything stored that a section page of the assessment shows, in one round trip; None when the
    firm has no such assessment."""
    row = access.load_row(firm_id, assessment_id, *stamp_columns())
    return None if row is None else stamp_of(row[0], tuple(row[1:]))


def _header() -> tuple[Any, ...] | None:
    """What the header shows a consultant working for a client (the breadcrumb and the switcher's
    clients), read as the header reads it; None for anyone else (their header is named by the key)."""
    from webapp.consultants import context

    view = context.client_view()
    return None if view is None else (view, tuple(context.clients()))


def serve(key: tuple[Any, ...], render: Callable[[], str]) -> Response:
    """The page named by `key` (everything it shows but the build and the session): 304 when the
    browser already has it, else rendered. See the module's docstring for what the ETag names."""
    if "csrf_token" not in session:
        generate_csrf()  # a first visit: put the session's raw token in place before naming it
    limit = current_app.config["WTF_CSRF_TIME_LIMIT"]
    window = int(time.time() // (limit / 2)) if limit else 0
    flashes = bool(session.get("_flashes"))
    etag = hashlib.sha256(
        repr((*key, _header(), build_id(), session["csrf_token"], window)).encode()
    ).hexdigest()[:32]
    if not flashes and request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(render(), mimetype="text/html")
    if not flashes:
        response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
