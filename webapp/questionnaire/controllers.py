"""The questionnaire's pages: start, overview, one section per page (with autosave), evidence,
comments, assignments, submit, new rounds and the verdict."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from scoring.model import Framework, Item, Section
from webapp import access, audit, db, inputs
from webapp.billing import entitlements
from webapp.consultants.context import attribute, consultant_changes
from webapp.i18n import select_locale
from webapp.models import Assessment, Evidence
from webapp.orgs.services import profile_facts
from webapp.plan.present import plan_panel
from webapp.questionnaire import (
    answers,
    collaboration,
    evidence,
    facts,
    messages,
    pagecache,
    present,
    rounds,
    save,
    storage,
)
from webapp.questionnaire import history as histories
from webapp.questionnaire import submit as submitting
from webapp.questionnaire.answers import UNSET, AnswerState, ItemChange
from webapp.questionnaire.engine_bridge import framework_of
from webapp.questionnaire.present import t
from webapp.results import values
from webapp.results import verdict as verdicts
from webapp.util import safe_next, send_download

HISTORY_SHOWN = 5  # changes per item on the section page; the history page shows them all


def _to_item(a: Assessment, section_id: str, item_id: str) -> ResponseReturnValue:
    """Back to one item on its section page (303: after a POST)."""
    url = url_for(
        ".section", firm_id=a.firm_id, assessment_id=a.id, section_id=section_id, _anchor=f"item-{item_id}"
    )
    return redirect(url, 303)


ITEM_FLASH = "item:"  # the category of a message for one item: "item:<part>:<item id>"


def _to_item_with(
    a: Assessment, section_id: str, item_id: str, message: str, part: str
) -> ResponseReturnValue:
    """Back to one item after a form about it was refused: the message waits (flashed) to be shown
    with the item, which the page opens (`part`: evidence | comments | answer) and focuses."""
    flash(message, f"{ITEM_FLASH}{part}:{item_id}")
    return _to_item(a, section_id, item_id)


def _item_flashes() -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """The messages flashed for items (item -> messages) and the parts of them to open."""
    errors: dict[str, list[str]] = {}
    parts: dict[str, set[str]] = {}
    for category, message in get_flashed_messages(with_categories=True):
        if not category.startswith(ITEM_FLASH):
            continue
        part, _sep, item_id = category[len(ITEM_FLASH) :].partition(":")
        errors.setdefault(item_id, []).append(message)
        parts.setdefault(item_id, set()).add(part)
    return errors, parts


def _can_edit(firm_id: int) -> bool:
    role = access.firm_role(firm_id)
    return role is not None and access.FIRM_ROLE_RANK[role] >= access.FIRM_ROLE_RANK["editor"]


def _mode_title(fw: Framework, mode: str) -> str:
    if len(fw.modes) < 2:
        return ""
    return next((t(m.title) for m in fw.modes if m.id == mode), mode)


def _header(a: Assessment, fw: Framework) -> dict[str, Any]:
    return {
        "a": {
            "id": a.id,
            "firm_id": a.firm_id,
            "round": a.round,
            "status": a.status,
            "mode": a.mode,
            "submitted_at": present.when(a.submitted_at),
            "as_of": a.as_of,
            "previous_id": a.previous_id,
        },
        "fw_title": t(fw.title),
        "mode_title": _mode_title(fw, a.mode),
        "read_only": a.status != "draft",
        "can_edit": _can_edit(a.firm_id) and a.status == "draft",
        "editor": _can_edit(a.firm_id),
    }


# ---- start -------------------------------------------------------------------------------------------


@access.firm("editor")
def start(firm_id: int) -> ResponseReturnValue:
    framework_id = request.form.get("framework", "")
    mode = request.form.get("mode") or None
    try:
        previous = rounds.previous_round(firm_id, framework_id, mode)
    except rounds.StartError:
        abort(400)
    if previous is not None:  # a new round: the person sees and confirms what it carries first
        return redirect(url_for(".confirm_round", firm_id=firm_id, assessment_id=previous.id), 303)
    entitlements.require_firm(firm_id, "new_round", framework_id=framework_id, mode=mode)
    try:
        a, created = rounds.start(firm_id, framework_id, mode, current_user)
    except rounds.StartError:
        abort(400)  # no such framework or mode: the form was not ours
    if not created:
        flash(_("You already have this assessment in progress: carry on where you left off."), "ok")
    fw = answers.framework(a)
    return redirect(
        url_for(".section", firm_id=firm_id, assessment_id=a.id, section_id=fw.sections[0].id), 303
    )


@access.assessment("editor")
def new_round(a: Assessment) -> ResponseReturnValue:
    """Start the round after a submitted assessment, once confirmed on `confirm_round` (a post without
    the confirmation goes there), carrying the evidence of the items ticked there."""
    if request.form.get("confirm") != "1":
        return redirect(url_for(".confirm_round", firm_id=a.firm_id, assessment_id=a.id), 303)
    carry = request.form.getlist("carry")
    entitlements.require_firm(a.firm_id, "new_round", framework_id=a.framework_id, mode=a.mode)
    try:
        new, created = rounds.new_round(a, current_user, carry_evidence=carry, store=storage.store())
    except rounds.StartError:
        abort(409)
    if created:
        files = len(evidence.evidence_of(a.firm_id, [new.id]))
        flash(
            _(
                "Round %(n)s started with your previous answers and the evidence of %(files)s items.",
                n=new.round,
                files=files,
            ),
            "ok",
        )
    return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=new.id), 303)


@access.assessment("editor")
def confirm_round(a: Assessment) -> ResponseReturnValue:
    """What a new round after this submitted assessment would carry: its answers, and its evidence
    item by item (all ticked; untick what is out of date)."""
    if a.status != "submitted":
        abort(409)
    draft = rounds.draft_after(a)
    if draft is not None:
        flash(_("You already have this assessment in progress: carry on where you left off."), "ok")
        return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=draft.id), 303)
    entitlements.require_firm(a.firm_id, "new_round", framework_id=a.framework_id, mode=a.mode)
    plan = rounds.round_plan(a)
    fw = plan.framework
    numbers = present.item_numbers(fw)
    names = answers.user_names(e.uploaded_by_id for evs in plan.evidence.values() for e in evs)
    carried = [
        {
            "number": numbers.get(item.id, ""),
            "text": t(item.text),
            "value": present.display_value(fw, item, state, a.mode),
        }
        for item, state in plan.answers
    ]
    files = []
    for item_id, rows in plan.evidence.items():
        item = fw.item(item_id)
        assert item is not None
        files.append(
            {
                "id": item_id,
                "number": numbers.get(item_id, ""),
                "text": t(item.text),
                "files": [present.file_view(e, names) for e in rows],
            }
        )
    return render_template(
        "questionnaire/new_round.html",
        **_header(a, answers.framework(a)),
        next_round=plan.round,
        answers=carried,
        evidence=files,
        file_count=sum(len(e["files"]) for e in files),
        changes=present.version_changes(answers.framework(a), fw),  # "what is new in 1.1.0"
    )


@access.assessment("editor")
def discard(a: Assessment) -> ResponseReturnValue:
    """Discard a draft, after a confirmation page that says what goes (its answers and files); the
    submitted rounds stay as they are."""
    if a.status != "draft":
        abort(409)
    fw = answers.framework(a)
    if request.method == "GET" or request.form.get("confirm") != "1":
        return render_template(
            "questionnaire/discard.html",
            **_header(a, fw),
            answers=len(answers.answer_states(a.firm_id, a.id)),
            files=sum(len(evs) for evs in evidence.evidence_of(a.firm_id, [a.id]).values()),
        )
    previous_id, n = a.previous_id, a.round
    if not rounds.discard_draft(a, storage.store()):
        abort(409)
    audit.record("assessment.draft_discarded", firm_id=a.firm_id, target=a)
    flash(_("The draft of round %(n)s was discarded.", n=n), "ok")
    if previous_id is not None:
        return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=previous_id), 303)
    return redirect(url_for("core.firm_home", firm_id=a.firm_id), 303)


# ---- overview ----------------------------------------------------------------------------------------


@access.assessment("viewer")
def overview(a: Assessment) -> ResponseReturnValue:
    return _render_overview(a)


def _render_overview(
    a: Assessment, problems: list[submitting.SubmitProblem] | None = None, status: int = 200
) -> ResponseReturnValue:
    fw = answers.framework(a)
    result = answers.scored(a).result
    assignments = collaboration.assignments_of(a.firm_id, a.id)
    members = collaboration.firm_member_choices(a.firm_id)
    names = dict(members)
    names.update(answers.user_names(assignments.values()))
    lines = present.section_lines(fw, result, assignments, names)
    mine = request.args.get("mine") == "1"
    if mine:
        lines = [s for s in lines if s.assignee_id == current_user.id]
    numbers = present.item_numbers(fw)
    problem_views = []
    for p in problems or []:
        item = fw.item(p.item) if p.item else None
        problem_views.append(
            {
                "message": messages.submit_message(p),
                "item": p.item,
                "section": p.section,
                "number": numbers.get(p.item or "", ""),
                "text": t(item.text) if item else "",
            }
        )
    previous_evidence: list[present.FileView] = []
    if a.previous_id:
        uploaded = evidence.evidence_of(a.firm_id, [a.previous_id])
        ev_names = answers.user_names(e.uploaded_by_id for evs in uploaded.values() for e in evs)
        previous_evidence = [present.file_view(e, ev_names) for evs in uploaded.values() for e in evs]
    conf = result.confidence
    return (
        render_template(
            "questionnaire/overview.html",
            **_header(a, fw),
            sections=lines,
            mine=mine,
            members=members,
            answered=conf.answered,
            applicable=conf.applicable,
            problems=problem_views,
            previous_evidence=previous_evidence,
            description=t(fw.description),
            notes=t(fw.notes),
        ),
        status,
    )


@access.assessment("editor")
def assign(a: Assessment) -> ResponseReturnValue:
    raw = request.form.get("user_id", "")
    try:
        user_id = int(raw) if raw else None
    except ValueError:
        abort(400)
    section_id = request.form.get("section", "")
    error = collaboration.assign_section(a, section_id, user_id, current_user)
    if error == "unknown_section":
        abort(400)  # the form was not ours
    if error is not None:
        flash(_("Only a member of the firm can be given a section: choose someone from the list."), "error")
        return redirect(
            url_for(".overview", firm_id=a.firm_id, assessment_id=a.id, _anchor=f"assign-{section_id}"), 303
        )
    flash(_("Section assignment saved."), "ok")
    return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=a.id), 303)


@access.assessment("editor")
def submit(a: Assessment) -> ResponseReturnValue:
    problems = submitting.submit(a, current_user)
    if problems:
        if problems[0].code == "read_only":
            flash(messages.submit_message(problems[0]), "error")
            return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=a.id), 303)
        return _render_overview(a, problems, 422)
    flash(_("Assessment submitted. It is read-only now; this is its verdict."), "ok")
    return redirect(url_for(".verdict", firm_id=a.firm_id, assessment_id=a.id), 303)


# ---- one section -------------------------------------------------------------------------------------


def _section(fw: Framework, section_id: str) -> Section:
    sec = present.section_of(fw, section_id)
    if sec is None:
        abort(404)
    return sec


@access.assessment("viewer", write="editor", reading=pagecache.stamp_columns)
def section(a: Assessment, section_id: str, read: tuple[Any, ...]) -> ResponseReturnValue:
    fw = answers.framework(a)
    sec = _section(fw, section_id)
    if request.method == "GET":
        return _cached_section(a, fw, sec, pagecache.stamp_of(a, read))
    return _post_section(a, fw, sec)


def _cached_section(
    a: Assessment, fw: Framework, sec: Section, stamp: tuple[Any, ...]
) -> ResponseReturnValue:
    """The section page, rendered again only when something it shows changed (see `pagecache`)."""
    user = access.signed_in()
    key = (
        "section",
        a.firm_id,
        a.id,
        sec.id,
        request.full_path,
        select_locale(),  # the language the page will be in (the selector Babel itself asks)
        answers.today(),
        stamp,
        user.id,
        user.name,
        access.firm_role(a.firm_id),
        tuple(g.get("memberships", ())),
        access.active_org(),
    )
    return pagecache.serve(key, lambda: _render_section(a, fw, sec)[0])  # type: ignore[index]


def _render_section(
    a: Assessment,
    fw: Framework,
    sec: Section,
    *,
    status: int = 200,
    form: Mapping[str, Mapping[str, Any]] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    conflicts: Mapping[str, answers.Conflict] | None = None,
) -> ResponseReturnValue:
    flashed, opened = _item_flashes()
    if flashed:
        merged = {k: list(v) for k, v in (errors or {}).items()}
        for item_id, msgs in flashed.items():
            merged.setdefault(item_id, []).extend(msgs)
        errors = merged
    states = answers.answer_states(a.firm_id, a.id)
    ids = [i.id for i in sec.items]
    uploaded = evidence.evidence_of(a.firm_id, [a.id] + ([a.previous_id] if a.previous_id else []))
    with_evidence = {item for (aid, item) in uploaded if aid == a.id}
    as_of = answers.scoring_date(a)
    # the page shows each item's state and the counts: no gaps, no paths to ready (`explain=False`)
    result = answers.score_states(a, fw, states, with_evidence, a.firm, as_of, explain=False)
    profile = profile_facts(a.firm, as_of)
    comments = collaboration.comments_of(a.firm_id, a.id, ids)
    history, history_counts = histories.history_of(a.firm_id, a.id, ids, per_item=HISTORY_SHOWN)
    by_consultants = consultant_changes(a.firm_id, a.id, ids) if history else {}
    assignments = collaboration.assignments_of(a.firm_id, a.id)
    fact_from = _fact_sources(a, sec, states)
    names = answers.user_names(
        [s.updated_by_id for s in states.values()]
        + [e.uploaded_by_id for evs in uploaded.values() for e in evs]
        + [c.author_id for cs in comments.values() for c in cs]
        + list(assignments.values())
    )
    scores = {s.id: s for s in result.items}
    numbers = present.item_numbers(fw)
    prev_round = 0
    if a.previous_id:
        prev = facts.framework_ids(a.firm_id, [a.previous_id]).get(a.previous_id)
        prev_round = prev[2] if prev is not None else 0
    items = []
    for item in sec.items:
        state = states.get(item.id) or AnswerState(item.id)
        if conflicts and item.id in conflicts:
            # shown again with the person's own values and the current version: saving again keeps them
            state = dataclasses.replace(state, version=conflicts[item.id].current.version)
        view = present.item_view(
            fw,
            a,
            item,
            numbers[item.id],
            state,
            scores.get(item.id),
            states=states,
            profile=profile,
            names=names,
            fact_from=fact_from.get(item.id, ""),
            form=(form or {}).get(item.id),
        )
        view.files = [present.file_view(e, names) for e in uploaded.get((a.id, item.id), [])]
        if a.previous_id:
            carried = {(e.filename, e.sha256) for e in uploaded.get((a.id, item.id), [])}
            view.previous_files = [
                present.file_view(e, names)
                for e in uploaded.get((a.previous_id, item.id), [])
                if (e.filename, e.sha256) not in carried  # carried over: listed once, as this round's
            ]
            view.previous_round = prev_round
        view.comments = present.comment_views(comments.get(item.id, []), names)
        view.history = attribute(
            present.history_views(fw, item, history.get(item.id, []), a.mode),
            history.get(item.id, []),
            by_consultants,
        )
        view.history_count = history_counts.get(item.id, 0)
        view.errors = list((errors or {}).get(item.id, []))
        view.opened = opened.get(item.id, set())
        if view.errors and not any(getattr(v, "errors", None) for v in items):
            view.focus = True  # the first message on the page: focused as it loads
        if conflicts and item.id in conflicts:
            view.conflict = _conflict_view(fw, item, conflicts[item.id], (form or {}).get(item.id), a.mode)
        items.append(view)
    lines = present.section_lines(fw, result, assignments, names, current=sec.id)
    order = [s.id for s in fw.sections]
    pos = order.index(sec.id)
    conf = result.confidence
    return (
        render_template(
            "questionnaire/section.html",
            **_header(a, fw),
            section={
                "id": sec.id,
                "number": pos + 1,
                "title": t(sec.title),
                "description": t(sec.description),
            },
            items=items,
            sections=lines,
            prev_section=order[pos - 1] if pos > 0 else None,
            next_section=order[pos + 1] if pos + 1 < len(order) else None,
            answered=conf.answered,
            applicable=conf.applicable,
            js_messages=_js_messages(),
            max_mb=storage.max_bytes() / 1024 / 1024,
            L=present.item_labels(),
        ),
        status,
    )


def _fact_sources(a: Assessment, sec: Section, states: Mapping[str, AnswerState]) -> dict[str, str]:
    """For items whose shared fact was last answered in another framework: that framework's title."""
    item_of = {i.fact: i.id for i in sec.items if i.fact}
    if not item_of:
        return {}
    rows = facts.fact_sources(a.firm_id, list(item_of))
    sources = facts.framework_ids(a.firm_id, {r[2] for r in rows if r[2] is not None and r[2] != a.id})
    out = {}
    for fact, value, source_id in rows:
        item_id = item_of[fact]
        state = states.get(item_id)
        src = sources.get(source_id) if source_id is not None else None
        if src is None or state is None or state.value != value:
            continue
        if src[0] == a.framework_id:
            continue  # an earlier round of the same framework is no news
        try:
            out[item_id] = t(framework_of(src[0], src[1]).title)
        except LookupError:
            out[item_id] = src[0]
    return out


