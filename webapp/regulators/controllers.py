from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from webapp import access, db
from webapp.i18n import current_lang
from webapp.models import Invitation, Regulator
from webapp.orgs import services as org_services
from webapp.orgs.controllers import pending_invitations, send_invitation, withdraw
from webapp.orgs.forms import ROLE_LABELS, InviteForm
from webapp.stats import present
from webapp.stats import service as stats
from webapp.util import send_download


def _agency() -> Regulator:
    org = access.active_org()
    assert org is not None
    agency = db.session.get(Regulator, org.id)
    if agency is None:
        abort(404)
    return agency


def _report(agency: Regulator) -> tuple[stats.View, dict[str, object]]:
    view = stats.parse_view(agency.jurisdiction_code, request.args.get("cut"))
    if view is None:
        abort(404)  # a cut this agency is not offered (another region's, or none such)
    return view, present.build(stats.compute(agency.jurisdiction_code, view))


@access.org_kind("regulator")
def home() -> ResponseReturnValue:
    """Aggregate statistics for the agency's jurisdiction: never one firm's data."""
    agency = _agency()
    view, data = _report(agency)
    return render_template(
        "regulators/home.html",
        agency=agency,
        data=data,
        cut=stats.view_param(view),
        filters=present.filter_groups(agency.jurisdiction_code, current_lang()),
    )


def _filename(agency: Regulator, view: stats.View, ext: str) -> str:
    cut = stats.view_param(view).replace(":", "-")
    return f"qready-stats-{agency.jurisdiction_code}{'-' + cut if cut else ''}.{ext}"


@access.org_kind("regulator")
def export_csv() -> ResponseReturnValue:
    agency = _agency()
    view, data = _report(agency)
    return send_download(present.to_csv(data), _filename(agency, view, "csv"), "text/csv; charset=utf-8")


@access.org_kind("regulator")
def export_xlsx() -> ResponseReturnValue:
    agency = _agency()
    view, data = _report(agency)
    return send_download(
        present.to_xlsx(data),
        _filename(agency, view, "xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---- the agency's team --------------------------------------------------------------------------


def _team(form: InviteForm, status: int = 200) -> ResponseReturnValue:
    agency = _agency()
    return (
        render_template(
            "regulators/team.html",
            agency=agency,
            members=org_services.agency_members(agency.id),
            invitations=pending_invitations(regulator_id=agency.id),
            form=form,
            role_labels=ROLE_LABELS,
            my_role=access.active_org().role,  # type: ignore[union-attr]
        ),
        status,
    )


@access.org_kind("regulator")
def team() -> ResponseReturnValue:
    """The agency's members; its owners invite colleagues."""
    return _team(InviteForm(kind="regulator"))


@access.org_kind("regulator", roles=("owner",))
def invite() -> ResponseReturnValue:
    agency = _agency()
    form = InviteForm(kind="regulator")
    if form.validate_on_submit():
        inv = org_services.invite(
            email=form.email.data, role=form.role.data, by=current_user, regulator_id=agency.id
        )
        send_invitation(inv, agency.name)
        flash(_("We sent an invitation to %(email)s.", email=inv.email), "ok")
        return redirect(url_for("regulators.team"))
    return _team(form, 422)


@access.org_kind("regulator", roles=("owner",))
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    agency = _agency()
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.regulator_id != agency.id:
        abort(404)
    withdraw(inv)
    return redirect(url_for("regulators.team"))
