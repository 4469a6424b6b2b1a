from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import access, audit, db, mail, ratelimit
from webapp.auth.util import make_token, read_token
from webapp.billing import entitlements
from webapp.db import utcnow
from webapp.models import CLIENT_ROLE, FIRM_ROLES, Consultancy, ConsultancyGrant, Firm, Invitation, Membership
from webapp.models.users import User
from webapp.orgs import services
from webapp.orgs.forms import ACCESS_LABELS, ROLE_LABELS, ClientAcceptForm, FirmForm, GrantForm, InviteForm
from webapp.util import safe_next


def _firm_or_404(firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)  # tenant-scoped: another firm's id finds nothing
    if firm is None:
        abort(404)
    return firm


def _data(form: FirmForm) -> services.FirmData:
    return services.FirmData(
        name=form.name.data.strip(),
        credit_code=form.credit_code.data,
        region_code=form.region_code.data,
        industry_division=form.industry_division.data,
        employees=form.employees.data,
        revenue_10k=form.revenue_10k.data,
        total_assets_10k=form.total_assets_10k.data,
        above_scale=bool(form.above_scale.data),
        founded_on=form.founded_on.data,
        share_statistics=bool(form.share_statistics.data),
    )


def _code_in_use(form: FirmForm, except_firm: int | None = None) -> bool:
    """When another firm holds the credit code: a form error that does not say so (any signed-in user
    could otherwise learn which firms use QReady), and a message to that firm's owners, who can invite
    the person if they belong to the firm."""
    if not services.credit_code_taken(form.credit_code.data, except_firm=except_firm):
        return False
    form.credit_code.errors.append(
        _(
            "The firm could not be registered as entered. Check the credit code. If your firm may "
            "already use QReady, ask a colleague there to invite you."
        )
    )
    me = access.signed_in()
    for firm, owner in services.owners_holding_credit_code(form.credit_code.data, except_firm=except_firm):
        link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("orgs.members", firm_id=firm.id)
        with force_locale(owner.locale):
            mail.send(
                owner.email,
                _("Someone tried to register %(firm)s on QReady", firm=firm.name),
                "firm_code_in_use",
                owner=owner,
                firm=firm,
                person=me,
                entered_name=(form.name.data or "").strip(),
                link=link,
            )
    return True


def _user_key() -> str:
    user = access.signed_in()
    return f"user:{user.id}" if user.is_authenticated else "address:" + ratelimit.remote_address()


def _refused(response: Response) -> bool:
    return response.status_code == 422


# An account may try a credit code held by another firm this often (each try mails that firm's owners).
FIRM_FORM_LIMIT = "20 per hour"


@access.authed
@ratelimit.limiter.limit(
    FIRM_FORM_LIMIT, key_func=_user_key, methods=["POST"], deduct_when=_refused, scope="firm-form"
)
def new_firm() -> ResponseReturnValue:
    # the Free plan includes one firm per account: a second one says which plan unlocks it (402)
    entitlements.require_new_firm(current_user.id)
    form = FirmForm()
    if form.validate_on_submit() and not _code_in_use(form):
        firm = services.create_firm(current_user, _data(form))
        session["org"] = f"firm:{firm.id}"
        flash(_("%(name)s is created. You are its owner.", name=firm.name), "ok")
        back = safe_next(request.args.get("next"))
        if back and back.startswith("/invitations/"):  # creating a firm to accept a consultancy's invitation
            return redirect(back)
        return redirect(url_for("core.firm_home", firm_id=firm.id))
    return render_template("orgs/firm_form.html", form=form, firm=None), 422 if form.errors else 200


@access.firm("viewer")
def profile(firm_id: int) -> ResponseReturnValue:
    firm = _firm_or_404(firm_id)
    return render_template(
        "orgs/profile.html", firm=firm, size_rule=services.size_rule(firm), my_role=access.firm_role(firm.id)
    )


@access.firm("owner")
@ratelimit.limiter.limit(
    FIRM_FORM_LIMIT, key_func=_user_key, methods=["POST"], deduct_when=_refused, scope="firm-form"
)
def edit_profile(firm_id: int) -> ResponseReturnValue:
    firm = _firm_or_404(firm_id)
    form = FirmForm(obj=firm)
    if form.validate_on_submit() and not _code_in_use(form, except_firm=firm.id):
        services.update_firm(firm, _data(form))
        flash(_("The firm profile is saved."), "ok")
        return redirect(url_for("orgs.profile", firm_id=firm.id))
    return render_template("orgs/firm_form.html", form=form, firm=firm), 422 if form.errors else 200