def _conflict_view(
    fw: Framework, item: Item, c: answers.Conflict, mine: Mapping[str, Any] | None, mode: str
) -> present.ConflictView:
    yours = "—"
    if mine is not None:
        yours = present.display_value(
            fw,
            item,
            AnswerState(item.id, mine.get("value"), mine.get("na_reason"), mine.get("narrative")),
            mode,
        )
    return present.ConflictView(
        present.display_value(fw, item, c.current, mode),
        c.changed_by or "—",
        present.when(c.current.updated_at),
        yours,
    )


def _js_messages() -> dict[str, str]:
    return {
        "saved": _("Saved"),
        "saving": _("Saving…"),
        "unsaved": _("Not saved"),
        "retry": _("Retry"),
        "offline": _("Offline: kept on this device, it will be sent when the connection returns."),
        "error": _("Not saved: the server refused it."),
        "conflict": _("Someone else changed this answer: choose which answer to keep."),
        "changed_by": _("Changed by %(name)s at %(time)s"),
        "theirs": _("Their answer"),
        "yours": _("Your answer"),
        "keep_mine": _("Keep mine"),
        "take_theirs": _("Take theirs"),
        "read_only": _(
            "This assessment has been submitted and is read-only. Start a new round to change answers."
        ),
        "all_saved": _("All changes saved."),
        "pending": _("Saving your changes…"),
        "restored": _("Restored an answer you had not sent yet; it is being saved now."),
        "progress": _("%(answered)s of %(applicable)s applicable questions answered"),
        "na_prefix": _("Not applicable: %(reason)s", reason=""),
        "too_large": messages.too_large_message(storage.max_bytes()),
        "na_needs_reason": _(
            "Say why this question does not apply: “not applicable” is saved once the reason is "
            "written. Until then it is kept on this device only."
        ),
    }


