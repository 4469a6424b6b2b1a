"""Billing: plans, entitlements (pages, API, jobs), Checkout / Portal / customer calls against a fake
Stripe on loopback, the signed webhook (valid, wrong secret, stale, replayed, out of order, unknown),
the grace period and the downgrade, the admin's grants and their audit trail."""

from __future__ import annotations

import datetime as dt
import json
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests import fake_stripe
from webapp import config, create_app, db, tenancy
from webapp.billing import entitlements, plans, services
from webapp.billing.services import Org
from webapp.billing.stripe_api import make_client
from webapp.models import (
    Assessment,
    BillingAccount,
    Consultancy,
    ConsultancyGrant,
    Membership,
    PlanChange,
    StripeEvent,
)
from webapp.reports import sample
from webapp.reports import services as report_services

SECRET = "whsec_test_0123456789"
PRICES = {
    "STRIPE_PRICE_FIRM_PRO_MONTHLY": "price_pro_m",
    "STRIPE_PRICE_FIRM_PRO_YEARLY": "price_pro_y",
    "STRIPE_PRICE_CONSULTANT_MONTHLY": "price_con_m",
    "STRIPE_PRICE_CONSULTANT_YEARLY": "price_con_y",
}


@pytest.fixture(scope="module")
def fake_server():
    fake, server = fake_stripe.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def stripe_on(app, dbconn, fake_server, monkeypatch, tmp_path):
    """Billing on: a Stripe key, the webhook secret, prices, and the client pointed at the fake."""
    fake_server.requests.clear()
    fake_server.invoices.clear()
    fake_server.fail = False
    settings = {
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": fake_server.base,
        "REPORT_CACHE_DIR": str(tmp_path / "report-cache"),
        **PRICES,
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "stripe", make_client(app.config))
    monkeypatch.setattr(
        report_services, "render_pdf", lambda html, assets: SimpleNamespace(pdf=b"%PDF-1.7 fake")
    )
    return fake_server


@pytest.fixture
def firm_world(app, owner_client):
    """A firm (its owner signed in) with one submitted assessment, started today."""
    client, firm, owner = owner_client
    with app.app_context(), tenancy.bypass():
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        db.session.commit()
        aid = a.id
    return SimpleNamespace(client=client, firm=firm, owner=owner, aid=aid, org=Org("firm", firm.id))


def set_plan(app, org: Org, plan_id: str | None, actor_id: int, reason: str = "test") -> None:
    with app.app_context(), tenancy.bypass():
        services.grant(org, plan_id, reason, actor_id)
        db.session.commit()


def post_event(client, event_type, obj, *, event_id, created=None, secret=SECRET, signed_at=None):
    created = int(time.time()) if created is None else created
    body = fake_stripe.event(event_type, obj, event_id=event_id, created=created)
    return client.post(
        "/billing/webhook",
        data=body,
        headers={
            "Stripe-Signature": fake_stripe.sign(body, secret, signed_at),
            "Content-Type": "application/json",
        },
    )


def account(app, org: Org) -> BillingAccount | None:
    with app.app_context():
        return services.account(org)


def plan_now(app, org: Org) -> str:
    with app.test_request_context():
        return services.plan_state(org).plan.id


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def urls(w) -> dict[str, str]:
    base = f"/firms/{w.firm.id}/assessments/{w.aid}"
    return {
        "report": base + "/report",
        "pdf": base + "/report.pdf",
        "confirm_round": base + "/rounds/new",
        "round": base + "/rounds",
    }


# ---- plans and the pricing page --------------------------------------------------------------------


def test_plans_are_data_with_prices_in_cny():
    ids = plans.ids()
    assert ids == ["free", "firm_pro", "consultant", "regulator"]
    assert plans.currency() == "CNY"
    assert plans.get("firm_pro").prices == {"monthly": 299, "yearly": 2990}
    assert plans.get("consultant").per == "client_firm"
    assert plans.get("regulator").grant_only and not plans.get("regulator").paid
    assert plans.get("free").limits["rounds_per_framework_per_year"] == 1
    assert plans.get("no-such-plan").id == "free"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "zh",
            [
                "免费版",
                "企业专业版",
                "咨询机构版",
                "监管机构版",
                "PDF 改进报告下载",
                "¥299",
                "按客户企业计价",
            ],
        ),
        (
            "en",
            [
                "Free",
                "Firm Pro",
                "Consultant",
                "Regulator",
                "PDF reports to download",
                "¥299",
                "per client firm",
            ],
        ),
    ],
)
def test_pricing_page_says_what_each_plan_unlocks(client, lang, words):
    r = client.get("/pricing", headers={"Accept-Language": lang})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    for w in words:
        assert w in page, w
    assert "¥2,990" in page