@access.firm("viewer")
def members(firm_id: int) -> ResponseReturnValue:
    firm = _firm_or_404(firm_id)
    return render_template(
        "orgs/members.html",
        firm=firm,
        members=services.firm_members(firm.id),
        invitations=pending_invitations(firm_id=firm.id),
        form=InviteForm(kind="firm"),
        role_labels=ROLE_LABELS,
        my_role=access.firm_role(firm.id),
    )


def invitation_max_age() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def pending_invitations(
    *,
    firm_id: int | None = None,
    consultancy_id: int | None = None,
    regulator_id: int | None = None,
    clients: bool = False,
) -> list[Invitation]:
    return services.pending_invitations(
        max_age=invitation_max_age(),
        now=utcnow(),
        firm_id=firm_id,
        consultancy_id=consultancy_id,
        regulator_id=regulator_id,
        clients=clients,
    )


def send_invitation(inv: Invitation, org_name: str) -> None:
    token = make_token("invite", inv.id)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("orgs.invitation", token=token)
    mail.send(
        inv.email,
        _("You are invited to %(org)s on QReady", org=org_name),
        "invite",
        org=org_name,
        inviter=current_user,
        role=ROLE_LABELS[inv.role],
        link=link,
    )


@access.firm("owner")
def invite(firm_id: int) -> ResponseReturnValue:
    firm = _firm_or_404(firm_id)
    form = InviteForm(kind="firm")
    if form.validate_on_submit():
        inv = services.invite(email=form.email.data, role=form.role.data, by=current_user, firm_id=firm.id)
        audit.record("member.invited", firm_id=firm.id, target=inv)
        send_invitation(inv, firm.name)
        flash(_("We sent an invitation to %(email)s.", email=inv.email), "ok")
        return redirect(url_for("orgs.members", firm_id=firm.id))
    return (
        render_template(
            "orgs/members.html",
            firm=firm,
            members=services.firm_members(firm.id),
            invitations=pending_invitations(firm_id=firm.id),
            form=form,
            role_labels=ROLE_LABELS,
            my_role=access.firm_role(firm.id),
        ),
        422,
    )


@access.firm("owner")
def remove_member(firm_id: int, membership_id: int) -> ResponseReturnValue:
    m = db.session.get(Membership, membership_id)
    if m is None or m.firm_id != firm_id:
        abort(404)
    if m.role == "owner" and services.owner_count(firm_id) <= 1:
        flash(_("A firm needs at least one owner. Make someone else owner first."), "error")
        return redirect(url_for("orgs.members", firm_id=firm_id))
    audit.record("member.removed", firm_id=firm_id, target=m.user, detail={"role": m.role})
    db.session.delete(m)
    flash(_("%(name)s no longer has access.", name=m.user.name), "ok")
    return redirect(url_for("orgs.members", firm_id=firm_id))


@access.firm("owner")
def change_role(firm_id: int, membership_id: int) -> ResponseReturnValue:
    """An owner gives a member another role; the last owner stays an owner."""
    m = db.session.get(Membership, membership_id)
    if m is None or m.firm_id != firm_id:
        abort(404)
    role = request.form.get("role", "")
    if role not in FIRM_ROLES:
        abort(400)
    if role == m.role:
        return redirect(url_for("orgs.members", firm_id=firm_id))
    if m.role == "owner" and services.owner_count(firm_id) <= 1:
        flash(_("A firm needs at least one owner. Make someone else owner first."), "error")
        return redirect(url_for("orgs.members", firm_id=firm_id))
    audit.record("member.role_changed", firm_id=firm_id, target=m.user, detail={"old": m.role, "new": role})
    m.role = role
    flash(_("%(name)s is now %(role)s.", name=m.user.name, role=ROLE_LABELS[role]), "ok")
    return redirect(url_for("orgs.members", firm_id=firm_id))