# ---- saving ------------------------------------------------------------------------------------------


def _form_value(item: Item, form: Mapping[str, str]) -> tuple[Any, str, bool]:
    """(value or UNSET, the raw text, parsed ok) of one item in a posted section form."""
    key = f"value-{item.id}"
    if key not in form:
        return UNSET, "", True
    raw = form.get(key, "")
    value, ok = values.widget(item).parse(raw)
    return value, raw, ok


def _post_section(a: Assessment, fw: Framework, sec: Section) -> ResponseReturnValue:
    if not _can_edit(a.firm_id):
        abort(403)
    if a.status != "draft":
        flash(messages.error_message(answers.ItemError(None, "read_only"), None), "error")
        return redirect(url_for(".section", firm_id=a.firm_id, assessment_id=a.id, section_id=sec.id), 303)
    form = request.form
    states = answers.answer_states(a.firm_id, a.id, [i.id for i in sec.items])
    changes: dict[str, ItemChange] = {}
    expected: dict[str, int] = {}
    shown: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for item in sec.items:
        cur = states.get(item.id) or AnswerState(item.id)
        value, raw, ok = _form_value(item, form)
        na_on = form.get(f"na-{item.id}") == "1" and item.allow_na
        na = form.get(f"na_reason-{item.id}", "") if na_on else None
        narrative = form.get(f"narrative-{item.id}", UNSET) if item.narrative_modes else UNSET
        shown[item.id] = {
            "value": cur.value if value is UNSET else value,
            "raw": raw,
            "na_reason": na,
            "narrative": cur.narrative if narrative is UNSET else narrative,
        }
        if not ok:
            errors.setdefault(item.id, []).append(
                messages.error_message(answers.ItemError(item.id, "wrong_type"), item)
            )
            continue
        ch = ItemChange(
            value=UNSET if na_on else value,
            na_reason=na if (na_on or cur.na_reason is not None) else UNSET,
            narrative=narrative,
        )
        if answers.unchanged(cur, ch):
            continue
        changes[item.id] = ch
        try:
            expected[item.id] = int(form.get(f"version-{item.id}", ""))
        except ValueError:
            expected[item.id] = cur.version
    if errors:
        return _render_section(a, fw, sec, status=422, form=shown, errors=errors)
    result = save.save_answers(a, changes, current_user, expected)
    if result.errors:
        for e in result.errors:
            errors.setdefault(e.item or "", []).append(messages.error_message(e, fw.item(e.item or "")))
        return _render_section(a, fw, sec, status=422, form=shown, errors=errors)
    if result.conflicts:
        return _render_section(
            a, fw, sec, status=409, form=shown, conflicts={c.item: c for c in result.conflicts}
        )
    flash(_("Answers saved."), "ok")
    order = [s.id for s in fw.sections]
    pos = order.index(sec.id)
    target_section = sec.id
    if form.get("go") == "next" and pos + 1 < len(order):
        target_section = order[pos + 1]
    elif form.get("go") == "prev" and pos > 0:
        target_section = order[pos - 1]
    elif form.get("go") == "overview":
        return redirect(url_for(".overview", firm_id=a.firm_id, assessment_id=a.id), 303)
    return redirect(
        url_for(".section", firm_id=a.firm_id, assessment_id=a.id, section_id=target_section), 303
    )


