from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import access, audit, db
from webapp.consultants import portfolio as pf
from webapp.consultants.forms import ConsultancyForm
from webapp.models import Consultancy, Invitation, Membership
from webapp.orgs import services as org_services
from webapp.orgs.controllers import pending_invitations, send_invitation, withdraw
from webapp.orgs.forms import ROLE_LABELS, InviteForm
from webapp.questionnaire.present import readiness_label


def _consultancy() -> Consultancy:
    org = access.active_org()
    assert org is not None
    c = db.session.get(Consultancy, org.id)
    if c is None:
        abort(404)
    return c


def _page(form: InviteForm, status: int = 200) -> ResponseReturnValue:
    c = _consultancy()
    members = list(db.session.scalars(select(Membership).where(Membership.consultancy_id == c.id)))
    p = pf.portfolio(c.id)
    args = request.args
    filters = {k: args.get(k, "")[:100] for k in ("q", "city", "industry", "target", "readiness")}
    sort = args.get("sort", "name") if args.get("sort") in pf.SORTS else "name"
    descending = args.get("dir") == "desc"
    lines = pf.select_lines(
        p,
        search=filters["q"],
        city=filters["city"],
        industry=filters["industry"],
        target=filters["target"],
        readiness=filters["readiness"],
        sort=sort,
        descending=descending,
    )
    return (
        render_template(
            "consultants/home.html",
            consultancy=c,
            portfolio=p,
            lines=lines,
            filters=filters,
            sort=sort,
            descending=descending,
            readiness_label=readiness_label,
            members=members,
            invitations=pending_invitations(consultancy_id=c.id),
            form=form,
            role_labels=ROLE_LABELS,
            my_role=access.active_org().role,  # type: ignore[union-attr]
        ),
        status,
    )


@access.org_kind("consultancy")
def home() -> ResponseReturnValue:
    """The consultant's portfolio: the firms that granted access, and the team."""
    return _page(InviteForm(kind="consultancy"))


@access.org_kind("consultancy")
def open_client() -> ResponseReturnValue:
    """The header's client switcher: open a client's firm home (a firm that is not a client: 404)."""
    raw = request.args.get("firm", "")
    if not raw:  # nothing chosen: back to the portfolio
        return redirect(url_for("consultants.home"))
    firm_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if firm_id is None or access.firm_role(firm_id) is None:
        abort(404)
    return redirect(url_for("core.firm_home", firm_id=firm_id))


@access.org_kind("consultancy", roles=("owner",))
def invite() -> ResponseReturnValue:
    c = _consultancy()
    form = InviteForm(kind="consultancy")
    if form.validate_on_submit():
        inv = org_services.invite(
            email=form.email.data, role=form.role.data, by=current_user, consultancy_id=c.id
        )
        audit.record("member.invited", org=("consultancy", c.id), target=inv)
        send_invitation(inv, c.name)
        flash(_("We sent an invitation to %(email)s.", email=inv.email), "ok")
        return redirect(url_for("consultants.home"))
    return _page(form, 422)


@access.org_kind("consultancy", roles=("owner",))
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    c = _consultancy()
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.consultancy_id != c.id:
        abort(404)
    withdraw(inv)
    return redirect(url_for("consultants.home"))


# Codes a firm owner types: no 0/O or 1/I to mistake for each other.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    import secrets

    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))
        if org_services.consultancy_by_code(code) is None:
            return code


@access.authed
def new_consultancy() -> ResponseReturnValue:
    """A new user signs up as a consultancy: they become its owner and get its code for clients."""
    form = ConsultancyForm()
    if form.validate_on_submit():
        c = Consultancy(name=form.name.data.strip(), code=new_code())
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=current_user.id, consultancy_id=c.id, role="owner"))
        db.session.flush()
        session["org"] = f"consultancy:{c.id}"
        flash(_("%(name)s is created. You are its owner.", name=c.name), "ok")
        return redirect(url_for("consultants.home"))
    return render_template("consultants/new.html", form=form), 422 if form.errors else 200
