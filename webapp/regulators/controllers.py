from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from webapp import access, db
from webapp.models import Regulator
from webapp.stats import service as stats


@access.org_kind("regulator")
def home() -> ResponseReturnValue:
    """Aggregate statistics for the agency's jurisdiction: never one firm's data."""
    org = access.active_org()
    assert org is not None
    agency = db.session.get(Regulator, org.id)
    if agency is None:
        abort(404)
    return render_template(
        "regulators/home.html",
        agency=agency,
        stats=stats.firm_stats(agency.jurisdiction_code),
        min_group=stats.MIN_GROUP,
    )