def _state_json(fw: Framework, item: Item, s: AnswerState, mode: str, by: str | None) -> dict[str, Any]:
    return {
        "value": s.value,
        "na": s.na_reason,
        "narrative": s.narrative,
        "version": s.version,
        "display": present.display_value(fw, item, s, mode),
        "by": by or "",
        "at": present.when(s.updated_at),
    }


@access.assessment("editor")
def autosave(a: Assessment) -> ResponseReturnValue:
    """One item's answer as JSON: {"item", "version", "value"?, "na"?, "narrative"?}.

    It only writes, and the assessment is not scored here: the page asks for the new figures
    (`progress`) once its saves settle. `save_answers` decides, with its messages for what it refuses."""
    data = request.get_json(silent=True)
    item_id = data.get("item") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(item_id, str):
        return jsonify(ok=False, error="bad_request", message=_("The request was not understood.")), 400
    change = ItemChange(
        value=data.get("value", UNSET),
        na_reason=data.get("na", UNSET),
        narrative=data.get("narrative", UNSET),
    )
    version = inputs.version(data.get("version"))  # a whole number within the database's integer
    expected = {item_id: version} if version is not None else None
    result = save.save_answers(a, {item_id: change}, current_user, expected, score=False)
    fw = answers.framework(a)
    item = fw.item(item_id)
    if result.errors:
        first = result.errors[0]
        if first.code == "read_only":
            return jsonify(
                ok=False, error="read_only", item=item_id, message=messages.error_message(first, None)
            ), 409
        errs = [
            {"item": e.item, "code": e.code, "message": messages.error_message(e, item)}
            for e in result.errors
        ]
        return jsonify(ok=False, error="invalid", item=item_id, errors=errs, message=errs[0]["message"]), 422
    assert item is not None
    if result.conflicts:
        c = result.conflicts[0]
        yours = answers.target_state(AnswerState(item_id), change)
        return (
            jsonify(
                ok=False,
                error="conflict",
                item=item_id,
                message=_("Someone else changed this answer: choose which answer to keep."),
                theirs=_state_json(fw, item, c.current, a.mode, c.changed_by),
                yours={
                    "value": yours[0],
                    "na": yours[1],
                    "narrative": yours[2],
                    "display": present.display_value(fw, item, AnswerState(item_id, *yours), a.mode),
                },
            ),
            409,
        )
    state = result.states.get(item_id) or AnswerState(item_id)
    return jsonify(ok=True, item=item_id, version=state.version, saved=item_id in result.saved)


