"""Report pages: the report in the app, its PDF, and the consultant's bulk reports."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from assessments.loader import FrameworkNotFound, load_framework
from webapp import access, audit, db, security
from webapp.billing import entitlements
from webapp.i18n import current_lang
from webapp.models import Assessment, Consultancy
from webapp.orgs import services as org_services
from webapp.reports import jobs, services
from webapp.reports.render import RenderError, RenderTimeout
from webapp.util import send_download

log = logging.getLogger(__name__)


def _lang(value: str | None = None) -> str:
    lang = value if value is not None else request.args.get("lang")
    return lang if lang in services.LANGS else current_lang()


def _preparer() -> services.Preparer:
    org = access.active_org()
    return services.preparer_for(current_user, org.kind if org else None, org.id if org else None)


def _inputs(a: Assessment) -> services.ReportInputs:
    inputs = services.load_inputs(a.id, firm_id=a.firm_id, preparer=_preparer())
    if inputs is None:
        abort(404)
    return inputs


def _render_failed(exc: RenderError) -> ResponseReturnValue:
    log.warning("report rendering failed: %s", exc)
    if isinstance(exc, RenderTimeout):
        message = _("The report took too long to render and was stopped. Please try again in a minute.")
    else:
        message = _("The report could not be rendered. Please try again; if it fails again, tell us.")
    return render_template("reports/error.html", message=message), 503


@access.assessment("viewer")
@security.allow_inline_styles
def view(a: Assessment) -> ResponseReturnValue:
    """The report as a page of the app, in the reader's choice of language (`?lang=zh|en`)."""
    lang = _lang()
    inputs = _inputs(a)
    report = services.get_report(inputs, lang, "fragment")
    return render_template(
        "reports/view.html",
        fragment=Markup(report.content.decode()),  # noqa: S704 - our own autoescaped template output
        firm_id=a.firm_id,
        assessment_id=a.id,
        lang=lang,
        firm_name=inputs.firm.name,
        pdf=entitlements.allowed_firm(a.firm_id, "pdf_report"),
    )


