from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from webapp import access, audit, db
from webapp.billing.entitlements import require, require_firm
from webapp.billing.services import Org
from webapp.consultants import compare as cmp
from webapp.consultants import portfolio as pf
from webapp.consultants import transfer
from webapp.consultants.forms import ConsultancyForm, ImportForm
from webapp.models import Assessment, Consultancy, ConsultancyGrant, Firm, Invitation, Membership
from webapp.orgs import services as org_services
from webapp.orgs.controllers import pending_invitations, send_invitation, withdraw
from webapp.orgs.forms import ROLE_LABELS, InviteForm
from webapp.questionnaire import answers, save
from webapp.questionnaire.present import num, readiness_label, t
from webapp.util import send_download

PAGE_SIZE = 50  # clients on one page of the portfolio (filters and sorting cover them all)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    pages = max(1, -(-len(lines) // PAGE_SIZE))
    arg = args.get("page", "1")
    page = min(int(arg), pages) if arg.isdigit() and 0 < len(arg) < 6 and int(arg) > 0 else 1
    return (
        render_template(
            "consultants/home.html",
            consultancy=c,
            portfolio=p,
            lines=lines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            matching=len(lines),
            page=page,
            pages=pages,
            filters=filters,
            sort=sort,
            descending=descending,
            readiness_label=_labels(),
            members=members,
            invitations=pending_invitations(consultancy_id=c.id),
            form=form,
            role_labels=ROLE_LABELS,
            my_role=access.active_org().role,  # type: ignore[union-attr]
            frameworks=[(k, t(fw.title)) for k, fw in pf.frameworks().items()],
            compare_default=pf.most_assessed_of(c.id, [], list(pf.frameworks())),
        ),
        status,
    )


def _labels() -> Callable[[str | None], str]:
    """`readiness_label` translated once per page, not once per cell (a portfolio has thousands)."""
    known = {r: readiness_label(r) for r in (None, *READINESS)}
    return lambda r: known[r] if r in known else readiness_label(r)


READINESS = ("ready", "near", "not_ready", "not_applicable", "worth_full_evaluation", "not_yet")


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


# ---- compare -----------------------------------------------------------------------------------------


def _ids(values: list[str]) -> list[int]:
    """Firm ids from the query; anything else (or beyond an integer column) is left out."""
    return [int(v) for v in values if v.isdigit() and len(v) < 10]


def _framework_arg(choices: list[str]) -> str | None:
    fid = request.args.get("framework", "")
    return fid if fid in choices else None


def client_readiness_label(r: str | None) -> str:
    """`readiness_label` as a consultant reads it of a client: not "your" region but the firm's."""
    return _("Not for this firm’s region") if r == "not_applicable" else readiness_label(r)


def _label_for(firm: Firm | None) -> Callable[[str | None], str]:
    """The readiness labels for the viewer: a firm's own people read "your region", its consultants
    (the clients compared, or a client's rounds) "this firm's region"."""
    if firm is not None and access.firm_role(firm.id) not in access.CONSULTANT_ROLES:
        return readiness_label
    return client_readiness_label


def _compare_page(
    template_args: dict[str, Any], comparison: cmp.Comparison | None, *, rounds: bool
) -> ResponseReturnValue:
    tab = cmp.table(comparison, rounds=rounds) if comparison is not None else None
    return render_template(
        "consultants/compare.html",
        tab=tab,
        comparison=comparison,
        rounds=rounds,
        readiness_label=_label_for(template_args.get("firm")),
        num=num,
        max_clients=cmp.MAX_CLIENTS,
        **template_args,
    )


def _client_choices(consultancy_id: int) -> list[Firm]:
    return list(
        db.session.scalars(
            select(Firm)
            .join(ConsultancyGrant, ConsultancyGrant.firm_id == Firm.id)
            .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
            .order_by(Firm.name, Firm.id)
        )
    )


def _clients_comparison() -> tuple[Consultancy, list[int], str | None, cmp.Comparison | None]:
    c = _consultancy()
    require(Org("consultancy", c.id), "comparison")
    frameworks = pf.frameworks()
    ids = _ids(request.args.getlist("firm"))
    fid = _framework_arg(list(frameworks))
    if fid is None:  # no framework asked: the one most of the chosen clients (else of all) have assessed
        fid = pf.most_assessed_of(c.id, ids, list(frameworks))
    comparison = cmp.compare_clients(c.id, ids, fid) if fid and ids else None
    return c, ids, fid, comparison


@access.org_kind("consultancy")
def compare() -> ResponseReturnValue:
    """Clients side by side on one framework: `?framework=<id>&firm=<id>&firm=<id>…`."""
    c, ids, fid, comparison = _clients_comparison()
    return _compare_page(
        {
            "clients": _client_choices(c.id),
            "chosen": set(ids),
            "framework_id": fid,
            "frameworks": [(k, t(fw.title)) for k, fw in pf.frameworks().items()],
            "xlsx_url": url_for("consultants.compare_xlsx", framework=fid, firm=ids) if comparison else None,
        },
        comparison,
        rounds=False,
    )


@access.org_kind("consultancy")
def compare_xlsx() -> ResponseReturnValue:
    _c, chosen, fid, comparison = _clients_comparison()
    if comparison is None or fid is None:  # nothing chosen yet: the page to choose on
        return redirect(url_for("consultants.compare", framework=fid, firm=chosen))
    return send_download(cmp.xlsx(cmp.table(comparison), client_readiness_label), f"compare-{fid}.xlsx", XLSX)