@access.assessment("viewer")
def progress(a: Assessment) -> ResponseReturnValue:
    """The figures the section page shows, as JSON, after its saves: the assessment's progress and,
    with `?section=<id>`, the section's count and for each of its items whether it applies (and why
    not) and whether its evidence is missing."""
    fw = answers.framework(a)
    section_id = request.args.get("section")
    sec = _section(fw, section_id) if section_id is not None else None
    p = answers.progress(a)
    r = p.result
    applicability = {}
    answered = applicable = 0
    for s in r.items:
        if sec is None or s.section != sec.id:
            continue
        if s.applicable:
            applicable += 1
            answered += s.status == "answered"
        it = fw.item(s.id)
        assert it is not None
        applicability[s.id] = {
            "applicable": s.applicable,
            "why": present.why_not(fw, it, s.reason, p.states, p.profile, a.mode),
            "evidence_missing": s.evidence_missing and s.status == "answered",
        }
    figures: dict[str, Any] = {
        "progress": {"answered": r.confidence.answered, "applicable": r.confidence.applicable}
    }
    if sec is not None:
        figures["section"] = {"id": sec.id, "answered": answered, "applicable": applicable}
        figures["items"] = applicability
    response = jsonify(figures)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- history -----------------------------------------------------------------------------------------