# ---- billing off ------------------------------------------------------------------------------------


def test_billing_off_everyone_has_the_default_plan_and_the_admin_page_says_so(
    app, client, dbconn, create_user, login
):
    assert "stripe" not in app.extensions
    with app.test_request_context():
        assert services.plan_state(Org("firm", 1)).plan.id == "consultant"
        assert entitlements.allowed(Org("firm", 1), "pdf_report")
        assert entitlements.allowed(Org("consultancy", 1), "bulk_reports")
    admin = create_user(admin=True, locale="en")
    login(client, admin)
    page = client.get("/admin/billing").get_data(as_text=True)
    assert "Billing is off" in page and "Consultant" in page
    assert "Billing is off" in client.get("/admin/").get_data(as_text=True)
    assert client.post("/billing/webhook", data=b"{}").status_code == 400


def test_a_stripe_key_without_the_webhook_secret_refuses_to_start(tmp_path):
    with pytest.raises(config.ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        config.load(str(tmp_path), {"SECRET_KEY": "x", "STRIPE_SECRET_KEY": "sk_test_x"})
    with pytest.raises(config.ConfigError, match="BILLING_DEFAULT_PLAN"):
        config.load(str(tmp_path), {"SECRET_KEY": "x", "BILLING_DEFAULT_PLAN": "gold"})


def test_one_stripe_client_per_app_with_a_pinned_version(tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": "http://127.0.0.1:9",
        }
    )
    client = app.extensions["stripe"]
    assert client._requestor._options.stripe_version == "2025-09-30.clover"
    assert client._requestor.base_addresses["api"] == "http://127.0.0.1:9"
    import stripe

    assert stripe.api_key is None


# ---- Checkout, the portal, the customer, invoices -----------------------------------------------------


def test_checkout_sends_the_subscription_and_the_firms_invoice_details(app, stripe_on, firm_world):
    c = firm_world.client
    r = c.post(
        f"/firms/{firm_world.firm.id}/billing/checkout",
        data={"plan": "firm_pro", "interval": "yearly", "method": "subscription"},
    )
    assert r.status_code == 303
    assert r.headers["Location"] == f"{stripe_on.base}/pay/cs_test_1"
    (customer,) = stripe_on.calls("POST", "/v1/customers")
    assert customer.headers["authorization"] == "Bearer sk_test_fake"
    assert customer.headers["stripe-version"] == "2025-09-30.clover"
    assert customer.one("name") == firm_world.firm.name  # the invoice title: the firm's name by default
    assert customer.one("metadata[credit_code]") == firm_world.firm.credit_code
    assert customer.one("metadata[org]") == f"firm:{firm_world.firm.id}"
    assert customer.one("tax_id_data[0][type]") == "cn_tin"
    assert customer.one("tax_id_data[0][value]") == firm_world.firm.credit_code
    assert customer.headers.get("idempotency-key")
    (session,) = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert session.one("mode") == "subscription"
    assert session.one("customer") == "cus_test_1"
    assert session.one("line_items[0][price]") == "price_pro_y"
    assert session.one("line_items[0][quantity]") == "1"
    assert session.form["payment_method_types[0]"] == ["card"]
    assert session.form["payment_method_types[1]"] == ["alipay"]
    assert "payment_method_types[2]" not in session.form  # WeChat Pay renews no subscription
    assert session.one("client_reference_id") == f"firm:{firm_world.firm.id}"
    assert session.one("metadata[plan]") == "firm_pro"
    assert session.one("subscription_data[metadata][org]") == f"firm:{firm_world.firm.id}"
    assert session.one("success_url").endswith(f"/firms/{firm_world.firm.id}/billing?checkout=done")
    assert account(app, firm_world.org).stripe_customer_id == "cus_test_1"


def test_wechat_pay_pays_a_period_in_advance(app, stripe_on, firm_world):
    r = firm_world.client.post(
        f"/firms/{firm_world.firm.id}/billing/checkout",
        data={"plan": "firm_pro", "interval": "monthly", "method": "prepaid"},
    )
    assert r.status_code == 303
    (session,) = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert session.one("mode") == "payment"
    assert session.form["payment_method_types[0]"] == ["wechat_pay"]
    assert session.form["payment_method_types[1]"] == ["alipay"]
    assert session.one("payment_method_options[wechat_pay][client]") == "web"
    assert session.one("line_items[0][price_data][currency]") == "cny"
    assert session.one("line_items[0][price_data][unit_amount]") == "29900"
    assert session.one("metadata[prepaid]") == "1"
    assert session.one("invoice_creation[enabled]") == "true"