def _rounds_comparison(firm_id: int) -> tuple[Firm, list[str], str | None, cmp.Comparison | None]:
    require_firm(firm_id, "comparison")
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    frameworks = pf.frameworks()
    used = set(db.session.scalars(select(Assessment.framework_id).where(Assessment.firm_id == firm_id)))
    choices = [k for k in frameworks if k in used]
    fid = _framework_arg(choices) or (choices[0] if choices else None)
    return firm, choices, fid, cmp.compare_rounds(firm, fid) if fid else None


@access.firm("viewer")
def compare_rounds(firm_id: int) -> ResponseReturnValue:
    """One firm's rounds of a framework side by side: `?framework=<id>`."""
    firm, choices, fid, comparison = _rounds_comparison(firm_id)
    frameworks = pf.frameworks()
    return _compare_page(
        {
            "firm": firm,
            "framework_id": fid,
            "frameworks": [(k, t(frameworks[k].title)) for k in choices],
            "xlsx_url": url_for("desk.compare_rounds_xlsx", firm_id=firm.id, framework=fid)
            if comparison
            else None,
        },
        comparison,
        rounds=True,
    )


@access.firm("viewer")
def compare_rounds_xlsx(firm_id: int) -> ResponseReturnValue:
    firm, _choices, fid, comparison = _rounds_comparison(firm_id)
    if comparison is None:  # no round yet: the page says so
        return redirect(url_for("desk.compare_rounds", firm_id=firm.id))
    return send_download(
        cmp.xlsx(cmp.table(comparison, rounds=True), _label_for(firm)), f"{firm.name}-{fid}-rounds.xlsx", XLSX
    )


# ---- a client's record out, answers in -----------------------------------------------------------------


def _firm(firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    return firm


@access.firm("editor")
def export_json(firm_id: int) -> ResponseReturnValue:
    """The client's whole record as JSON: profile, assessments with answers and results, plan, evidence."""
    require_firm(firm_id, "import_export")
    firm = _firm(firm_id)
    data = transfer.record(firm)
    audit.record("export.firm_data", firm_id=firm.id, target=firm, detail={"format": "json"})
    body = json.dumps(data, ensure_ascii=False, indent=1).encode()
    return send_download(body, f"{firm.name}-record.json", "application/json")


@access.firm("editor")
def export_xlsx(firm_id: int) -> ResponseReturnValue:
    """The same record as a workbook, one sheet per kind of row."""
    require_firm(firm_id, "import_export")
    firm = _firm(firm_id)
    data = transfer.record(firm)
    audit.record("export.firm_data", firm_id=firm.id, target=firm, detail={"format": "xlsx"})
    return send_download(transfer.record_xlsx(data), f"{firm.name}-record.xlsx", XLSX)


def _drafts(firm_id: int) -> list[Assessment]:
    return list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.firm_id == firm_id, Assessment.status == "draft")
            .order_by(Assessment.updated_at.desc())
        )
    )


def _draft_label(a: Assessment) -> str:
    fw = answers.framework(a)
    mode = next((m for m in fw.modes if m.id == a.mode), None)
    parts = [t(fw.title)]
    if mode is not None and len(fw.modes) > 1:
        parts.append(t(mode.title))
    parts.append(_("Round %(n)s", n=a.round))
    return " · ".join(parts)


@access.firm("editor")
def answer_template(firm_id: int, assessment_id: int) -> ResponseReturnValue:
    """The framework's workbook with a sheet `answers` to fill for this draft (its answers so far)."""
    require_firm(firm_id, "import_export")
    a = db.session.get(Assessment, assessment_id)
    if a is None or a.firm_id != firm_id:
        abort(404)
    firm = _firm(firm_id)
    return send_download(
        transfer.template_xlsx(a), f"{firm.name}-{a.framework_id}-{a.framework_version}-answers.xlsx", XLSX
    )


@access.firm("editor")
def import_answers(firm_id: int) -> ResponseReturnValue:
    """Answers from the workbook into a draft through `save_answers`: all of them or, when any row is
    refused, none (each refused row listed with its number, question and reason)."""
    require_firm(firm_id, "import_export")
    firm = _firm(firm_id)
    drafts = _drafts(firm_id)
    form = ImportForm()
    form.assessment.choices = [(a.id, _draft_label(a)) for a in drafts]
    errors: list[transfer.RowError] = []
    chosen = None
    if form.validate_on_submit():
        chosen = next(a for a in drafts if a.id == form.assessment.data)
        changes, where, errors = transfer.read_answers(form.file.data.read(), chosen)
        if errors and changes:  # the rows read are checked too: every row to correct, in one go
            errors = sorted(
                errors + transfer.check_errors(chosen, changes, where),
                key=lambda e: (e.row or 0, e.item or ""),
            )
        if not errors and not changes:
            errors = [transfer.RowError(None, None, _("The sheet “answers” has no answer to import."))]
        if not errors:
            result = save.save_answers(chosen, changes, current_user)
            if result.ok:
                flash(
                    ngettext(
                        "%(num)d answer imported into %(draft)s.",
                        "%(num)d answers imported into %(draft)s.",
                        len(result.saved),
                        draft=_draft_label(chosen),
                    ),
                    "ok",
                )
                return redirect(
                    url_for("questionnaire.overview", firm_id=firm_id, assessment_id=chosen.id), code=303
                )
            errors = transfer.save_errors(result, answers.framework(chosen), where)
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "consultants/import.html",
            firm=firm,
            form=form,
            drafts=[(a, _draft_label(a)) for a in drafts],
            errors=errors,
            item_text=(lambda item_id: transfer.item_text(answers.framework(chosen), item_id))
            if chosen
            else None,
        ),
        status,
    )
