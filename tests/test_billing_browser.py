"""Billing in Debian's Chromium (Playwright): a Free firm's owner reads the pricing page, is refused the
PDF report, goes to Checkout (the fake Stripe's page on loopback), Stripe's signed webhook arrives, and
back in the app the plan is Firm Pro and the PDF report downloads.

The app runs in a background thread with its own migrated SQLite file, CSRF on, billing on, and its
Stripe client pointed at the fake Stripe server; the browser never leaves loopback.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import fake_stripe
from tests.conftest import PASSWORD
from tests.test_questionnaire_browser import ARGS, CHROMIUM
from webapp import create_app, db, tenancy
from webapp.reports import sample
from webapp.reports import services as report_services

pytestmark = pytest.mark.browser

SECRET = "whsec_browser_test"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    from alembic import command

    from webapp.auth.util import hash_password
    from webapp.commands.db import alembic_config
    from webapp.db import utcnow
    from webapp.models import Firm, Membership, User
    from webapp.refdata import credit_code

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    fake, stripe_server = fake_stripe.start()
    url = "sqlite:///" + str(tmp_path / "billing.sqlite3")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-test-secret",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
            "REPORT_CACHE_DIR": str(tmp_path / "report-cache"),
            "STRIPE_SECRET_KEY": "sk_test_browser",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": fake.base,
            "STRIPE_CHECKOUT_ORIGINS": (fake.base,),
            "STRIPE_PRICE_FIRM_PRO_MONTHLY": "price_pro_m",
            "STRIPE_PRICE_FIRM_PRO_YEARLY": "price_pro_y",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    # WeasyPrint is tested in test_reports*: here a PDF is a PDF
    monkeypatch.setattr(
        report_services, "render_pdf", lambda html, assets: SimpleNamespace(pdf=b"%PDF-1.7 fake")
    )
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        with tenancy.bypass():
            user = User(
                email="owner@billing.cn",
                name="王丽",
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
                locale="zh",
            )
            firm = Firm(
                name="杭州精工阀门有限公司",
                credit_code=credit_code.generate(random.Random(3), "330106"),
                region_code="330106",
                industry_division="34",
                employees=120,
                size_class="small",
            )
            db.session.add_all([user, firm])
            db.session.flush()
            db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
            a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=user.id)
            db.session.commit()
            ids = SimpleNamespace(firm=firm.id, assessment=a.id)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(base=f"http://127.0.0.1:{srv.server_port}", fake=fake, ids=ids)
    finally:
        srv.shutdown()
        thread.join(5)
        stripe_server.shutdown()
        stripe_server.server_close()
        db.dispose(app)


def _stripe_sends(base: str, event_type: str, obj: dict[str, Any], event_id: str) -> int:
    body = fake_stripe.event(event_type, obj, event_id=event_id, created=int(time.time()))
    req = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/billing/webhook",
        data=body,
        headers={"Stripe-Signature": fake_stripe.sign(body, SECRET), "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - loopback
        return int(r.status)


def test_pricing_checkout_webhook_unlocks_the_pdf(world: SimpleNamespace, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, ids = world.base, world.ids
    report = f"{base}/firms/{ids.firm}/assessments/{ids.assessment}/report"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/account/signin")
        page.fill("input[name=email]", "owner@billing.cn")
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda u: "/signin" not in u)

        # Free: the report is a page; the PDF button says which plan unlocks it
        page.goto(report)
        assert page.locator("a[href$='/report.pdf?lang=zh']").count() == 0
        page.click("text=PDF（企业专业版）")
        page.wait_for_url(lambda u: "/pricing" in u)
        assert page.locator("#plan-firm_pro").is_visible()
        assert "PDF 改进报告下载" in page.locator("#plan-firm_pro").inner_text()
        assert "您的套餐" in page.locator("#plan-free").inner_text()

        # pricing -> the billing page -> Stripe Checkout (the fake's page)
        page.click("#plan-firm_pro >> text=选择企业专业版")
        page.wait_for_url(lambda u: u.endswith("/billing"))
        page.select_option("#interval-firm_pro", "yearly")
        page.click("text=用银行卡或支付宝订阅")
        page.wait_for_url(lambda u: u.startswith(world.fake.base + "/pay/"))
        sent = world.fake.calls("POST", "/v1/checkout/sessions")[-1]
        assert sent.one("line_items[0][price]") == "price_pro_y"

        # Stripe confirms the payment to the webhook, then sends the buyer back
        org = sent.one("metadata[org]")
        session = {
            "id": "cs_test_1",
            "object": "checkout.session",
            "mode": "subscription",
            "payment_status": "paid",
            "customer": sent.one("customer"),
            "subscription": "sub_browser",
            "client_reference_id": org,
            "metadata": {"org": org, "plan": "firm_pro", "interval": "yearly"},
        }
        assert _stripe_sends(base, "checkout.session.completed", session, "evt_browser_1") == 200
        page.click("#pay")
        page.wait_for_url(lambda u: "/billing?checkout=done" in u)
        assert "企业专业版" in page.locator("h2").first.inner_text()

        # the feature is unlocked
        page.goto(report)
        with page.expect_download() as download:
            page.click("text=下载 PDF")
        path = download.value.path()
        assert path is not None and Path(path).read_bytes().startswith(b"%PDF")
        browser.close()