@access.assessment("viewer")
def history(a: Assessment, item_id: str) -> ResponseReturnValue:
    fw = answers.framework(a)
    item = fw.item(item_id)
    if item is None:
        abort(404)
    history, _counts = histories.history_of(a.firm_id, a.id, [item_id])
    rows = history.get(item_id, [])
    entries = attribute(
        present.history_views(fw, item, rows, a.mode), rows, consultant_changes(a.firm_id, a.id, [item_id])
    )
    template = "questionnaire/_history.html" if request.args.get("fragment") else "questionnaire/history.html"
    return render_template(
        template,
        **_header(a, fw),
        entries=entries,
        item={"id": item.id, "text": t(item.text), "number": present.item_numbers(fw)[item.id]},
        section_id=present.section_of_item(fw, item.id),
        L=present.item_labels(),
    )


# ---- evidence ----------------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


@access.assessment("editor")
def upload(a: Assessment) -> ResponseReturnValue:
    fw = answers.framework(a)
    item_id = request.form.get("item", "")
    sec_id = present.section_of_item(fw, item_id)
    if sec_id is None:
        abort(400)
    f = request.files.get("file")
    data = f.read(storage.max_bytes() + 1) if f is not None else b""
    name = (f.filename or "") if f is not None else ""
    room = entitlements.allowed_firm(a.firm_id, "evidence_upload", size=len(data))
    if not room:  # the plan's evidence storage is full: said at the item, with the plan that has room
        return _to_item_with(a, sec_id, item_id, room.message, "evidence")
    got = evidence.add_evidence(
        a, item_id, name, data, current_user, storage.store(), max_bytes=storage.max_bytes()
    )
    if isinstance(got, evidence.EvidenceRefused):
        msg = messages.evidence_message(got, storage.max_bytes())
        return _to_item_with(a, sec_id, item_id, msg, "evidence")
    flash(_("File attached: %(name)s", name=got.filename), "ok")
    return _to_item(a, sec_id, item_id)