@access.assessment("viewer")
def pdf(a: Assessment) -> ResponseReturnValue:
    """The report as a PDF download (`?lang=zh|en`), served from the cache when nothing changed."""
    lang = _lang()
    inputs = _inputs(a)
    entitlements.require_firm(a.firm_id, "pdf_report")  # without it: the report as a page (view)
    try:
        report = services.get_report(inputs, lang, "pdf")
    except RenderError as exc:
        return _render_failed(exc)
    _record_report(inputs, a.firm_id, lang, "pdf")
    response = send_download(
        report.content,
        report.filename,
        "application/pdf",
        etag=report.key,
        conditional=True,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _record_report(inputs: services.ReportInputs, firm_id: int, lang: str, fmt: str) -> None:
    r = inputs.current
    audit.record(
        "export.report",
        firm_id=firm_id,
        target=("assessment", r.id, f"{r.framework_id} {r.framework_version} #{r.round}"),
        detail={
            **audit.about_assessment(r.framework_id, r.framework_version, r.round),
            "format": fmt,
            "lang": lang,
        },
    )


# ---- bulk reports for consultants ------------------------------------------------------------------


def _consultancy() -> Consultancy:
    org = access.active_org()
    c = db.session.get(Consultancy, org.id) if org is not None else None
    if c is None:
        abort(404)
    return c


def _framework_title(framework_id: str, version: str, lang: str) -> str:
    try:
        return load_framework(framework_id, version).title.get(lang)
    except FrameworkNotFound:
        return framework_id


def _clients(consultancy_id: int) -> tuple[list[dict[str, Any]], set[int]]:
    """Client firms with their latest assessment of each framework; and every assessment id of theirs."""
    firms = org_services.client_firms(consultancy_id)
    rows = db.session.execute(
        select(
            Assessment.id,
            Assessment.firm_id,
            Assessment.framework_id,
            Assessment.framework_version,
            Assessment.round,
            Assessment.status,
            Assessment.as_of,
            Assessment.created_at,
        )
        .where(Assessment.firm_id.in_([f.id for f in firms]))
        .order_by(Assessment.firm_id, Assessment.framework_id, Assessment.round.desc(), Assessment.id.desc())
    ).all()
    lang = current_lang()
    latest: dict[int, list[dict[str, Any]]] = {}
    seen: set[tuple[int, str]] = set()
    for r in rows:
        if (r.firm_id, r.framework_id) in seen:
            continue
        seen.add((r.firm_id, r.framework_id))
        latest.setdefault(r.firm_id, []).append(
            {
                "id": r.id,
                "framework": _framework_title(r.framework_id, r.framework_version, lang),
                "round": r.round,
                "status": r.status,
                "as_of": r.as_of or r.created_at.date(),
            }
        )
    clients = [{"id": f.id, "name": f.name, "assessments": latest.get(f.id, [])} for f in firms]
    return clients, {r.id for r in rows}


def _bulk_page(c: Consultancy, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    clients, _ids = _clients(c.id)
    return (
        render_template(
            "reports/bulk.html",
            consultancy=c,
            clients=clients,
            error=error,
            lang=current_lang(),
        ),
        status,
    )


@access.org_kind("consultancy")
def bulk() -> ResponseReturnValue:
    """Pick client firms' latest assessments and build all their reports into one zip."""
    c = _consultancy()
    entitlements.require(entitlements.Org("consultancy", c.id), "bulk_reports")
    if request.method == "GET":
        return _bulk_page(c)
    _clients_list, allowed = _clients(c.id)
    chosen = []
    for raw in request.form.getlist("assessment"):
        if raw.isdigit() and int(raw) in allowed and int(raw) not in chosen:
            chosen.append(int(raw))
    if not chosen:
        return _bulk_page(c, _("Choose at least one assessment."), 422)
    if len(chosen) > jobs.MAX_REPORTS:
        return _bulk_page(c, _("Choose at most %(num)d assessments at a time.", num=jobs.MAX_REPORTS), 422)
    kind = "html" if request.form.get("format") == "html" else "pdf"
    lang = _lang(request.form.get("lang", ""))
    _record_bulk(c, chosen, kind, lang)
    req = jobs.BulkRequest(
        user_id=current_user.id,
        consultancy_id=c.id,
        assessment_ids=tuple(chosen),
        lang=lang,
        kind=kind,
    )
    # never inside the request (74 PDFs outlast gunicorn's timeout): RQ with Redis, else the database
    return redirect(url_for("reports.bulk_job", job_id=jobs.submit(req)))


def _record_bulk(c: Consultancy, chosen: list[int], kind: str, lang: str) -> None:
    """One event for each firm whose reports go into the zip: its owners see the export."""
    by_firm: dict[int, list[int]] = {}
    for assessment_id, firm_id in db.session.execute(
        select(Assessment.id, Assessment.firm_id).where(Assessment.id.in_(chosen))
    ):
        by_firm.setdefault(firm_id, []).append(assessment_id)
    for firm_id, ids in by_firm.items():
        audit.record(
            "export.bulk_reports",
            firm_id=firm_id,
            org=("consultancy", c.id),
            detail={"count": len(ids), "assessments": sorted(ids), "format": kind, "lang": lang},
        )


def _job_status(job_id: str) -> dict[str, Any]:
    c = _consultancy()
    state = jobs.status(job_id, user_id=current_user.id, consultancy_id=c.id)
    if state is None:
        abort(404)
    return state


@access.org_kind("consultancy")
def bulk_job(job_id: str) -> ResponseReturnValue:
    """The progress of a bulk job; the page polls `bulk_status` and offers the zip when it is ready."""
    state = _job_status(job_id)
    return render_template("reports/bulk_job.html", job_id=job_id, state=state)


@access.org_kind("consultancy")
def bulk_status(job_id: str) -> ResponseReturnValue:
    state = _job_status(job_id)
    state["download"] = url_for("reports.bulk_download", job_id=job_id) if state["ready"] else None
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@access.org_kind("consultancy")
def bulk_download(job_id: str) -> ResponseReturnValue:
    state = _job_status(job_id)
    data = jobs.zip_of(job_id) if state["ready"] else None
    if data is None:
        abort(404)
    return send_download(data, f"qready-reports-{job_id[:8]}.zip", "application/zip", max_age=0)
