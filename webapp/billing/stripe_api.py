"""The calls QReady makes to Stripe: the customer, Checkout, the Customer Portal, the invoice list.

One `stripe.StripeClient` per app, in `app.extensions["stripe"]` (made by `webapp.billing.init_app`
when billing is on), with a pinned API version and the API address from the config; never the global
`stripe.api_key`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app

from webapp.billing import plans
from webapp.billing.plans import Plan
from webapp.billing.services import Org
from webapp.models import BillingAccount

SUBSCRIPTION_METHODS = ("card", "alipay")  # Stripe offers WeChat Pay for single payments only
PREPAID_METHODS = ("wechat_pay", "alipay")


def make_client(config: Any) -> stripe.StripeClient:
    base = str(config.get("STRIPE_API_BASE") or "https://api.stripe.com").rstrip("/")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        stripe_version=config["STRIPE_API_VERSION"],
        base_addresses={"api": base},
        max_network_retries=1,
    )


def client() -> stripe.StripeClient:
    c = current_app.extensions.get("stripe")
    if c is None:
        raise RuntimeError("billing is off: no Stripe client")
    return c  # type: ignore[no-any-return]


def enabled_methods(allowed: tuple[str, ...]) -> list[str]:
    methods = current_app.config.get("STRIPE_PAYMENT_METHODS") or ("card",)
    return [m for m in allowed if m in methods]


def price_id(plan: Plan, interval: str) -> str | None:
    value = current_app.config.get(plans.config_key(plan.id, interval))
    return str(value) if value else None


def plan_of_price(price: str | None) -> tuple[str, str] | None:
    """(plan id, interval) of a Stripe Price id from the config."""
    if not price:
        return None
    for plan in plans.all_plans():
        for interval in plans.INTERVALS:
            if price_id(plan, interval) == price:
                return plan.id, interval
    return None


@dataclass(frozen=True)
class CustomerDetails:
    name: str  # 发票抬头, the invoice title: the name on Stripe's invoices
    org_name: str
    credit_code: str | None  # 统一社会信用代码 (firms)
    email: str | None
    lang: str


def _customer_params(org: Org, d: CustomerDetails) -> dict[str, Any]:
    metadata = {"org": org.key, "org_name": d.org_name, "invoice_title": d.name}
    if d.credit_code:
        metadata["credit_code"] = d.credit_code
    params: dict[str, Any] = {
        "name": d.name,
        "metadata": metadata,
        "preferred_locales": ["zh-CN" if d.lang == "zh" else "en"],
    }
    if d.email:
        params["email"] = d.email
    return params


def ensure_customer(acct: BillingAccount, org: Org, d: CustomerDetails) -> str:
    """The account's Stripe customer, made or brought up to date (name = invoice title, credit code in
    the metadata and as its Chinese tax id)."""
    params = _customer_params(org, d)
    if acct.stripe_customer_id:
        client().v1.customers.update(acct.stripe_customer_id, params)
        return acct.stripe_customer_id
    if d.credit_code:
        params["tax_id_data"] = [{"type": "cn_tin", "value": d.credit_code}]
    customer = client().v1.customers.create(
        params, {"idempotency_key": f"qready-customer-{org.key}-{acct.id}"}
    )
    acct.stripe_customer_id = customer.id
    return str(customer.id)


def checkout_url(
    *,
    org: Org,
    customer_id: str,
    plan: Plan,
    interval: str,
    quantity: int,
    prepaid: bool,
    success_url: str,
    cancel_url: str,
    lang: str,
) -> str:
    """A Stripe Checkout session: a subscription (card, Alipay where enabled), or one period paid in
    advance (`prepaid`: WeChat Pay, Alipay where enabled). Returns the page to send the buyer to."""
    metadata = {"org": org.key, "plan": plan.id, "interval": interval}
    params: dict[str, Any] = {
        "customer": customer_id,
        "client_reference_id": org.key,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "zh" if lang == "zh" else "en",
    }
    if prepaid:
        methods = enabled_methods(PREPAID_METHODS)
        params.update(
            mode="payment",
            line_items=[
                {
                    "price_data": {
                        "currency": plans.currency().lower(),
                        "unit_amount": plan.prices[interval] * 100,
                        "product_data": {"name": f"QReady {plan.title(lang)} ({interval})"},
                    },
                    "quantity": quantity,
                }
            ],
            payment_method_types=methods,
            metadata={**metadata, "prepaid": "1"},
            payment_intent_data={"metadata": {**metadata, "prepaid": "1"}},
            invoice_creation={"enabled": True, "invoice_data": {"metadata": metadata}},
        )
        if "wechat_pay" in methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    else:
        price = price_id(plan, interval)
        if price is None:
            raise LookupError(f"no Stripe Price configured: {plans.config_key(plan.id, interval)}")
        params.update(
            mode="subscription",
            line_items=[{"price": price, "quantity": quantity}],
            payment_method_types=enabled_methods(SUBSCRIPTION_METHODS) or ["card"],
            metadata=metadata,
            subscription_data={"metadata": metadata},
        )
    session = client().v1.checkout.sessions.create(params)
    return str(session.url)


def portal_url(customer_id: str, return_url: str, lang: str) -> str:
    session = client().v1.billing_portal.sessions.create(
        {"customer": customer_id, "return_url": return_url, "locale": "zh" if lang == "zh" else "en"}
    )
    return str(session.url)


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    created: dt.datetime
    amount: int  # in fen (分)
    currency: str
    status: str
    url: str | None  # Stripe's page of the invoice, with its receipt
    pdf: str | None


def invoices(customer_id: str, limit: int = 24) -> list[InvoiceRow]:
    result = client().v1.invoices.list({"customer": customer_id, "limit": limit})
    rows = []
    for inv in result.data:
        rows.append(
            InvoiceRow(
                number=str(inv.get("number") or inv.get("id")),
                created=dt.datetime.fromtimestamp(int(inv.get("created") or 0), dt.UTC),
                amount=int(inv.get("amount_paid") or inv.get("amount_due") or 0),
                currency=str(inv.get("currency") or "cny").upper(),
                status=str(inv.get("status") or ""),
                url=inv.get("hosted_invoice_url"),
                pdf=inv.get("invoice_pdf"),
            )
        )
    return rows
