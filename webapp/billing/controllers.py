"""Billing pages: pricing (public), the organisation's plan and invoices, Checkout, the Customer Portal,
the Stripe webhook, and the platform admin's view of every organisation's plan."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp import access, db, security, tenancy
from webapp.billing import plans, services, stripe_api, webhooks
from webapp.billing.services import Org
from webapp.i18n import current_lang
from webapp.models import Consultancy, ConsultancyGrant, Firm, Regulator, StripeEvent, User

log = logging.getLogger(__name__)

# Stripe's subscription and invoice states, as the pages name them
STATUS_LABELS = {
    "none": _l("no subscription"),
    "active": _l("active"),
    "trialing": _l("trial"),
    "past_due": _l("payment overdue"),
    "unpaid": _l("unpaid"),
    "canceled": _l("canceled"),
    "incomplete": _l("incomplete"),
    "incomplete_expired": _l("expired before payment"),
    "paused": _l("paused"),
    "prepaid": _l("paid in advance"),
    "paid": _l("paid"),
    "open": lazy_pgettext("invoice", "open"),
    "draft": _l("draft"),
    "void": _l("void"),
    "uncollectible": _l("uncollectible"),
}

MAX_REASON = 500
MAX_TITLE = 200


def _active() -> Org | None:
    org = access.active_org()
    return Org(org.kind, org.id) if org is not None else None


def _org_name(org: Org) -> str:
    model = {"firm": Firm, "consultancy": Consultancy, "regulator": Regulator}[org.kind]
    row = db.session.get(model, org.id)
    return str(row.name) if row is not None else org.key


@access.public
def pricing() -> ResponseReturnValue:
    """What each plan costs (CNY, monthly and yearly) and unlocks, in the reader's language."""
    org = _active() if current_user.is_authenticated else None
    current = services.plan_state(org).plan.id if org is not None else None
    return render_template(
        "billing/pricing.html",
        plans=plans.all_plans(),
        currency=plans.currency(),
        current=current,
        org_kind=org.kind if org is not None else None,
        can_buy=org is not None and _manages(org) and services.billing_on(),
        billing_on=services.billing_on(),
        lang=current_lang(),
    )


def _quantity(org: Org) -> int:
    """Client firms, for the Consultant plan's price per client firm (at least one)."""
    if org.kind != "consultancy":
        return 1
    n = db.session.scalar(
        select(func.count())
        .select_from(ConsultancyGrant)
        .where(ConsultancyGrant.consultancy_id == org.id, ConsultancyGrant.revoked_at.is_(None))
    )
    return max(1, int(n or 0))


def _page(org: Org, **args: Any) -> str:
    if org.kind == "firm":
        return url_for(".firm_settings", firm_id=org.id, **args)
    if org.kind == "consultancy":
        return url_for(".consultancy_settings", **args)
    return url_for(".regulator_settings", **args)


@access.authed
def settings() -> ResponseReturnValue:
    """The active organisation's billing page."""
    org = _active()
    if org is None:
        return redirect(url_for("core.home"))
    return redirect(_page(org))


def _manages(org: Org) -> bool:
    """Owners of a firm or a consultancy buy and change plans; a regulator's plan is granted."""
    if org.kind == "firm":
        return access.firm_role(org.id) == "owner"
    active = access.active_org()
    return (
        org.kind == "consultancy"
        and active is not None
        and (active.kind, active.id, active.role) == ("consultancy", org.id, "owner")
    )