def test_only_owners_buy_and_only_sold_plans(app, stripe_on, firm_world, client, create_user, login):
    c = firm_world.client
    for bad in (
        {"plan": "regulator", "interval": "yearly"},
        {"plan": "consultant", "interval": "yearly"},  # sold to consultancies
        {"plan": "firm_pro", "interval": "weekly"},
    ):
        assert c.post(f"/firms/{firm_world.firm.id}/billing/checkout", data=bad).status_code == 400
    assert stripe_on.calls("POST", "/v1/checkout/sessions") == []


def test_stripe_down_charges_nothing_and_says_so(app, stripe_on, firm_world):
    stripe_on.fail = True
    r = firm_world.client.post(
        f"/firms/{firm_world.firm.id}/billing/checkout",
        data={"plan": "firm_pro", "interval": "yearly"},
        follow_redirects=True,
    )
    assert "无法连接 Stripe，未扣任何费用" in r.get_data(as_text=True)


def test_portal_and_invoices_and_invoice_title(app, stripe_on, firm_world):
    c = firm_world.client
    c.post(f"/firms/{firm_world.firm.id}/billing/checkout", data={"plan": "firm_pro", "interval": "yearly"})
    csp = c.get(f"/firms/{firm_world.firm.id}/billing").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com https://billing.stripe.com;" in csp
    assert "script-src 'self';" in csp  # the rest of the policy as everywhere
    r = c.post(f"/firms/{firm_world.firm.id}/billing/portal")
    assert r.status_code == 303 and r.headers["Location"] == f"{stripe_on.base}/portal/bps_1"
    (portal,) = stripe_on.calls("POST", "/v1/billing_portal/sessions")
    assert portal.one("customer") == "cus_test_1"
    assert portal.one("return_url").endswith(f"/firms/{firm_world.firm.id}/billing")
    stripe_on.invoices.append(
        {
            "id": "in_1",
            "object": "invoice",
            "number": "QR-0001",
            "created": 1764900000,
            "amount_paid": 299000,
            "currency": "cny",
            "status": "paid",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct/test_1",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct/test_1/pdf",
        }
    )
    page = c.get(f"/firms/{firm_world.firm.id}/billing").get_data(as_text=True)
    assert "QR-0001" in page and "¥2,990.00" in page and "https://invoice.stripe.com/i/acct/test_1" in page
    listed = stripe_on.calls("GET", "/v1/invoices")[-1]
    assert listed.one("customer") == "cus_test_1"
    r = c.post(
        f"/firms/{firm_world.firm.id}/billing/invoice-title",
        data={"invoice_title": "杭州测试机械有限公司(开票)"},
    )
    assert r.status_code == 303
    (update,) = stripe_on.calls("POST", "/v1/customers/cus_test_1")
    assert update.one("name") == "杭州测试机械有限公司(开票)"
    assert update.one("metadata[invoice_title]") == "杭州测试机械有限公司(开票)"
    assert update.one("metadata[credit_code]") == firm_world.firm.credit_code


# ---- the webhook ------------------------------------------------------------------------------------


def sub(
    firm_id: int, status: str = "active", *, sub_id: str = "sub_1", price: str = "price_pro_y", end: int = 0
):
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": "cus_test_1",
        "status": status,
        "cancel_at_period_end": False,
        "metadata": {"org": f"firm:{firm_id}", "plan": "firm_pro", "interval": "yearly"},
        "items": {
            "data": [
                {
                    "price": {"id": price},
                    "quantity": 1,
                    "current_period_end": end or int(time.time()) + 365 * 86400,
                }
            ]
        },
    }


