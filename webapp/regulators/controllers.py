from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from webapp import access, db
from webapp.i18n import current_lang
from webapp.models import Regulator
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
