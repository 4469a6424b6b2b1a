"""The plan's pages: a firm's plan, its actions' forms, "make a plan from this path", my actions
across firms, and the private calendar feed."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import access, db
from webapp.models import Action, Assessment, Evidence, Firm
from webapp.plan import ical, present, services
from webapp.plan.forms import ActionForm
from webapp.questionnaire.present import t


def _firm(firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    return firm


def _can_edit(firm_id: int) -> bool:
    role = access.firm_role(firm_id)
    return role is not None and access.FIRM_ROLE_RANK[role] >= access.FIRM_ROLE_RANK["editor"]


# ---- the plan --------------------------------------------------------------------------------------


@access.firm("viewer")
def plan(firm_id: int) -> ResponseReturnValue:
    firm = _firm(firm_id)
    day = services.today()
    everything = services.actions_of(firm_id)
    owner = request.args.get("owner", type=int)
    target = request.args.get("target") or None
    shown = services.actions_of(firm_id, owner_id=owner, target=target) if (owner or target) else everything
    views = present.action_views(shown, day, with_changes=True)
    fws = present.frameworks_of(firm_id, (a.framework_id for a in everything))
    target_choices = sorted(
        {
            (
                f"{a.framework_id}:{tid}",
                f"{t(fws.by_id[a.framework_id].title)} · {_target_title(fws, a.framework_id, tid)}",
            )
            for a in everything
            if a.framework_id in fws.by_id
            for tid in a.targets or ()
        },
        key=lambda x: x[1],
    )
    owners = services.names(a.owner_id for a in everything)
    return render_template(
        "plan/plan.html",
        firm=firm,
        groups=present.group_by_status(views),
        counts=services.counts(everything, day),
        progress=present.progress_views(firm_id, everything),
        owners=sorted(owners.items(), key=lambda x: x[1]),
        owner=owner,
        targets=target_choices,
        target=target,
        filtered=bool(owner or target),
        can_edit=_can_edit(firm_id),
        today=day,
    )


def _target_title(fws: present.Frameworks, fw_id: str | None, tid: str) -> str:
    fw = fws.by_id.get(fw_id or "")
    if fw is None:
        return tid
    return next((t(x.title) for x in fw.targets if x.id == tid), tid)


# ---- one action ------------------------------------------------------------------------------------


def _cut(text: str, n: int) -> str:
    """`text` cut to `n` characters, with an ellipsis when something was left off."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _form(firm_id: int, action: Action | None = None, **kwargs: Any) -> ActionForm:
    assessments = db.session.scalars(select(Assessment).where(Assessment.firm_id == firm_id)).all()
    fw_ids = {a.framework_id for a in assessments} | (
        {action.framework_id} if action and action.framework_id else set()
    )
    fws = present.frameworks_of(firm_id, fw_ids)
    items, targets = [], []
    for fid, fw in sorted(fws.by_id.items(), key=lambda x: t(x[1].title)):
        group = t(fw.title)
        for sec in fw.sections:
            for item in sec.items:
                items.append(
                    (f"{fid}:{item.id}", f"{fws.numbers[fid][item.id]} {_cut(t(item.text), 90)}", group)
                )
        for tg in fw.targets:
            targets.append((f"{fid}:{tg.id}", f"{group} · {t(tg.title)}"))
    owners = []
    for o in services.owner_choices(firm_id):
        label = o.name if o.kind == "firm" else _("%(name)s (consultant)", name=o.name)
        owners.append((o.id, label))
    current_ids = [a.id for a in fws.current.values()]
    evidence = []
    if current_ids:
        for e in db.session.scalars(
            select(Evidence).where(Evidence.firm_id == firm_id, Evidence.assessment_id.in_(current_ids))
        ):
            evidence.append((e.id, e.filename))
    if action is not None and action.evidence_id and action.evidence_id not in {e[0] for e in evidence}:
        ev = db.session.get(Evidence, action.evidence_id)
        if ev is not None:
            evidence.append((ev.id, ev.filename))
    return ActionForm(owners=owners, items=items, targets=targets, evidence=evidence, **kwargs)


def _render_form(
    firm: Firm, form: ActionForm, action: Action | None, status: int = 200
) -> ResponseReturnValue:
    gone = ""  # the owner no longer has access to the firm (left it, or their consultancy's grant ended)
    if action is not None and action.owner_id and action.owner_id not in {c[0] for c in form.owner.choices}:
        gone = services.names([action.owner_id]).get(action.owner_id, "")
    return render_template("plan/form.html", firm=firm, form=form, action=action, owner_gone=gone), status