@access.firm("owner")
def revoke_invitation(firm_id: int, invitation_id: int) -> ResponseReturnValue:
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.firm_id != firm_id:
        abort(404)
    withdraw(inv)
    return redirect(url_for("orgs.members", firm_id=firm_id))


def withdraw(inv: Invitation) -> None:
    """An owner withdraws a waiting invitation (of a firm or a consultancy: the caller checked)."""
    if services.revoke_invitation(inv, current_user):
        audit.record("member.invitation_revoked", firm_id=inv.firm_id, org=_org_of(inv), target=inv)
        flash(_("The invitation to %(email)s is withdrawn; its link no longer works.", email=inv.email), "ok")
    else:
        flash(_("The invitation to %(email)s was already used or withdrawn.", email=inv.email), "error")


def _org_of(inv: Invitation) -> tuple[str, int] | None:
    """The invitation's organisation when it is not a firm (a firm is the event's `firm_id`)."""
    return ("consultancy", inv.consultancy_id) if inv.consultancy_id is not None else None


def _closed(state: str) -> ResponseReturnValue:
    """The page for a link that no longer works, saying why and what to do instead."""
    status = 400
    if state == "accepted":
        status = 410
        headline = _("This invitation has already been used.")
        detail = _(
            "An invitation link works once. If you accepted it, sign in to continue; if you no longer "
            "have access, ask the organisation's owner to invite you again."
        )
    elif state == "revoked":
        status = 410
        headline = _("This invitation was withdrawn.")
        detail = _(
            "The organisation withdrew it. If you should have access, ask its owner to invite you again."
        )
    elif state == "superseded":
        status = 410
        headline = _("This invitation was withdrawn.")
        detail = _(
            "A newer invitation was sent to the same address. Open the link in the most recent invitation email."
        )
    elif state == "expired":
        headline = _("This invitation has expired.")
        detail = _(
            "An invitation works for %(days)d days. Ask the organisation's owner to invite you again.",
            days=invitation_max_age().days,
        )
    else:
        headline = _("This invitation is not valid.")
        detail = _("Check that you opened the whole link from the email.")
    return render_template("orgs/invitation_closed.html", headline=headline, detail=detail), status


@access.public
def invitation(token: str) -> ResponseReturnValue:
    """An invitation link. What the link's invitation became (used, withdrawn, expired) is said to
    anyone holding the link, signed in or not; only one that still waits asks to sign in, and only
    the invited address may accept it — anyone else sees that address masked."""
    max_age = invitation_max_age()
    inv_id, problem = read_token("invite", token, current_app.config["INVITATION_MAX_AGE"])
    inv = db.session.get(Invitation, inv_id) if isinstance(inv_id, int) else None
    if inv is None:
        return _closed("expired" if problem == "expired" else "invalid")
    state = services.invitation_state(inv, max_age=max_age, now=utcnow())
    if state != "pending":
        return _closed(state)
    user = access.signed_in()
    if not user.is_authenticated:
        from webapp.extensions import login_manager

        return login_manager.unauthorized()  # type: ignore[no-any-return]
    if inv.email != user.email.strip().lower():
        msg = _(
            "This invitation was sent to %(email)s. Sign in with that address to accept it.",
            email=services.mask_email(inv.email),
        )
        return render_template("auth/message.html", title=_("Invitation"), message=msg), 403
    if inv.role == CLIENT_ROLE:
        return _accept_client(inv, user)
    if inv.firm_id and inv.role == "owner" and not services.owner_count(inv.firm_id):
        # a consultancy's hand-over of a firm it created: taking it is owning one more firm, which the
        # Free plan counts as creating one does (402 with the plan that unlocks it; billing off: no limit)
        entitlements.require_new_firm(user.id)
    if request.method == "POST":
        m = services.accept_invitation(inv, user, max_age=max_age, now=utcnow())
        if m is None:  # used or withdrawn between the check and now
            return _closed(services.invitation_state(inv, max_age=max_age, now=utcnow()))
        audit.record(
            "member.invitation_accepted",
            firm_id=inv.firm_id,
            org=_org_of(inv),
            target=inv,
            detail={"role": m.role},
        )
        session["org"] = f"{m.kind}:{m.org_id}"
        flash(_("You joined the organisation."), "ok")
        return redirect(url_for("core.home"))
    from webapp.core.services import org_name

    kind = "firm" if inv.firm_id else "regulator" if inv.regulator_id else "consultancy"
    return render_template(
        "orgs/invitation.html",
        inv=inv,
        org=org_name(kind, inv.firm_id or inv.consultancy_id or inv.regulator_id or 0, bypass=True),
        role=ROLE_LABELS[inv.role],
    )


