from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp import access, audit, db, tenancy
from webapp.auth.util import end_sessions
from webapp.models import Consultancy, Firm, Regulator, User
from webapp.orgs import services as org_services
from webapp.orgs.controllers import send_invitation
from webapp.orgs.forms import AgencyForm


@access.admin
def home() -> ResponseReturnValue:
    """Platform overview: counts and the organisations (names only, never assessment data)."""
    return _home(AgencyForm())


@access.admin
def create_agency() -> ResponseReturnValue:
    """A regulator agency and an invitation for its first member, who becomes its owner."""
    form = AgencyForm()
    if form.validate_on_submit():
        agency, inv = org_services.create_agency(
            name=form.name.data,
            jurisdiction_code=form.jurisdiction_code.data,
            first_member=form.email.data,
            by=current_user,
        )
        send_invitation(inv, agency.name)
        flash(
            _("%(name)s is created; we sent an invitation to %(email)s.", name=agency.name, email=inv.email),
            "ok",
        )
        return redirect(url_for("admin.home"))
    return _home(form, 422)


def _home(form: AgencyForm, status: int = 200) -> ResponseReturnValue:
    with tenancy.bypass():
        counts = {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "firms": db.session.scalar(
                select(func.count()).select_from(Firm).where(Firm.synthetic.is_(False))
            ),
            "synthetic": db.session.scalar(
                select(func.count()).select_from(Firm).where(Firm.synthetic.is_(True))
            ),
            "consultancies": db.session.scalar(select(func.count()).select_from(Consultancy)),
            "regulators": db.session.scalar(select(func.count()).select_from(Regulator)),
        }
        firms = list(db.session.scalars(select(Firm).where(Firm.synthetic.is_(False)).order_by(Firm.name)))
    consultancies = list(db.session.scalars(select(Consultancy).order_by(Consultancy.name)))
    regulators = list(db.session.scalars(select(Regulator).order_by(Regulator.name)))
    users = list(db.session.scalars(select(User).order_by(User.created_at.desc()).limit(50)))
    return (
        render_template(
            "admin/home.html",
            counts=counts,
            firms=firms,
            consultancies=consultancies,
            regulators=regulators,
            users=users,
            agency_form=form,
        ),
        status,
    )


@access.admin
def signout_user(user_id: int) -> ResponseReturnValue:
    """Sign a user out on every device (a lost laptop, a departed employee): each of their session and
    remember-me cookies stops working at once; API tokens are revoked by their owner separately."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    end_sessions(user.id)
    audit.record("auth.signed_out_by_admin", target=user)
    flash(_("%(name)s is signed out on every device.", name=user.name), "ok")
    return redirect(url_for("admin.home"))