def _settings(org: Org) -> ResponseReturnValue:
    """The organisation's plan, its subscription, its invoices and receipts."""
    acct = services.account(org)
    state = services.state_of(acct) if services.billing_on() else services.plan_state(org)
    can_manage = _manages(org)
    invoices: list[stripe_api.InvoiceRow] = []
    invoices_failed = False
    if services.billing_on() and acct is not None and acct.stripe_customer_id and can_manage:
        try:
            invoices = stripe_api.invoices(acct.stripe_customer_id)
        except stripe.StripeError as exc:
            log.warning("stripe invoice list failed: %s", exc)
            invoices_failed = True
    firm = db.session.get(Firm, org.id) if org.kind == "firm" else None
    buyable = [p for p in plans.all_plans() if p.paid and p.audience == org.kind]
    prefix = (
        url_for(".firm_settings", firm_id=org.id) if org.kind == "firm" else url_for(".consultancy_settings")
    )
    page = render_template(
        "billing/settings.html",
        org=org,
        org_name=_org_name(org),
        state=state,
        acct=acct,
        firm=firm,
        invoice_title=(acct.invoice_title if acct and acct.invoice_title else _org_name(org)),
        invoices=invoices,
        invoices_failed=invoices_failed,
        can_manage=can_manage,
        billing_on=services.billing_on(),
        buyable=buyable,
        quantity=_quantity(org),
        prepaid_methods=stripe_api.enabled_methods(stripe_api.PREPAID_METHODS),
        subscription_methods=stripe_api.enabled_methods(stripe_api.SUBSCRIPTION_METHODS) or ["card"],
        prices_missing=[p.id for p in buyable for i in plans.INTERVALS if not stripe_api.price_id(p, i)],
        actions={name: f"{prefix}/{name}" for name in ("checkout", "portal", "invoice-title")},
        checkout=request.args.get("checkout"),
        lang=current_lang(),
        changes=services.changes(org, limit=20),
    )
    response = make_response(page)
    # its forms lead to Stripe Checkout and the Customer Portal: a browser follows a form's redirect
    # only to the origins of the page's CSP form-action
    origins = " ".join(current_app.config.get("STRIPE_CHECKOUT_ORIGINS") or ())
    response.headers["Content-Security-Policy"] = security.POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origins}".rstrip()
    )
    return response


def _invoice_title(org: Org) -> ResponseReturnValue:
    """The invoice title (发票抬头) Stripe prints on invoices; the organisation's name until changed."""
    title = " ".join((request.form.get("invoice_title") or "").split())
    if not title or len(title) > MAX_TITLE:
        flash(_("Enter the invoice title (at most %(n)d characters).", n=MAX_TITLE), "error")
        return redirect(_page(org), 303)
    acct = services.account_for_update(org)
    acct.invoice_title = title
    if services.billing_on() and acct.stripe_customer_id:
        try:
            stripe_api.ensure_customer(acct, org, _details(org, acct))
        except stripe.StripeError as exc:
            log.warning("stripe customer update failed: %s", exc)
            flash(_("Saved here; Stripe could not be reached, so the next checkout will send it."), "ok")
            return redirect(_page(org), 303)
    flash(_("Invoice title saved."), "ok")
    return redirect(_page(org), 303)


def _details(org: Org, acct: Any) -> stripe_api.CustomerDetails:
    name = _org_name(org)
    firm = db.session.get(Firm, org.id) if org.kind == "firm" else None
    return stripe_api.CustomerDetails(
        name=acct.invoice_title or name,
        org_name=name,
        credit_code=firm.credit_code if firm is not None else None,
        email=current_user.email,
        lang=current_lang(),
    )


def _stripe_failed(org: Org, exc: Exception) -> ResponseReturnValue:
    log.warning("stripe call failed: %s", exc)
    flash(_("Stripe could not be reached, so nothing was charged. Please try again in a minute."), "error")
    return redirect(_page(org), 303)


