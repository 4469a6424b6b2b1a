"""Entitlements in one place: `allowed(org, action)` answers for the pages, the API and the jobs.

A refusal names the plan that unlocks the action and links to the pricing page; pages answer 402
with it (`billing/gated.html`), the API `402 {"error": {"code": "payment_required", "message"}}`.

A firm's actions are allowed by its own plan, or by the plan of a consultancy it granted access to
(the Consultant plan is priced per client firm: the consultancy pays for its clients' features).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from webapp import db, tenancy
from webapp.billing import plans
from webapp.billing.plans import Plan
from webapp.billing.services import Org, PlanState, billing_on, plan_state, state_of
from webapp.db import utcnow
from webapp.models import Assessment, ConsultancyGrant, Evidence, Membership

# action -> the plan feature that allows it
ACTIONS: dict[str, str] = {
    "new_round": "unlimited_rounds",  # beyond the plan's rounds_per_framework_per_year
    "pdf_report": "pdf_report",
    "bulk_reports": "bulk_reports",
    "branded_reports": "branded_reports",
    "evidence_upload": "evidence_storage",  # within the plan's evidence_mb (pass `size`)
    "reminders": "reminders",
    "comparison": "comparison",
    "import_export": "import_export",
}
ROUND_WINDOW = dt.timedelta(days=365)


def _messages() -> dict[str, Callable[[str, str], str]]:
    return {
        "new_round": lambda need, mine: _(
            "Your plan (%(mine)s) includes one round of each framework a year: starting another round "
            "within a year needs the %(need)s plan. Nothing you entered is lost.",
            mine=mine,
            need=need,
        ),
        "pdf_report": lambda need, mine: _(
            "PDF reports need the %(need)s plan; your plan (%(mine)s) shows the report as a web page.",
            mine=mine,
            need=need,
        ),
        "bulk_reports": lambda need, mine: _(
            "Bulk reports need the %(need)s plan; your plan is %(mine)s.", mine=mine, need=need
        ),
        "comparison": lambda need, mine: _(
            "Comparing clients and rounds needs the %(need)s plan; your plan is %(mine)s.",
            mine=mine,
            need=need,
        ),
        "import_export": lambda need, mine: _(
            "Importing answers and exporting a client's record need the %(need)s plan; your plan is %(mine)s.",
            mine=mine,
            need=need,
        ),
        "branded_reports": lambda need, mine: _(
            "Reports branded with your logo need the %(need)s plan; your plan is %(mine)s.",
            mine=mine,
            need=need,
        ),
    }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    plan: Plan  # the organisation's plan now
    needs: Plan | None = None  # the plan that unlocks the action, when refused
    message: str = ""  # why not, in the reader's language; empty when allowed
    state: PlanState | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def pricing_url(self) -> str:
        return url_for("billing.pricing", _anchor=f"plan-{self.needs.id}" if self.needs else None)


def _granted_consultancies(firm_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(ConsultancyGrant.consultancy_id).where(
                ConsultancyGrant.firm_id == firm_id, ConsultancyGrant.revoked_at.is_(None)
            )
        )
    )


def _rounds_this_year(firm_id: int, framework_id: str, mode: str | None, now: dt.datetime) -> int | None:
    """Rounds of the framework the firm started within a year; None when a draft of this framework and
    mode exists (carrying on with it starts nothing).

    Counted across the tenant filter, for the one firm named: the count must not depend on who asks
    (a job, an API token, a consultant), or an empty context would read 0 and let every round through."""
    same = (Assessment.firm_id == firm_id, Assessment.framework_id == framework_id)
    draft = select(Assessment.id).where(*same, Assessment.status == "draft")
    if mode is not None:
        draft = draft.where(Assessment.mode == mode)
    with tenancy.bypass():
        if db.session.scalar(draft.limit(1)) is not None:
            return None
        return db.session.scalar(
            select(func.count())
            .select_from(Assessment)
            .where(*same, Assessment.created_at > now - ROUND_WINDOW)
        )


def evidence_bytes(firm_id: int) -> int:
    """The bytes of evidence the firm keeps (every round's files; a carried file counts in each round
    that holds a copy). Across the tenant filter, for the one firm named, as `_rounds_this_year`."""
    with tenancy.bypass():
        total = db.session.scalar(select(func.sum(Evidence.size)).where(Evidence.firm_id == firm_id))
    return int(total or 0)


def _within_quota(plan: Plan, firm_id: int, size: int) -> bool:
    limit = plan.limits.get("evidence_mb")
    return limit is None or evidence_bytes(firm_id) + size <= int(limit) * 1024 * 1024


def _plan_allows(plan: Plan, action: str, org: Org, ctx: dict[str, object], now: dt.datetime) -> bool:
    feature = ACTIONS.get(action, action)
    if action == "evidence_upload":
        size = ctx.get("size")
        return org.kind == "firm" and _within_quota(plan, org.id, size if isinstance(size, int) else 0)
    if plan.allows(feature):
        return True
    if action == "new_round" and org.kind == "firm":
        limit = plan.limits.get("rounds_per_framework_per_year")
        framework_id = ctx.get("framework_id")
        if limit is None:
            return True
        if not isinstance(framework_id, str):
            return False
        mode = ctx.get("mode")
        started = _rounds_this_year(org.id, framework_id, mode if isinstance(mode, str) else None, now)
        return started is None or started < int(limit)
    return False


def allowed(org: Org, action: str, *, now: dt.datetime | None = None, **ctx: object) -> Decision:
    """May the organisation do `action` now? For `new_round`, pass `framework_id` (and `mode`)."""
    now = now or utcnow()
    state = plan_state(org, now)
    if _plan_allows(state.plan, action, org, ctx, now):
        return Decision(True, action, state.plan, state=state)
    if org.kind == "firm":
        for consultancy_id in _granted_consultancies(org.id):
            theirs = plan_state(Org("consultancy", consultancy_id), now).plan
            if (
                _plan_allows(theirs, action, org, ctx, now)
                if action == "evidence_upload"
                else theirs.allows(ACTIONS.get(action, action))
            ):
                return Decision(True, action, state.plan, state=state)
    audience = {"firm": "firm", "consultancy": "consultancy"}.get(org.kind)
    if action == "evidence_upload":  # the next plan with room for it
        size = ctx.get("size")
        bigger = [
            p
            for p in plans.all_plans()
            if p.order > state.plan.order
            and p.audience == audience
            and not p.grant_only
            and _within_quota(p, org.id, size if isinstance(size, int) else 0)
        ]
        needs = bigger[0] if bigger else None
        return Decision(False, action, state.plan, needs, _quota_message(state.plan, needs, org.id), state)
    needs = plans.cheapest_allowing(ACTIONS.get(action, action), audience)
    return Decision(False, action, state.plan, needs, _message(action, needs, state.plan), state)


def _quota_message(mine: Plan, needs: Plan | None, firm_id: int) -> str:
    from webapp.i18n import current_lang

    lang = current_lang()
    used = evidence_bytes(firm_id) / (1024 * 1024)
    limit = mine.limits.get("evidence_mb") or 0
    if needs is None:
        return _(
            "Your evidence storage is full (%(used).1f MB of %(limit)s MB). Remove files you no longer "
            "need; nothing was uploaded.",
            used=used,
            limit=limit,
        )
    return _(
        "Your evidence storage is full (%(used).1f MB of %(limit)s MB on %(mine)s): the %(need)s plan "
        "keeps up to %(more)s MB. Nothing was uploaded.",
        used=used,
        limit=limit,
        mine=mine.title(lang),
        need=needs.title(lang),
        more=needs.limits.get("evidence_mb"),
    )


def _message(action: str, needs: Plan | None, mine: Plan) -> str:
    from webapp.i18n import current_lang

    lang = current_lang()
    need_name = needs.title(lang) if needs else "—"
    build = _messages().get(action)
    if build is None:
        return _(
            "This needs the %(need)s plan; your plan is %(mine)s.", need=need_name, mine=mine.title(lang)
        )
    return build(need_name, mine.title(lang))


# ---- firms per account ------------------------------------------------------------------------------


def _firm_room(plan: Plan) -> int | None:
    """How many firms an account may own on the plan (None: no bound)."""
    limit = plan.limits.get("firms")
    return None if limit is None else int(limit)


def owned_firms(user_id: int) -> list[int]:
    """The firms the user owns (across the tenant filter: the count must not depend on who asks)."""
    with tenancy.bypass():
        return list(
            db.session.scalars(
                select(Membership.firm_id)
                .where(
                    Membership.user_id == user_id, Membership.role == "owner", Membership.firm_id.is_not(None)
                )
                .order_by(Membership.firm_id)
            )
        )


def allowed_new_firm(user_id: int, *, now: dt.datetime | None = None) -> Decision:
    """May the user create one more firm (and own it)? The plans' `firms` limit counts the firms an
    account owns: the Free plan includes one. A user who owns no firm yet may always create one; one
    who does may create another when any firm they own is on a plan with room for it. Billing off: no
    limit."""
    now = now or utcnow()
    firms = owned_firms(user_id)
    states = [plan_state(Org("firm", f), now) for f in firms]
    if not billing_on() or not firms:
        return Decision(True, "new_firm", states[0].plan if states else state_of(None, now).plan)
    best = max(states, key=lambda st: (_firm_room(st.plan) is None, _firm_room(st.plan) or 0, st.plan.order))
    room = _firm_room(best.plan)
    if room is None or len(firms) < room:
        return Decision(True, "new_firm", best.plan, state=best)
    needs = next(
        (
            p
            for p in plans.all_plans()
            if p.audience == "firm"
            and not p.grant_only
            and p.order > best.plan.order
            and (_firm_room(p) is None or len(firms) < (_firm_room(p) or 0))
        ),
        None,
    )
    from webapp.i18n import current_lang

    lang = current_lang()
    message = ngettext(
        "Your plan (%(mine)s) includes %(num)d firm per account, and you already own it: another firm "
        "needs the %(need)s plan. Your firm and its data stay as they are.",
        "Your plan (%(mine)s) includes %(num)d firms per account, and you already own them: another firm "
        "needs the %(need)s plan. Your firms and their data stay as they are.",
        room,
        mine=best.plan.title(lang),
        need=needs.title(lang) if needs else "—",
    )
    return Decision(False, "new_firm", best.plan, needs, message, best)


def require_new_firm(user_id: int) -> Decision:
    decision = allowed_new_firm(user_id)
    if not decision:
        raise PaymentRequired(decision)
    return decision


def allowed_new_client(consultancy_id: int, *, now: dt.datetime | None = None) -> Decision:
    """May the consultancy create one more client firm? The Consultant plan is priced per client firm
    and has no bound on their number (`firms: null`); a plan with a bound counts the firms that grant
    the consultancy access now. Billing off: no bound."""
    now = now or utcnow()
    state = plan_state(Org("consultancy", consultancy_id), now)
    room = _firm_room(state.plan)
    if not billing_on() or room is None:
        return Decision(True, "new_client", state.plan, state=state)
    clients = db.session.scalar(
        select(func.count())
        .select_from(ConsultancyGrant)
        .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
    )
    if int(clients or 0) < room:
        return Decision(True, "new_client", state.plan, state=state)
    needs = next(
        (
            p
            for p in plans.all_plans()
            if p.audience == "consultancy" and not p.grant_only and _firm_room(p) is None
        ),
        None,
    )
    from webapp.i18n import current_lang

    lang = current_lang()
    message = ngettext(
        "Your plan (%(mine)s) includes %(num)d client firm: another client firm needs the %(need)s plan. "
        "Your clients and their data stay as they are.",
        "Your plan (%(mine)s) includes %(num)d client firms: another client firm needs the %(need)s plan. "
        "Your clients and their data stay as they are.",
        room,
        mine=state.plan.title(lang),
        need=needs.title(lang) if needs else "—",
    )
    return Decision(False, "new_client", state.plan, needs, message, state)


def require_new_client(consultancy_id: int) -> Decision:
    decision = allowed_new_client(consultancy_id)
    if not decision:
        raise PaymentRequired(decision)
    return decision


class PaymentRequired(HTTPException):
    """A gated action: 402, a page (or the API's JSON) naming the plan that unlocks it."""

    code = 402

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.message)
        self.decision = decision


def require(org: Org, action: str, **ctx: object) -> Decision:
    """`allowed`, or raise `PaymentRequired` (answered by `webapp.billing.init_app`'s handler)."""
    decision = allowed(org, action, **ctx)
    if not decision:
        raise PaymentRequired(decision)
    return decision


def require_firm(firm_id: int, action: str, **ctx: object) -> Decision:
    return require(Org("firm", firm_id), action, **ctx)


def allowed_firm(firm_id: int, action: str, **ctx: object) -> Decision:
    return allowed(Org("firm", firm_id), action, **ctx)
