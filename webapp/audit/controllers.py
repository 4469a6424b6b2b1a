"""The activity pages: a firm's (for its owners) and the whole platform's (for admins)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp import access, db, tenancy
from webapp.audit import ACTIONS, FIRM_ACTIONS, ORG_KINDS, services
from webapp.models import Consultancy, Firm, Regulator
from webapp.orgs.forms import ROLE_LABELS

MAX_PAGE = 100_000


def _page_number() -> int:
    n = request.args.get("page", 1, type=int) or 1
    return min(max(n, 1), MAX_PAGE)


def _rows(events: list[Any], firm_names: dict[int, str] | None = None) -> list[dict[str, Any]]:
    # who acted for a consultancy is named with it (one statement for the page's consultancies)
    ids = {e.org_id for e in events if e.org_kind == "consultancy" and e.org_id}
    consultancies = (
        dict(
            db.session.execute(select(Consultancy.id, Consultancy.name).where(Consultancy.id.in_(ids))).all()
        )
        if ids
        else {}
    )
    return [
        {
            "at": e.created_at,
            "actor": e.actor_email,
            "for": consultancies.get(e.org_id) if e.org_kind == "consultancy" else None,
            "via": e.via,
            "action": services.action_label(e.action),
            "what": services.describe(e, ROLE_LABELS),
            "firm": (firm_names or {}).get(e.firm_id, f"#{e.firm_id}") if e.firm_id else "",
            "ip": e.ip or "",
        }
        for e in events
    ]


@access.firm("owner")
def firm_activity(firm_id: int) -> ResponseReturnValue:
    """What was done in this firm: members, consultants, exports and deletions."""
    firm = db.session.get(Firm, firm_id)  # tenant-scoped, and admitted for its owner
    if firm is None:
        abort(404)
    action = request.args.get("action", "")
    if action not in FIRM_ACTIONS:
        action = ""
    page = services.firm_events(firm.id, since=firm.created_at, action=action or None, page=_page_number())
    return render_template(
        "audit/firm.html",
        firm=firm,
        page=page,
        rows=_rows(page.events),
        actions=[(a, services.action_label(a)) for a in FIRM_ACTIONS],
        action=action,
        args={"firm_id": firm.id, **({"action": action} if action else {})},
    )


def _org_choices() -> list[tuple[str, str]]:
    with tenancy.bypass():
        firms = db.session.execute(
            select(Firm.id, Firm.name).where(Firm.synthetic.is_(False)).order_by(Firm.name)
        )
        choices = [(f"firm:{i}", name) for i, name in firms]
    consultancies = db.session.execute(select(Consultancy.id, Consultancy.name).order_by(Consultancy.name))
    choices += [(f"consultancy:{i}", name) for i, name in consultancies]
    regulators = db.session.execute(select(Regulator.id, Regulator.name).order_by(Regulator.name))
    choices += [(f"regulator:{i}", name) for i, name in regulators]
    return choices


def _org_arg(raw: str) -> tuple[str, int] | None:
    kind, _, ident = raw.partition(":")
    if kind in ORG_KINDS and ident.isdigit() and 0 < int(ident) < 2**31:
        return kind, int(ident)
    return None


@access.admin
def admin_activity() -> ResponseReturnValue:
    """Everything recorded, for platform admins: filter by organisation, user and action."""
    org = _org_arg(request.args.get("org", ""))
    user = request.args.get("user", "").strip()[:254]
    action = request.args.get("action", "")
    if action not in ACTIONS:
        action = ""
    page = services.all_events(org=org, user=user or None, action=action or None, page=_page_number())
    firm_ids = {e.firm_id for e in page.events if e.firm_id}
    with tenancy.bypass():
        names = (
            dict(db.session.execute(select(Firm.id, Firm.name).where(Firm.id.in_(firm_ids))).tuples().all())
            if firm_ids
            else {}
        )
    args = {
        k: v
        for k, v in (("org", f"{org[0]}:{org[1]}" if org else ""), ("user", user), ("action", action))
        if v
    }
    return render_template(
        "audit/admin.html",
        page=page,
        rows=_rows(page.events, names),  # type: ignore[arg-type]
        actions=[(a, services.action_label(a)) for a in ACTIONS],
        orgs=_org_choices(),
        org=args.get("org", ""),
        user=user,
        action=action,
        args=args,
    )