def _accept_client(inv: Invitation, user: User) -> ResponseReturnValue:
    """A consultancy's invitation to become its client: the owner picks one of the firms they own (or
    creates one first) and the access, and accepts; the grant exists at once."""
    consultancy = db.session.get(Consultancy, inv.consultancy_id)
    if consultancy is None:
        return _closed("invalid")
    owned = db.session.execute(
        select(Firm.id, Firm.name)
        .join(Membership, Membership.firm_id == Firm.id)
        .where(Membership.user_id == user.id, Membership.role == "owner")
        .order_by(Firm.name)
    ).all()
    firms = [(fid, name) for fid, name in owned]
    form = ClientAcceptForm(firms=firms)
    if not firms:
        form = None
    status = 200
    if form is not None and form.validate_on_submit():
        firm_id = int(form.firm.data)
        if access.firm_role(firm_id) != "owner":  # the choices hold only their firms: a forged id
            abort(404)
        max_age = invitation_max_age()
        g = services.accept_client_invitation(
            inv, user, firm_id, form.access.data, max_age=max_age, now=utcnow()
        )
        if g is None:
            return _closed(services.invitation_state(inv, max_age=max_age, now=utcnow()))
        audit.record(
            "consultancy.granted",
            firm_id=firm_id,
            org=("consultancy", consultancy.id),
            target=consultancy,
            detail={"access": g.access, "invitation": inv.id},
        )
        session["org"] = f"firm:{firm_id}"
        flash(
            _(
                "%(name)s can now work on your assessments (%(access)s).",
                name=consultancy.name,
                access=ACCESS_LABELS[g.access],
            ),
            "ok",
        )
        return redirect(url_for("orgs.consultants", firm_id=firm_id))
    if form is not None and form.errors:
        status = 422
    return render_template(
        "orgs/client_invitation.html",
        inv=inv,
        consultancy=consultancy,
        form=form,
        new_firm_url=url_for("orgs.new_firm", next=request.path),
    ), status


@access.firm("owner")
def consultants(firm_id: int) -> ResponseReturnValue:
    firm = _firm_or_404(firm_id)
    form = GrantForm()
    status = 200
    if form.validate_on_submit():
        consultancy = services.consultancy_by_code(form.code.data)
        if consultancy is None:
            form.code.errors.append(_("No consultancy has this code. Ask your consultant for it."))
            status = 422
        else:
            if all(g.consultancy_id != consultancy.id for g in services.active_grants(firm.id)):
                audit.record(
                    "consultancy.granted",
                    firm_id=firm.id,
                    org=("consultancy", consultancy.id),
                    target=consultancy,
                )
            services.grant(firm.id, consultancy, current_user)
            flash(_("%(name)s can now work on your assessments.", name=consultancy.name), "ok")
            return redirect(url_for("orgs.consultants", firm_id=firm.id))
    elif form.errors:
        status = 422
    return render_template(
        "orgs/consultants.html",
        firm=firm,
        grants=services.active_grants(firm.id),
        form=form,
        access_labels=ACCESS_LABELS,
    ), status


@access.firm("owner")
def revoke_grant(firm_id: int, grant_id: int) -> ResponseReturnValue:
    g = db.session.get(ConsultancyGrant, grant_id)
    if g is None or g.firm_id != firm_id or g.revoked_at is not None:
        abort(404)
    services.revoke(g, current_user)
    audit.record("consultancy.revoked", firm_id=firm_id, org=("consultancy", g.consultancy_id), target=g)
    flash(_("%(name)s no longer has access to your firm.", name=g.consultancy.name), "ok")
    return redirect(url_for("orgs.consultants", firm_id=firm_id))


@access.authed
def switch() -> ResponseReturnValue:
    wanted = request.form.get("org", "")
    for m in db.session.scalars(select(Membership).where(Membership.user_id == current_user.id)):
        if f"{m.kind}:{m.org_id}" == wanted:
            session["org"] = wanted
            return redirect(url_for("core.home"))
    abort(404)