def _checkout(org: Org) -> ResponseReturnValue:
    """Send the owner to Stripe Checkout for the chosen plan and interval."""
    if not services.billing_on():
        flash(_("Billing is off on this installation: there is nothing to buy."), "error")
        return redirect(_page(org), 303)
    plan_id, interval = request.form.get("plan"), request.form.get("interval")
    plan = plans.get(plan_id)
    if plan.id != plan_id or not plan.paid or plan.audience != org.kind or interval not in plan.prices:
        abort(400)
    prepaid = request.form.get("method") == "prepaid"
    if prepaid and not stripe_api.enabled_methods(stripe_api.PREPAID_METHODS):
        abort(400)
    if not prepaid and stripe_api.price_id(plan, interval) is None:
        flash(_("This plan cannot be bought yet: its Stripe price is not configured."), "error")
        return redirect(_page(org), 303)
    acct = services.account_for_update(org)
    try:
        customer_id = stripe_api.ensure_customer(acct, org, _details(org, acct))
        url = stripe_api.checkout_url(
            org=org,
            customer_id=customer_id,
            plan=plan,
            interval=interval,
            quantity=_quantity(org),
            prepaid=prepaid,
            success_url=_page(org, checkout="done", _external=True),
            cancel_url=_page(org, checkout="canceled", _external=True),
            lang=current_lang(),
        )
    except stripe.StripeError as exc:
        return _stripe_failed(org, exc)
    return redirect(url, 303)


def _portal(org: Org) -> ResponseReturnValue:
    """Stripe's Customer Portal: change the plan or the payment method, cancel."""
    acct = services.account(org) if services.billing_on() else None
    if acct is None or not acct.stripe_customer_id:
        abort(409)  # nothing bought yet
    try:
        url = stripe_api.portal_url(acct.stripe_customer_id, _page(org, _external=True), current_lang())
    except stripe.StripeError as exc:
        return _stripe_failed(org, exc)
    return redirect(url, 303)


# A firm's billing (its owner manages, its members read) ...
@access.firm("viewer")
def firm_settings(firm_id: int) -> ResponseReturnValue:
    return _settings(Org("firm", firm_id))


@access.firm("owner")
def firm_checkout(firm_id: int) -> ResponseReturnValue:
    return _checkout(Org("firm", firm_id))


@access.firm("owner")
def firm_portal(firm_id: int) -> ResponseReturnValue:
    return _portal(Org("firm", firm_id))


@access.firm("owner")
def firm_invoice_title(firm_id: int) -> ResponseReturnValue:
    return _invoice_title(Org("firm", firm_id))


# ... the active consultancy's (its owner manages) ...
def _consultancy_org() -> Org:
    org = access.active_org()
    assert org is not None and org.kind == "consultancy"  # the access rule admitted it
    return Org("consultancy", org.id)


@access.org_kind("consultancy")
def consultancy_settings() -> ResponseReturnValue:
    return _settings(_consultancy_org())


@access.org_kind("consultancy", ("owner",))
def consultancy_checkout() -> ResponseReturnValue:
    return _checkout(_consultancy_org())


@access.org_kind("consultancy", ("owner",))
def consultancy_portal() -> ResponseReturnValue:
    return _portal(_consultancy_org())


@access.org_kind("consultancy", ("owner",))
def consultancy_invoice_title() -> ResponseReturnValue:
    return _invoice_title(_consultancy_org())


# ... and the active regulator's: granted by a platform admin, read here.
@access.org_kind("regulator")
def regulator_settings() -> ResponseReturnValue:
    org = access.active_org()
    assert org is not None
    return _settings(Org("regulator", org.id))