def test_a_signed_checkout_event_unlocks_the_plan_once(app, stripe_on, firm_world):
    c, org = firm_world.client, firm_world.org
    assert c.get(urls(firm_world)["pdf"]).status_code == 402
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "payment_status": "paid",
        "customer": "cus_test_1",
        "subscription": "sub_1",
        "client_reference_id": org.key,
        "metadata": {"org": org.key, "plan": "firm_pro", "interval": "yearly"},
    }
    r = post_event(c, "checkout.session.completed", session, event_id="evt_1")
    assert r.status_code == 200 and r.json["result"] == "applied"
    assert plan_now(app, org) == "firm_pro"
    assert c.get(urls(firm_world)["pdf"]).status_code == 200
    r = post_event(c, "checkout.session.completed", session, event_id="evt_1")
    assert r.json["result"] == "duplicate"
    assert count(app, StripeEvent) == 1
    with app.app_context():
        (change,) = services.changes(org)
        assert (change.old_plan, change.new_plan, change.stripe_event_id) == ("free", "firm_pro", "evt_1")


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "stale", "unsigned", "garbled signature", "body changed"],
)
def test_a_bad_or_stale_signature_is_400_and_changes_nothing(app, stripe_on, firm_world, how):
    c, org = firm_world.client, firm_world.org
    body = fake_stripe.event(
        "customer.subscription.created", sub(org.id), event_id="evt_bad", created=int(time.time())
    )
    header = fake_stripe.sign(body, SECRET)
    if how == "wrong secret":
        header = fake_stripe.sign(body, "whsec_someone_else")
    elif how == "stale":
        header = fake_stripe.sign(body, SECRET, int(time.time()) - 600)
    elif how == "garbled signature":
        header = "t=1,v1=zzz"
    elif how == "body changed":
        body = body.replace(b'"active"', b'"trialing"')
    headers = {"Content-Type": "application/json"}
    if how != "unsigned":
        headers["Stripe-Signature"] = header
    r = c.post("/billing/webhook", data=body, headers=headers)
    assert r.status_code == 400
    assert count(app, StripeEvent) == 0
    assert account(app, org) is None
    assert plan_now(app, org) == "free"


def test_a_replay_changes_nothing_even_later(app, stripe_on, firm_world):
    c, org = firm_world.client, firm_world.org
    now = int(time.time())
    assert (
        post_event(
            c, "customer.subscription.created", sub(org.id), event_id="evt_a", created=now - 100
        ).status_code
        == 200
    )
    post_event(
        c, "customer.subscription.deleted", sub(org.id, "canceled"), event_id="evt_b", created=now - 50
    )
    assert plan_now(app, org) == "free"
    post_event(
        c, "customer.subscription.created", sub(org.id, sub_id="sub_2"), event_id="evt_c", created=now - 10
    )
    assert plan_now(app, org) == "firm_pro"
    # the cancellation of the old subscription, sent again: recorded once, nothing changes
    r = post_event(
        c, "customer.subscription.deleted", sub(org.id, "canceled"), event_id="evt_b", created=now - 50
    )
    assert r.status_code == 200 and r.json["result"] == "duplicate"
    assert plan_now(app, org) == "firm_pro"
    assert account(app, org).stripe_subscription_id == "sub_2"


def test_events_out_of_order_never_let_an_older_state_win(app, stripe_on, firm_world):
    c, org = firm_world.client, firm_world.org
    now = int(time.time())
    post_event(c, "customer.subscription.updated", sub(org.id, "active"), event_id="evt_new", created=now)
    assert plan_now(app, org) == "firm_pro"
    # created earlier, delivered later: a canceled state, then a failed payment
    r = post_event(
        c, "customer.subscription.updated", sub(org.id, "canceled"), event_id="evt_old", created=now - 30
    )
    assert r.status_code == 200
    post_event(
        c,
        "invoice.payment_failed",
        {"id": "in_x", "customer": "cus_test_1"},
        event_id="evt_older",
        created=now - 60,
    )
    acct = account(app, org)
    assert acct.status == "active" and acct.grace_until is None
    assert plan_now(app, org) == "firm_pro"
    assert count(app, StripeEvent) == 3  # recorded all the same


def test_an_unknown_event_type_is_recorded_and_changes_nothing(app, stripe_on, firm_world):
    c, org = firm_world.client, firm_world.org
    r = post_event(c, "customer.tax_id.created", {"id": "txi_1", "customer": "cus_test_1"}, event_id="evt_u")
    assert r.status_code == 200 and r.json["result"] == "ignored"
    assert count(app, StripeEvent) == 1 and account(app, org) is None