def _apply(form: ActionForm, action: Action) -> None:
    fw = form.framework()
    action.title = form.title.data.strip()
    action.framework_id = fw
    action.items = [v.partition(":")[2] for v in form.items.data or []]
    action.targets = [v.partition(":")[2] for v in form.targets.data or []]
    action.owner_id = form.owner.data
    action.due_on = form.due_on.data
    action.notes = form.notes.data or None
    action.evidence_id = form.evidence.data
    services.set_status(action, form.status.data)
    action.updated_at = services.utcnow()


@access.firm("editor")
def new_action(firm_id: int) -> ResponseReturnValue:
    firm = _firm(firm_id)
    if request.method == "GET":
        form = _form(
            firm_id,
            data={
                "title": request.args.get("title", "")[:1000],
                "items": request.args.getlist("item"),
                "targets": request.args.getlist("target"),
                "owner": current_user.id,
                "status": "open",
            },
        )
        form.items.data = [
            v for v in form.items.data or [] if any(v == c[0] for g in form.items.choices.values() for c in g)
        ]
        form.targets.data = [
            v for v in form.targets.data or [] if any(v == c[0] for c in form.targets.choices)
        ]
        return _render_form(firm, form, None)
    form = _form(firm_id)
    if not form.validate_on_submit():
        return _render_form(firm, form, None, 422)
    action = Action(firm_id=firm_id, title="", created_by_id=current_user.id, status="open")
    _apply(form, action)
    fw = action.framework_id
    if fw:
        cur = services.latest_assessment(firm_id, fw)
        action.assessment_id = cur.id if cur is not None else None
    db.session.add(action)
    db.session.flush()
    flash(_("Action added to the plan."), "ok")
    return redirect(url_for("plan.plan", firm_id=firm_id), 303)


@access.firm("editor")
def edit_action(firm_id: int, action_id: int) -> ResponseReturnValue:
    firm = _firm(firm_id)
    action = services.action_of(firm_id, action_id)
    if action is None:
        abort(404)
    if request.method == "GET":
        fw = action.framework_id or ""
        form = _form(
            firm_id,
            action,
            data={
                "title": services.title_of(action),
                "items": [f"{fw}:{i}" for i in action.items or ()],
                "targets": [f"{fw}:{x}" for x in action.targets or ()],
                "owner": action.owner_id,
                "due_on": action.due_on,
                "status": action.status,
                "notes": action.notes or "",
                "evidence": action.evidence_id,
            },
        )
        return _render_form(firm, form, action)
    form = _form(firm_id, action)
    if not form.validate_on_submit():
        return _render_form(firm, form, action, 422)
    _apply(form, action)
    flash(_("Action saved."), "ok")
    return redirect(url_for("plan.plan", firm_id=firm_id), 303)


@access.assessment("editor")
def from_path(a: Assessment) -> ResponseReturnValue:
    """ "Make a plan from this path": an action per step of the verdict's paths to ready."""
    target = request.form.get("target") or None
    made = services.plan_from_path(a, current_user, target=target)
    if made:
        flash(_("%(n)s actions added to the plan.", n=len(made)), "ok")
    else:
        flash(_("Every step of this path already has an open action."), "ok")
    return redirect(url_for("plan.plan", firm_id=a.firm_id), 303)


# ---- my actions and the calendar -------------------------------------------------------------------


@access.authed
def mine() -> ResponseReturnValue:
    day = services.today()
    actions = services.my_actions(current_user.id)
    names = services.firm_names(a.firm_id for a in actions)
    views = present.action_views(actions, day, firm_names=names)
    return render_template(
        "plan/mine.html",
        groups=present.group_by_status(views),
        counts=services.counts(actions, day),
        today=day,
    )


@access.authed
def calendar() -> ResponseReturnValue:
    url = None
    if request.method == "POST":
        if request.form.get("do") == "revoke":
            services.revoke_feeds(current_user)
            flash(_("Your calendar address no longer works."), "ok")
        else:
            token = services.new_feed(current_user)
            url = url_for("plan.feed", token=token, _external=True)
    return render_template("plan/calendar.html", url=url, active=services.has_feed(current_user))


@access.public
def feed(token: str) -> ResponseReturnValue:
    user = services.feed_user(token)
    if user is None:
        abort(404)
    actions, names = services.actions_for_user(user.id)
    with force_locale(user.locale or "zh"):  # the owner's language, whoever's calendar app asks
        body = ical.calendar(actions, names, host=request.host)
    response = current_app_response(body)
    return response


def current_app_response(body: str) -> Any:
    from flask import Response

    r = Response(body.encode("utf-8"), mimetype="text/calendar")
    r.headers["Content-Type"] = "text/calendar; charset=utf-8"
    r.headers["Cache-Control"] = "no-store"
    return r