def too_large(_exc: HTTPException) -> ResponseReturnValue:
    msg = messages.too_large_message(storage.max_bytes())
    if _wants_json():
        return jsonify(ok=False, error="too_large", message=msg), 413
    back = _same_site(request.referrer)
    item_id = request.args.get("item", "")
    if request.endpoint == "questionnaire.upload" and back and item_id and "/sections/" in back:
        # the body was not read (so neither was the form): the upload form names its item in its URL,
        # and the page it was sent from takes the person back to that item, with the message
        flash(msg, f"{ITEM_FLASH}evidence:{item_id}")
        return redirect(back.split("#", 1)[0] + f"#item-{item_id}", 303)
    return render_template(
        "questionnaire/too_large.html", message=msg, back=_same_site(request.referrer)
    ), 413


def _same_site(url: str | None) -> str:
    """The path of a URL on this site (for a "back" link), else ""."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return ""
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else "")) or ""


@access.assessment("viewer")
def download(a: Assessment, evidence_id: int) -> ResponseReturnValue:
    ev = db.session.get(Evidence, evidence_id)
    if ev is None or ev.assessment_id != a.id:
        abort(404)
    try:
        data = storage.store().get(ev.storage_key)
    except FileNotFoundError:
        abort(410)  # the row is there but the stored file is gone
    audit.record("export.evidence", firm_id=a.firm_id, target=ev)
    response = send_download(data, ev.filename, ev.content_type, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@access.assessment("editor")
def delete_evidence(a: Assessment, evidence_id: int) -> ResponseReturnValue:
    ev = db.session.get(Evidence, evidence_id)
    if ev is None or ev.assessment_id != a.id:
        abort(404)
    item_id = ev.item_id
    name = ev.filename
    if not evidence.delete_evidence(a, ev, storage.store(), current_user):
        abort(409)
    audit.record("evidence.deleted", firm_id=a.firm_id, target=ev)
    fw = answers.framework(a)
    flash(_("File removed: %(name)s", name=name), "ok")
    sec_id = present.section_of_item(fw, item_id) or fw.sections[0].id
    return _to_item(a, sec_id, item_id)


# ---- comments ----------------------------------------------------------------------------------------


@access.assessment("viewer")
def comment(a: Assessment) -> ResponseReturnValue:
    fw = answers.framework(a)
    item_id = request.form.get("item", "")
    sec_id = present.section_of_item(fw, item_id)
    if sec_id is None:
        abort(400)
    got = collaboration.add_comment(a, item_id, request.form.get("body", ""), current_user)
    if isinstance(got, str):
        return _to_item_with(a, sec_id, item_id, messages.comment_message(got), "comments")
    flash(_("Comment posted."), "ok")
    return _to_item(a, sec_id, item_id)


# ---- verdict -----------------------------------------------------------------------------------------


@access.assessment("viewer")
def verdict(a: Assessment) -> ResponseReturnValue:
    v = verdicts.verdict(a)
    view = present.verdict_view(v)
    return render_template(
        "questionnaire/verdict.html",
        **_header(a, v.framework),
        v=view,
        provisional=v.provisional,
        plan=plan_panel(a.firm_id, can_edit=_can_edit(a.firm_id), framework_id=a.framework_id),
    )