@access.public
def webhook() -> ResponseReturnValue:
    """Stripe's events. The signature is checked on the raw body; a bad or stale one is a 400 and
    changes nothing. There is no other way in: never a fallback to unverified JSON."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    signature = request.headers.get("Stripe-Signature")
    payload = request.get_data()
    if not services.billing_on() or not secret or not signature:
        return {"error": "signature required"}, 400
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError):
        return {"error": "bad signature"}, 400
    event = json.loads(payload)  # the bytes just verified
    if not isinstance(event, dict) or not {"id", "type", "created"} <= set(event):
        return {"error": "not an event"}, 400
    try:
        result = webhooks.process(event)
    except IntegrityError:
        # the same event delivered twice at once (the other delivery applied it), or two events made
        # the organisation's account at once: then this one is not applied, and Stripe sends it again
        db.session.rollback()
        if db.session.get(StripeEvent, str(event["id"])) is None:
            return {"error": "try again"}, 503
        result = "duplicate"
    return {"received": True, "result": result}, 200


# ---- platform admin --------------------------------------------------------------------------------


def _all_orgs() -> list[dict[str, Any]]:
    with tenancy.bypass():
        firms = db.session.execute(
            select(Firm.id, Firm.name).where(Firm.synthetic.is_(False)).order_by(Firm.name)
        ).all()
    rows = [("firm", f.id, f.name) for f in firms]
    rows += [
        ("consultancy", c.id, c.name) for c in db.session.execute(select(Consultancy.id, Consultancy.name))
    ]
    rows += [("regulator", r.id, r.name) for r in db.session.execute(select(Regulator.id, Regulator.name))]
    accounts = services.accounts_by_org()
    out = []
    for kind, id_, name in rows:
        org = Org(kind, id_)
        acct = accounts.get(org.key)
        out.append({"org": org, "name": name, "acct": acct, "state": services.state_of(acct)})
    return out


@access.admin
def admin() -> ResponseReturnValue:
    """Every organisation's plan and subscription state; grants by hand; the audit trail."""
    return _admin_page()


def _admin_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    changes = services.changes(limit=100)
    actors = {
        u.id: u.name
        for u in db.session.scalars(
            select(User).where(User.id.in_({c.actor_id for c in changes if c.actor_id}))
        )
    }
    orgs = _all_orgs()
    names = {r["org"].key: r["name"] for r in orgs}
    return (
        render_template(
            "billing/admin.html",
            orgs=orgs,
            plans=plans.all_plans(),
            changes=changes,
            actors=actors,
            names=names,
            billing_on=services.billing_on(),
            default_plan=plans.get(current_app.config["BILLING_DEFAULT_PLAN"]),
            error=error,
            lang=current_lang(),
        ),
        status,
    )


@access.admin
def admin_grant() -> ResponseReturnValue:
    """Grant a plan by hand (or take a grant back, plan "-") with a reason kept in the audit trail."""
    org = Org.parse(request.form.get("org"))
    plan_id = request.form.get("plan") or ""
    reason = " ".join((request.form.get("reason") or "").split())
    if org is None or (plan_id != "-" and plan_id not in plans.ids()):
        abort(400)
    model = {"firm": Firm, "consultancy": Consultancy, "regulator": Regulator}[org.kind]
    with tenancy.bypass():
        exists = db.session.get(model, org.id) is not None
    if not exists:
        abort(404)
    if not reason or len(reason) > MAX_REASON:
        return _admin_page(
            _("Give a reason (at most %(n)d characters): it is kept in the audit trail.", n=MAX_REASON), 422
        )
    with tenancy.bypass():
        services.grant(org, None if plan_id == "-" else plan_id, reason, current_user.id)
    flash(_("Plan changed for %(name)s.", name=_org_name_bypass(org)), "ok")
    return redirect(url_for(".admin"), 303)


def _org_name_bypass(org: Org) -> str:
    with tenancy.bypass():
        return _org_name(org)


def banner() -> dict[str, Any] | None:
    """The active organisation's payment banner: a failed payment's grace period, or the downgrade."""
    if not services.billing_on():
        return None
    org = _active()
    if org is None:
        return None
    cached = g.get("_billing_banner")
    if cached is not None:
        return cached or None
    state = services.plan_state(org)
    out: dict[str, Any] = {}
    if state.downgraded_from is not None:
        out = {"kind": "downgraded", "plan": state.downgraded_from, "until": state.grace_until}
    elif state.in_grace:
        out = {"kind": "grace", "plan": state.plan, "until": state.grace_until}
    g._billing_banner = out
    return out or None
