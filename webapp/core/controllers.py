from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp import access, db
from webapp.i18n import LANG_COOKIE
from webapp.models import Firm
from webapp.orgs import services as org_services
from webapp.plan.present import plan_panel
from webapp.questionnaire.present import readiness_label, target_scopes
from webapp.results import home as firm_home_data
from webapp.util import safe_next


@access.public
def index() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    return render_template("core/index.html")


@access.authed
def home() -> ResponseReturnValue:
    """Each role lands on its own home page."""
    org = access.active_org()
    if org is not None and org.kind == "firm":
        return redirect(url_for("core.firm_home", firm_id=org.id))
    if org is not None and org.kind == "consultancy":
        return redirect(url_for("consultants.home"))
    if org is not None and org.kind == "regulator":
        return redirect(url_for("regulators.home"))
    if current_user.is_platform_admin:
        return redirect(url_for("admin.home"))
    return render_template("core/welcome.html")


@access.firm("viewer")
def firm_home(firm_id: int) -> ResponseReturnValue:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    return render_template(
        "core/firm_home.html",
        firm=firm,
        members=org_services.firm_members(firm.id),
        grants=org_services.active_grants(firm.id),
        size_rule=org_services.size_rule(firm),
        my_role=access.firm_role(firm.id),
        qn=firm_home_data.firm_overview(firm),
        can_start=access.FIRM_ROLE_RANK[access.firm_role(firm.id) or "viewer"]
        >= access.FIRM_ROLE_RANK["editor"],
        readiness_label=readiness_label,
        scopes=target_scopes(),
        plan=plan_panel(firm.id, can_edit=access.FIRM_ROLE_RANK[access.firm_role(firm.id) or "viewer"] >= 2),
    )


@access.public
def set_language(lang: str) -> ResponseReturnValue:
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    if current_user.is_authenticated:
        current_user.locale = lang
    response = redirect(safe_next(request.form.get("next")) or url_for("core.index"))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@access.public
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever the page links to: send them to the logo's SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@access.public
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}