def test_a_failed_payment_gives_a_grace_period_then_a_downgrade_that_deletes_nothing(
    app, stripe_on, firm_world, monkeypatch
):
    c, org = firm_world.client, firm_world.org
    now = int(time.time())
    post_event(c, "customer.subscription.created", sub(org.id), event_id="evt_1", created=now - 100)
    post_event(
        c,
        "invoice.payment_failed",
        {"id": "in_1", "customer": "cus_test_1"},
        event_id="evt_2",
        created=now - 50,
    )
    acct = account(app, org)
    assert acct.status == "past_due" and acct.grace_until is not None
    # in the grace period: the plan stays, a banner says until when
    assert plan_now(app, org) == "firm_pro"
    home = c.get(f"/firms/{org.id}/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "billing-banner" in home
    assert c.get(urls(firm_world)["pdf"]).status_code == 200
    # the grace period is over: Free, nothing deleted, the page says so
    with app.app_context():
        a = services.account(org)
        a.grace_until = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.session.commit()
    assert plan_now(app, org) == "free"
    assert c.get(urls(firm_world)["pdf"]).status_code == 402
    assert c.get(urls(firm_world)["report"]).status_code == 200  # the HTML report stays
    home = c.get(f"/firms/{org.id}/").get_data(as_text=True)
    assert "billing-banner" in home and ("Nothing was deleted" in home or "没有删除" in home)
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Assessment, firm_world.aid) is not None
    gated = c.get(urls(firm_world)["pdf"]).get_data(as_text=True)
    assert "billing-banner" in gated  # the refusal says why: the downgrade
    billing = c.get(f"/firms/{org.id}/billing").get_data(as_text=True)
    assert "/billing/portal" in billing and "/billing/checkout" not in billing  # pay the debt, not a 2nd plan
    # paid again: the plan is back
    post_event(c, "invoice.paid", {"id": "in_1", "customer": "cus_test_1"}, event_id="evt_3", created=now)
    assert plan_now(app, org) == "firm_pro"
    assert "billing-banner" not in c.get(f"/firms/{org.id}/").get_data(as_text=True)


def test_a_period_paid_with_wechat_pay_ends(app, stripe_on, firm_world):
    c, org = firm_world.client, firm_world.org
    session = {
        "id": "cs_2",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "customer": "cus_test_1",
        "metadata": {"org": org.key, "plan": "firm_pro", "interval": "monthly", "prepaid": "1"},
    }
    post_event(c, "checkout.session.completed", session, event_id="evt_p")
    assert plan_now(app, org) == "firm_pro"
    end = account(app, org).current_period_end
    assert dt.timedelta(days=30) < end - dt.datetime.now(dt.UTC) < dt.timedelta(days=32)
    with app.test_request_context():
        later = end + dt.timedelta(days=1)
        assert services.state_of(services.account(org), later).plan.id == "free"


# ---- entitlements: plan × action, pages and API ----------------------------------------------------


@pytest.fixture
def token_for(app, dbconn):
    from webapp.api import tokens as token_service
    from webapp.models import User

    def make(user):
        with app.app_context():
            _row, token = token_service.create(db.session.get(User, user.id), "test")
            db.session.commit()
            return token

    return make


@pytest.mark.parametrize("plan", ["free", "firm_pro", "consultant", "regulator", "via_consultancy"])
def test_entitlement_matrix_for_a_firm(app, stripe_on, firm_world, token_for, plan):
    c, org, owner = firm_world.client, firm_world.org, firm_world.owner
    if plan == "via_consultancy":  # a consultancy on the Consultant plan pays for its client firm
        with app.app_context(), tenancy.bypass():
            con = Consultancy(name="浙江卓越咨询", code="BILL01")
            db.session.add(con)
            db.session.flush()
            db.session.add(ConsultancyGrant(firm_id=org.id, consultancy_id=con.id))
            db.session.commit()
            con_id = con.id
        set_plan(app, Org("consultancy", con_id), "consultant", owner.id)
    elif plan != "free":
        set_plan(app, org, plan, owner.id)
    paid = plan != "free"
    u = urls(firm_world)
    token = token_for(owner)
    api = {"Authorization": f"Bearer {token}", "Accept-Language": "zh"}  # the owner reads Chinese

    # the PDF report: page and API
    r = c.get(u["pdf"])
    assert r.status_code == (200 if paid else 402)
    r_api = c.get(f"/api/v1/assessments/{firm_world.aid}/report?format=pdf", headers=api)
    assert r_api.status_code == (200 if paid else 402)
    if not paid:
        page = r.get_data(as_text=True)
        body = r_api.json["error"]
        assert body["code"] == "payment_required" and body["plan"] == "firm_pro"
        assert body["message"] in page  # the same message, in both
        assert "企业专业版" in body["message"] and "/pricing#plan-firm_pro" in page
        assert body["pricing_url"].endswith("/pricing#plan-firm_pro")
    assert c.get(f"/api/v1/assessments/{firm_world.aid}/report?format=html", headers=api).status_code == 200
    view = c.get(u["report"]).get_data(as_text=True)
    assert (u["pdf"] in view) == paid

    # a second round of the framework within a year: page and API
    assert c.get(u["confirm_round"]).status_code == (200 if paid else 402)
    r = c.post(
        f"/api/v1/firms/{org.id}/assessments",
        json={"framework": "chief-quality-officer", "mode": "default"},
        headers=api,
    )
    assert r.status_code == (201 if paid else 402)
    if not paid:
        assert r.json["error"]["code"] == "payment_required"
        assert c.post(u["round"], data={"confirm": "1"}).status_code == 402
        with app.app_context(), tenancy.bypass():
            assert (
                db.session.scalar(
                    select(func.count()).select_from(Assessment).where(Assessment.firm_id == org.id)
                )
                == 1
            )


