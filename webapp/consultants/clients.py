"""A consultancy's clients by email: it invites a firm's owner (who accepts for one of their firms,
choosing read or edit access), or creates a client firm itself and later hands it over to its future
owner. Both reuse the member invitations (`webapp.orgs.services`): used once, withdrawable, expiring,
a masked address for anyone else.

A firm created by a consultancy has no member until the hand-over: the consultancy's edit grant is its
only way in, so tenancy stays as everywhere (members' roles, grants' roles) with no temporary owner
to remove later. The hand-over is an owner invitation to the firm; the grant stays, and the new owner
revokes it like any other, effective at once."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access, audit, db, mail
from webapp.auth.util import make_token
from webapp.billing import entitlements
from webapp.models import CLIENT_ROLE, Consultancy, Firm, Invitation
from webapp.orgs import controllers as orgs
from webapp.orgs import services
from webapp.orgs.forms import ROLE_LABELS, ClientInviteForm, FirmForm, HandoverForm


def _consultancy() -> Consultancy:
    org = access.active_org()
    assert org is not None
    c = db.session.get(Consultancy, org.id)
    if c is None:
        abort(404)
    return c


def _link(inv: Invitation) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(
        "orgs.invitation", token=make_token("invite", inv.id)
    )


def _invite_page(form: ClientInviteForm, status: int = 200) -> ResponseReturnValue:
    c = _consultancy()
    return render_template(
        "consultants/invite_client.html",
        consultancy=c,
        form=form,
        invitations=orgs.pending_invitations(consultancy_id=c.id, clients=True),
        role_labels=ROLE_LABELS,
    ), status


@access.org_kind("consultancy")
def invite_client() -> ResponseReturnValue:
    """Invite a firm's owner by email to become a client (any member of the consultancy)."""
    c = _consultancy()
    form = ClientInviteForm()
    if not form.validate_on_submit():
        return _invite_page(form, 422 if form.errors else 200)
    inv = services.invite(
        email=form.email.data,
        role=CLIENT_ROLE,
        by=current_user,
        consultancy_id=c.id,
        firm_name=form.firm_name.data,
    )
    audit.record("member.invited", org=("consultancy", c.id), target=inv)
    mail.send(
        inv.email,
        _("%(org)s invites your firm to work with it on QReady", org=c.name),
        "client_invite",
        org=c.name,
        inviter=current_user,
        firm_name=inv.firm_name,
        link=_link(inv),
        days=orgs.invitation_max_age().days,
    )
    flash(_("We sent an invitation to %(email)s.", email=inv.email), "ok")
    return redirect(url_for("consultants.invite_client"))


@access.org_kind("consultancy")
def revoke_client_invitation(invitation_id: int) -> ResponseReturnValue:
    c = _consultancy()
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.consultancy_id != c.id or inv.role != CLIENT_ROLE:
        abort(404)
    orgs.withdraw(inv)
    return redirect(url_for("consultants.invite_client"))


@access.org_kind("consultancy")
def new_client() -> ResponseReturnValue:
    """Create a firm for a client: the consultancy holds an edit grant, the firm no member yet."""
    c = _consultancy()
    entitlements.require_new_client(c.id)
    form = FirmForm()
    if form.validate_on_submit() and not orgs._code_in_use(form):
        data = orgs._data(form)
        # whether the firm counts in the regulators' statistics is for its owner to agree, after the hand-over
        data = services.FirmData(**{**data.__dict__, "share_statistics": False})
        firm = services.create_client_firm(c, data, current_user)
        audit.record("client.created", firm_id=firm.id, org=("consultancy", c.id), target=firm)
        flash(
            _(
                "%(name)s is created as your client. Hand it over to its owner when they are ready.",
                name=firm.name,
            ),
            "ok",
        )
        return redirect(url_for("core.firm_home", firm_id=firm.id))
    return render_template("consultants/new_client.html", form=form), 422 if form.errors else 200


def _handover_page(firm: Firm, form: HandoverForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "consultants/handover.html",
        firm=firm,
        form=form,
        owners=services.owner_count(firm.id),
        invitations=[i for i in orgs.pending_invitations(firm_id=firm.id) if i.role == "owner"],
        role_labels=ROLE_LABELS,
    ), status


def _client_firm(firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    return firm


@access.client
def handover(firm_id: int) -> ResponseReturnValue:
    """Hand a client firm the consultancy created over to its future owner: an owner invitation to
    the firm. Only while the firm has no owner; the consultancy's grant stays."""
    firm = _client_firm(firm_id)
    form = HandoverForm()
    if not form.validate_on_submit():
        return _handover_page(firm, form, 422 if form.errors else 200)
    if services.owner_count(firm.id):
        form.email.errors.append(_("This firm has an owner already: they manage its members."))
        return _handover_page(firm, form, 422)
    inv = services.invite(email=form.email.data, role="owner", by=current_user, firm_id=firm.id)
    audit.record("member.invited", firm_id=firm.id, target=inv)
    orgs.send_invitation(inv, firm.name)
    flash(_("We sent an invitation to %(email)s.", email=inv.email), "ok")
    return redirect(url_for("desk.handover", firm_id=firm.id))


@access.client
def revoke_handover(firm_id: int, invitation_id: int) -> ResponseReturnValue:
    firm = _client_firm(firm_id)
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.firm_id != firm.id or inv.role != "owner":
        abort(404)
    orgs.withdraw(inv)
    return redirect(url_for("desk.handover", firm_id=firm.id))
