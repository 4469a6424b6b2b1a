"""Working for a client: who a consultant is working for on this page, for the header's breadcrumb
(consultancy → client → page), its client switcher, and the firm pages' wording ("this client's
targets", not "your targets").

A page "works for a client" when the signed-in user's active organisation is a consultancy and the
page's firm (`firm_id` in the URL) is in their context as a consultant only (a granted client, not a
firm they are a member of).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, select

from webapp import access, db
from webapp.models import AnswerHistory, Consultancy, ConsultancyGrant, Firm, Membership
from webapp.orgs import services as org_services


@dataclass(frozen=True)
class ClientView:
    consultancy_id: int
    consultancy_name: str
    firm_id: int | None  # the client of this page; None on the consultancy's own pages
    firm_name: str | None


def client_view() -> ClientView | None:
    """The consultancy (and the client) this page works for; None for anyone not working as a consultant."""
    if "client_view" in g:
        return g.client_view  # type: ignore[no-any-return]
    g.client_view = view = _client_view()
    return view


def _client_view() -> ClientView | None:
    org = access.active_org()
    if org is None or org.kind != "consultancy":
        return None
    firm_id = (request.view_args or {}).get("firm_id")
    firm_name = None
    if firm_id is not None:
        if not isinstance(firm_id, int) or access.firm_role(firm_id) not in access.CONSULTANT_ROLES:
            return None  # a firm of their own, or none they may see: not working for a client
        firm_name = db.session.scalar(select(Firm.name).where(Firm.id == firm_id))
        if firm_name is None:
            return None
    name = db.session.scalar(select(Consultancy.name).where(Consultancy.id == org.id))
    if name is None:
        return None
    return ClientView(org.id, name, firm_id if firm_name else None, firm_name)


def clients() -> list[tuple[int, str]]:
    """The active consultancy's clients (id, name) for the switcher."""
    view = client_view()
    if view is None:
        return []
    return [(f.id, f.name) for f in org_services.client_firms(view.consultancy_id)]


_H = AnswerHistory
_CONSULTANT_CHANGES = (  # built once, with bind parameters (building it costs as much as running it)
    select(_H.item_id, _H.changed_at, Consultancy.name)
    .join(Membership, and_(Membership.user_id == _H.changed_by_id, Membership.consultancy_id.is_not(None)))
    .join(Consultancy, Consultancy.id == Membership.consultancy_id)
    .join(
        ConsultancyGrant,
        and_(
            ConsultancyGrant.consultancy_id == Consultancy.id, ConsultancyGrant.firm_id == bindparam("firm")
        ),
    )
    .where(
        _H.firm_id == bindparam("firm"),
        _H.assessment_id == bindparam("a"),
        _H.item_id.in_(bindparam("items", expanding=True)),
        _H.changed_by_id.not_in(select(Membership.user_id).where(Membership.firm_id == bindparam("firm"))),
    )
    .order_by(Consultancy.name)
)


def consultant_changes(
    firm_id: int, assessment_id: int, item_ids: Iterable[str]
) -> dict[tuple[str, dt.datetime], str]:
    """The answer history rows of these items made by consultants (people who are not members of the
    firm, working for a consultancy the firm granted access, now or before): (item, when) → the
    consultancy's name. One statement; nothing for a firm no consultant ever worked in."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = db.session.execute(_CONSULTANT_CHANGES, {"firm": firm_id, "a": assessment_id, "items": ids})
    out: dict[tuple[str, dt.datetime], str] = {}
    for item_id, changed_at, name in rows:
        key = (item_id, changed_at)
        out[key] = f"{out[key]}、{name}" if key in out and name not in out[key] else name
    return out


def attribute(views: list[Any], entries: list[Any], changes: dict[tuple[str, dt.datetime], str]) -> list[Any]:
    """The history's "by" of each change a consultant made, with the consultancy's name."""
    for view, entry in zip(views, entries, strict=True):
        name = changes.get((entry.item, entry.changed_at))
        if name is not None:
            view.by = _("%(person)s (%(consultancy)s)", person=view.by, consultancy=name)
    return views