def test_free_allows_a_round_a_year_and_a_first_round_of_another_framework(app, stripe_on, firm_world):
    org = firm_world.org
    with app.test_request_context():
        assert not entitlements.allowed(
            org, "new_round", framework_id="chief-quality-officer", mode="default"
        )
        assert entitlements.allowed(org, "new_round", framework_id="performance-excellence", mode="full")
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, firm_world.aid)
        a.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
        db.session.commit()
    with app.test_request_context():
        assert entitlements.allowed(org, "new_round", framework_id="chief-quality-officer", mode="default")


@pytest.fixture
def consultancy_world(app, client, create_user, login):
    user = create_user(locale="en")
    with app.app_context():
        con = Consultancy(name="杭州质量咨询", code="BILL02")
        db.session.add(con)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, consultancy_id=con.id, role="owner"))
        db.session.commit()
        con_id = con.id
    login(client, user)
    return SimpleNamespace(client=client, user=user, org=Org("consultancy", con_id))


@pytest.mark.parametrize("plan", ["free", "firm_pro", "consultant"])
def test_entitlement_matrix_for_a_consultancy(app, stripe_on, consultancy_world, plan):
    w = consultancy_world
    if plan != "free":
        set_plan(app, w.org, plan, w.user.id)
    r = w.client.get("/consultant/reports")
    allowed = plan == "consultant"
    assert r.status_code == (200 if allowed else 402)
    if not allowed:
        assert "Consultant" in r.get_data(as_text=True) and "/pricing#plan-consultant" in r.get_data(
            as_text=True
        )
    with app.test_request_context():
        assert bool(entitlements.allowed(w.org, "branded_reports")) == allowed
        preparer = report_services.preparer_for(None, "consultancy", w.org.id)
    assert preparer.consultancy_id == w.org.id


def _owned(app, user_id: int) -> int:
    with app.app_context():
        return len(entitlements.owned_firms(user_id))


@pytest.mark.parametrize("plan", ["free", "firm_pro", "consultant", "billing_off"])
def test_entitlement_matrix_for_a_second_firm(
    app, dbconn, owner_client, create_user, login, monkeypatch, plan
):
    """The Free plan includes one firm per account: a second one names the plan that unlocks it."""
    from tests.test_orgs import firm_form

    c, firm, owner = owner_client
    if plan == "billing_off":  # self-hosted: no limit, even with Free as the configured plan
        monkeypatch.setitem(app.config, "BILLING_DEFAULT_PLAN", "free")
    else:
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_fake")
        if plan != "free":
            set_plan(app, Org("firm", firm.id), plan, owner.id)
    allowed = plan != "free"
    page = c.get("/firms/new")  # the owner reads Chinese
    assert page.status_code == (200 if allowed else 402)
    r = c.post("/firms/new", data=firm_form())
    assert r.status_code == (302 if allowed else 402)
    assert _owned(app, owner.id) == (2 if allowed else 1)  # refused: nothing created
    if not allowed:
        for html in (page.get_data(as_text=True), r.get_data(as_text=True)):
            assert "您的套餐（免费版）每个账号包含 1 家企业" in html and "企业专业版" in html
            assert "/pricing#plan-firm_pro" in html
        with app.test_request_context(headers={"Accept-Language": "en"}):
            decision = entitlements.allowed_new_firm(owner.id)
        assert not decision and decision.needs is not None and decision.needs.id == "firm_pro"
        assert "Your plan (Free) includes 1 firm per account" in decision.message
        assert "needs the Firm Pro plan" in decision.message

    # a new account on Free may always create its first firm
    newcomer = app.test_client()
    login(newcomer, create_user(email=f"first-{plan}@example.cn"))
    assert newcomer.get("/firms/new").status_code == 200


