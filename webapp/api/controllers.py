"""The public API, /api/v1. JSON in, JSON out; lists are arrays of objects."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import scoring
from assessments.export import to_dict
from assessments.loader import FrameworkNotFound, list_frameworks, load_framework
from webapp import access as ui_access
from webapp import audit, db, inputs
from webapp.api import access
from webapp.api.errors import ApiError
from webapp.api.openapi import document
from webapp.billing import entitlements
from webapp.models import Action, Assessment, Firm
from webapp.plan import services as plan_services
from webapp.questionnaire import answers, rounds, save
from webapp.questionnaire import submit as submitting
from webapp.questionnaire.messages import error_message, submit_message
from webapp.results import verdict as verdicts
from webapp.util import send_download


def _firm_json(f: Firm) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "credit_code": f.credit_code,
        "region": f.region_code,
        "industry": f.industry_division,
        "size_class": f.size_class,
        "above_scale": f.above_scale,
        "founded_on": f.founded_on.isoformat() if f.founded_on else None,
    }


def _assessment_json(a: Assessment) -> dict[str, Any]:
    answers.fresh_summaries([a])  # a draft edited in the browser since it was last scored
    return {
        "id": a.id,
        "firm_id": a.firm_id,
        "framework": a.framework_id,
        "version": a.framework_version,
        "mode": a.mode,
        "status": a.status,
        "round": a.round,
        "previous_id": a.previous_id,
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
        "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
        "summary": a.summary,
    }


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", _("Send a JSON object as the request body."))
    return data


def _assessment(assessment_id: int, minimum: str) -> Assessment:
    a = db.session.get(Assessment, assessment_id)  # tenant-scoped: outside the context finds nothing
    if a is None:
        raise ApiError(404, "not_found", _("Not found."))
    access.require_firm_role(ui_access.firm_role(a.firm_id), minimum)
    return a


@access.public
def openapi() -> Response:
    return jsonify(document())


@access.token
def frameworks() -> Response:
    return jsonify(
        [
            {
                "id": f.id,
                "version": f.version,
                "status": f.status,
                "title": {"zh": f.framework.title.zh, "en": f.framework.title.en},
                "items": f.item_count,
            }
            for f in list_frameworks()
        ]
    )


@access.token
def framework(framework_id: str) -> Response:
    version = request.args.get("version")
    try:
        fw = load_framework(framework_id, version)
    except FrameworkNotFound:
        raise ApiError(404, "not_found", _("Not found."))
    # Reference answers of date items count years before `as_of`: declare them as of the day drafts are
    # scored, or a "zero" date declared as of a past day earns points today.
    return jsonify(to_dict(fw, as_of=answers.today()))


@access.token
def firms() -> Response:
    ids = sorted(ui_access.tenancy_roles())
    rows = db.session.scalars(select(Firm).where(Firm.id.in_(ids)).order_by(Firm.id)) if ids else []
    return jsonify([_firm_json(f) for f in rows])


@access.token_firm("viewer")
def firm_assessments(firm_id: int) -> Response:
    access.require_firm_role(ui_access.firm_role(firm_id), "viewer")
    rows = db.session.scalars(select(Assessment).where(Assessment.firm_id == firm_id).order_by(Assessment.id))
    return jsonify([_assessment_json(a) for a in rows])


@access.token_firm("editor")
def create_assessment(firm_id: int) -> tuple[Response, int]:
    access.require_firm_role(ui_access.firm_role(firm_id), "editor")
    data = _json_body()
    framework_id, mode = data.get("framework"), data.get("mode")
    if not isinstance(framework_id, str) or (mode is not None and not isinstance(mode, str)):
        raise ApiError(422, "invalid", _("“framework” must be a framework id, and “mode” a string if given."))
    entitlements.require_firm(firm_id, "new_round", framework_id=framework_id, mode=mode)  # 402
    try:
        a, created = rounds.start(firm_id, framework_id, mode, current_user)
    except rounds.StartError:
        raise ApiError(422, "invalid", _("There is no such framework or mode."))
    return jsonify(_assessment_json(a)), 201 if created else 200


@access.token_firm("viewer")
def get_assessment(assessment_id: int) -> Response:
    a = _assessment(assessment_id, "viewer")
    out = _assessment_json(a)
    out["answers"] = {
        s.item: {"value": s.value, "na": s.na_reason, "narrative": s.narrative, "version": s.version}
        for s in answers.answer_states(a.firm_id, a.id).values()
        if s.answered or s.narrative
    }
    return jsonify(out)


@access.token_firm("editor")
def patch_answers(assessment_id: int) -> Response:
    a = _assessment(assessment_id, "editor")
    data = _json_body()
    unknown = set(data) - {"answers", "na", "narratives", "versions"}
    parts = [data.get(k) for k in ("answers", "na", "narratives", "versions")]
    if unknown or not all(p is None or isinstance(p, dict) for p in parts):
        raise ApiError(
            422, "invalid", _("The body holds “answers”, “na”, “narratives” and “versions”, each an object.")
        )
    versions = data.get("versions") or {}
    for v in versions.values():
        inputs.version(v)  # whole numbers within the database's integer, or 400
    changes = answers.changes_from(data.get("answers"), data.get("na"), data.get("narratives"))
    result = save.save_answers(a, changes, current_user, versions)
    if any(e.code == "read_only" for e in result.errors):
        raise ApiError(409, "read_only", _("This assessment is submitted and can no longer change."))
    if result.errors:
        raise ApiError(
            422,
            "invalid",
            _("Some values are not valid. Nothing was saved."),
            items=[_item_error(answers.framework(a), e) for e in result.errors],
        )
    if result.conflicts:
        raise ApiError(
            409,
            "conflict",
            _("Someone else changed these answers since you read them. Nothing was saved."),
            items=[
                {
                    "item": c.item,
                    "expected": c.expected,
                    "current": {
                        "value": c.current.value,
                        "na": c.current.na_reason,
                        "version": c.current.version,
                    },
                    "changed_by": c.changed_by,
                }
                for c in result.conflicts
            ],
        )
    return jsonify(
        {"saved": {k: {"version": v.version} for k, v in result.saved.items()}, "summary": a.summary}
    )


def _item_error(fw: Any, e: answers.ItemError) -> dict[str, Any]:
    item = fw.item(e.item) if e.item is not None else None
    return {"item": e.item, "code": e.code, "message": error_message(e, item)}


@access.token_firm("editor")
def submit(assessment_id: int) -> Response:
    a = _assessment(assessment_id, "editor")
    problems = submitting.submit(a, current_user)
    if problems and problems[0].code == "read_only":
        raise ApiError(409, "read_only", _("This assessment is submitted already."))
    if problems:
        raise ApiError(
            422,
            "incomplete",
            _("The assessment cannot be submitted yet."),
            items=[
                {"item": p.item, "section": p.section, "code": p.code, "message": submit_message(p)}
                for p in problems
            ],
        )
    return jsonify(_assessment_json(a))


@access.token_firm("viewer")
def result(assessment_id: int) -> Response:
    a = _assessment(assessment_id, "viewer")
    verdict = verdicts.verdict(a)
    return Response(scoring.dumps(verdict.result), mimetype="application/json")


@access.token_firm("viewer")
def report(assessment_id: int) -> Response:
    """The improvement report: `?format=pdf|html&lang=zh|en` (defaults: pdf, the caller's language)."""
    from webapp.i18n import current_lang
    from webapp.reports import services as reports
    from webapp.reports.render import RenderError

    a = _assessment(assessment_id, "viewer")
    fmt = request.args.get("format", "pdf")
    lang = request.args.get("lang") or current_lang()
    if fmt not in ("pdf", "html") or lang not in reports.LANGS:
        raise ApiError(422, "invalid", _("“format” is pdf or html, and “lang” is zh or en."))
    if fmt == "pdf":
        entitlements.require_firm(a.firm_id, "pdf_report")  # 402: the HTML report stays open
    inputs = reports.load_inputs(a.id, preparer=reports.preparer_for(current_user, None, None))
    if inputs is None:
        raise ApiError(404, "not_found", _("Not found."))
    try:
        built = reports.get_report(inputs, lang, fmt)
    except RenderError:
        raise ApiError(503, "render_failed", _("The report could not be rendered. Please try again."))
    audit.record("export.report", firm_id=a.firm_id, target=a, detail={"format": fmt, "lang": lang})
    mimetype = "application/pdf" if fmt == "pdf" else "text/html"
    return send_download(built.content, built.filename, mimetype, etag=built.key, conditional=True, max_age=0)


def _actions_json(actions: list[Action]) -> list[dict[str, Any]]:
    names = answers.user_names(a.owner_id for a in actions)
    return [
        {
            **a.as_dict(),
            "title": plan_services.title_of(a),
            "owner": names.get(a.owner_id) if a.owner_id else None,
        }
        for a in actions
    ]


def _actions_of(firm_id: int, framework_id: str | None = None) -> list[Action]:
    stmt = select(Action).where(Action.firm_id == firm_id)
    if framework_id is not None:
        stmt = stmt.where(Action.framework_id == framework_id)
    return list(db.session.scalars(stmt.order_by(Action.due_on.is_(None), Action.due_on, Action.id)))


@access.token_firm("viewer")
def firm_actions(firm_id: int) -> Response:
    """The firm's improvement plan: every action."""
    access.require_firm_role(ui_access.firm_role(firm_id), "viewer")
    return jsonify(_actions_json(_actions_of(firm_id)))


@access.token_firm("viewer")
def assessment_actions(assessment_id: int) -> Response:
    """The plan's actions on the assessment's framework (the firm's plan for it, whichever round made them)."""
    a = _assessment(assessment_id, "viewer")
    return jsonify(_actions_json(_actions_of(a.firm_id, a.framework_id)))


@access.token_regulator
def stats() -> Response:
    """The regulator statistics of the caller's agency, as the dashboard shows them."""
    from webapp.models import Membership, Regulator
    from webapp.stats import present
    from webapp.stats import service as stats_service

    q = (
        select(Regulator)
        .join(Membership, Membership.regulator_id == Regulator.id)
        .where(Membership.user_id == current_user.id)
        .order_by(Regulator.id)
    )
    agencies = list(db.session.scalars(q))
    if not agencies:
        raise ApiError(403, "forbidden", _("Only a regulator agency's members can read its statistics."))
    wanted = request.args.get("agency")
    agency = agencies[0]
    if wanted is not None:
        found = [a for a in agencies if str(a.id) == wanted]
        if not found:
            raise ApiError(404, "not_found", _("There is no such agency, or you are not one of its members."))
        agency = found[0]
    view = stats_service.parse_view(agency.jurisdiction_code, request.args.get("cut"))
    if view is None:
        raise ApiError(404, "not_found", _("This cut is not offered for your jurisdiction."))
    return jsonify(present.build(stats_service.compute(agency.jurisdiction_code, view)))