def test_the_bulk_job_asks_too(app, stripe_on, consultancy_world):
    from webapp.reports import jobs

    w = consultancy_world
    req = jobs.BulkRequest(
        user_id=w.user.id, consultancy_id=w.org.id, assessment_ids=(1,), lang="en", kind="html"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        data, errors = jobs.build_zip(req)
    assert errors and "Bulk reports need the Consultant plan" in errors[0]
    import io
    import zipfile

    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []


# ---- admin: plans, grants, the audit trail -------------------------------------------------------------


def test_admin_grants_a_plan_with_a_reason_kept_in_the_audit_trail(
    app, stripe_on, client, create_user, login
):
    from webapp.models import Regulator

    admin = create_user(admin=True, locale="en", name="平台 Admin")
    with app.app_context():
        reg = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
        db.session.add(reg)
        db.session.commit()
        org = Org("regulator", reg.id)
    login(client, admin)
    page = client.get("/admin/billing").get_data(as_text=True)
    assert "杭州市市场监督管理局" in page and "Billing is on" in page
    r = client.post("/admin/billing/grant", data={"org": org.key, "plan": "regulator", "reason": " "})
    assert r.status_code == 422 and count(app, PlanChange) == 0
    r = client.post(
        "/admin/billing/grant", data={"org": org.key, "plan": "regulator", "reason": "省局试点 pilot 2026"}
    )
    assert r.status_code == 303
    assert plan_now(app, org) == "regulator"
    page = client.get("/admin/billing").get_data(as_text=True)
    assert "省局试点 pilot 2026" in page and "平台 Admin" in page
    with app.app_context():
        (change,) = services.changes(org)
        assert (change.old_plan, change.new_plan, change.source, change.actor_id) == (
            "free",
            "regulator",
            "grant",
            admin.id,
        )
    client.post("/admin/billing/grant", data={"org": org.key, "plan": "-", "reason": "pilot over"})
    assert plan_now(app, org) == "free"
    assert count(app, PlanChange) == 2
    assert (
        client.post(
            "/admin/billing/grant", data={"org": "firm:999999", "plan": "free", "reason": "x"}
        ).status_code
        == 404
    )


def test_billing_pages_are_for_owners(app, stripe_on, firm_world, client, create_user, create_firm, login):
    viewer = create_user(locale="en")
    with app.app_context():
        db.session.add(Membership(user_id=viewer.id, firm_id=firm_world.firm.id, role="viewer"))
        db.session.commit()
    other = app.test_client()
    login(other, viewer)
    page = other.get("/billing", follow_redirects=True).get_data(as_text=True)
    assert "Only an owner" in page
    base = f"/firms/{firm_world.firm.id}/billing"
    assert other.post(base + "/checkout", data={"plan": "firm_pro", "interval": "yearly"}).status_code == 403
    assert other.post(base + "/portal").status_code == 403
    assert other.post(base + "/invoice-title", data={"invoice_title": "x"}).status_code == 403
    assert other.get("/admin/billing").status_code == 403


def test_webhook_body_is_the_event_verified(app, stripe_on, firm_world):
    """A correctly signed body that is no event is refused, not guessed at."""
    body = json.dumps({"hello": "world"}).encode()
    r = firm_world.client.post(
        "/billing/webhook", data=body, headers={"Stripe-Signature": fake_stripe.sign(body, SECRET)}
    )
    assert r.status_code == 400 and count(app, StripeEvent) == 0


def test_the_consultant_plan_is_priced_per_client_firm(app, stripe_on, consultancy_world, create_firm):
    w = consultancy_world
    with app.app_context():
        for name in ("杭州一号机械有限公司", "宁波二号电子有限公司"):
            firm = create_firm(name)
            db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=w.org.id))
        db.session.commit()
    r = w.client.post("/consultant/billing/checkout", data={"plan": "consultant", "interval": "yearly"})
    assert r.status_code == 303
    (customer,) = stripe_on.calls("POST", "/v1/customers")
    assert customer.one("name") == "杭州质量咨询" and customer.one("metadata[org]") == w.org.key
    assert "tax_id_data[0][type]" not in customer.form  # no credit code on file for a consultancy
    (session,) = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert session.one("line_items[0][price]") == "price_con_y"
    assert session.one("line_items[0][quantity]") == "2"
    assert session.one("success_url").endswith("/consultant/billing?checkout=done")
    # a firm plan is not sold to a consultancy
    assert (
        w.client.post(
            "/consultant/billing/checkout", data={"plan": "firm_pro", "interval": "yearly"}
        ).status_code
        == 400
    )


def test_billing_off_there_is_nothing_to_buy(app, owner_client):
    client, firm, _owner = owner_client
    r = client.post(f"/firms/{firm.id}/billing/checkout", data={"plan": "firm_pro", "interval": "yearly"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/firms/{firm.id}/billing")
    assert client.post(f"/firms/{firm.id}/billing/portal").status_code == 409
    page = client.get(f"/firms/{firm.id}/billing").get_data(as_text=True)
    assert "本系统未开启计费" in page
    # the plan everyone has is the consultancies' (the default): a firm is not told of client firms
    assert "您的套餐：全部功能" in page and "按客户企业计价" not in page and "咨询机构版" not in page
    assert "stripe" not in app.extensions


@pytest.mark.parametrize("plan", ["free", "firm_pro"])
def test_evidence_storage_is_bounded_by_the_plan(app, stripe_on, owner_client, plan):
    from tests.test_questionnaire import start, upload
    from webapp.commands.demo.assessments import pdf_bytes
    from webapp.models import Evidence

    client, firm, owner = owner_client
    org = Org("firm", firm.id)
    if plan != "free":
        set_plan(app, org, plan, owner.id)
    aid = start(client, firm.id)
    item = "pzb-certified"
    assert upload(client, firm.id, aid, item, "a.pdf", pdf_bytes("a")).status_code == 303
    with app.app_context(), tenancy.bypass():  # files of 49.9 MB already kept
        db.session.add(
            Evidence(
                firm_id=firm.id,
                assessment_id=aid,
                item_id=item,
                filename="big.pdf",
                content_type="application/pdf",
                size=int(49.9 * 1024 * 1024),
                sha256="0" * 64,
                storage_key="billing-test-big",
            )
        )
        db.session.commit()
    r = upload(client, firm.id, aid, item, "b.pdf", pdf_bytes("b" * 200_000))
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    with app.app_context(), tenancy.bypass():
        names = set(db.session.scalars(select(Evidence.filename).where(Evidence.assessment_id == aid)))
    if plan == "free":
        assert "b.pdf" not in names
        assert "企业专业版" in page and "2048 MB" in page and "未上传" in page
    else:
        assert "b.pdf" in names


def test_an_event_lost_to_a_concurrent_write_is_asked_again(app, stripe_on, firm_world, monkeypatch):
    """Two events making one account at once: the loser is not applied, so it answers 503 (Stripe
    sends it again) rather than 200 "duplicate" (Stripe would never send it again)."""
    from sqlalchemy.exc import IntegrityError

    from webapp.billing import webhooks

    def clash(event):
        raise IntegrityError("INSERT INTO billing_accounts", {}, Exception("unique"))

    monkeypatch.setattr(webhooks, "process", clash)
    r = post_event(
        firm_world.client, "customer.subscription.created", sub(firm_world.org.id), event_id="evt_r"
    )
    assert r.status_code == 503 and count(app, StripeEvent) == 0


def test_the_daily_sweep_writes_each_downgrade_down_once(app, stripe_on, firm_world):
    from webapp.billing.cli import billing_cli

    c, org = firm_world.client, firm_world.org
    now = int(time.time())
    post_event(c, "customer.subscription.created", sub(org.id), event_id="evt_1", created=now - 100)
    post_event(
        c, "invoice.payment_failed", {"id": "in_1", "customer": "cus_test_1"}, event_id="evt_2", created=now
    )
    runner = app.test_cli_runner()
    assert "0 downgrade(s)" in runner.invoke(billing_cli, ["sweep"]).output  # still in its grace period
    with app.app_context():
        services.account(org).grace_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert "1 downgrade(s)" in runner.invoke(billing_cli, ["sweep"]).output
    assert "0 downgrade(s)" in runner.invoke(billing_cli, ["sweep"]).output
    with app.app_context():
        newest = services.changes(org)[0]
        assert (newest.old_plan, newest.new_plan, newest.reason) == (
            "firm_pro",
            "free",
            "payment failed; grace period over",
        )
    r = runner.invoke(billing_cli, ["grant", org.key, "firm_pro", "--reason", "pilot 试点"])
    assert "firm_pro" in r.output and plan_now(app, org) == "firm_pro"


def test_an_event_about_a_deleted_organisation_changes_nothing(app, stripe_on, firm_world):
    r = post_event(firm_world.client, "customer.subscription.created", sub(987654), event_id="evt_gone")
    assert r.status_code == 200 and r.json["result"] == "ignored"
    assert count(app, BillingAccount) == 0 and count(app, StripeEvent) == 1


def test_the_kind_of_an_organisation_is_bracketed_in_the_pages_language(
    app, client, create_user, create_firm, login
):
    create_firm("括号测试有限公司", owner=create_user())
    admin = create_user(admin=True, locale="zh")
    login(client, admin)
    page = client.get("/admin/billing").get_data(as_text=True)
    assert (
        "括号测试有限公司（企业）" in page and "括号测试有限公司 (企业)" not in page
    )  # full-width in Chinese
    client.post("/lang/en")
    page = client.get("/admin/billing").get_data(as_text=True)
    assert "括号测试有限公司 (Firm)" in page
