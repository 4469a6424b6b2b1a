"""The platform admin's journey in Debian's Chromium (Playwright), in zh and in en: grant a firm a plan
by hand, sign one of its people out everywhere, and find both in the platform's activity log — every
page in the admin's language, no script error, no console error, no breach of the policy.

The app runs in a background thread (werkzeug) on 127.0.0.1 with its own migrated SQLite file and
CSRF protection on, as in production; the browser never leaves loopback.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.test_questionnaire_browser import ARGS, CHROMIUM, watch
from webapp import create_app, db, tenancy

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {
        "locale": "zh-CN",
        "html": "zh-CN",
        "plans": "各组织的套餐",
        "grant_heading": "手动开通套餐",
        "grant": "开通",
        "reason": "试点企业，免费一年",
        "granted": "已更改杭州旅程管理阀门有限公司的套餐。",
        "signout": "在所有设备上退出",
        "activity": "平台操作记录",
        "signed_out": "被管理员在所有设备上退出登录",
        "plan_changed": "变更套餐",
    },
    "en": {
        "locale": "en-GB",
        "html": "en",
        "plans": "Plans of the organisations",
        "grant_heading": "Grant a plan by hand",
        "grant": "Grant",
        "reason": "Pilot firm, one year free",
        "granted": "Plan changed for 杭州旅程管理阀门有限公司.",
        "signout": "Sign out everywhere",
        "activity": "Activity on the platform",
        "signed_out": "Signed out everywhere by an administrator",
        "plan_changed": "Plan changed",
    },
}


@pytest.fixture(params=["zh", "en"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    from alembic import command

    from webapp.auth.util import hash_password
    from webapp.commands.db import alembic_config
    from webapp.db import utcnow
    from webapp.models import Firm, Membership, User
    from webapp.refdata import credit_code

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    lang = request.param
    url = "sqlite:///" + str(tmp_path / "admin.sqlite3")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-test-secret",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        with tenancy.bypass():
            admin = User(
                email="root@journey.cn",
                name="平台 管理员",
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
                is_platform_admin=True,
                locale=lang,
            )
            owner = User(
                email="owner@journey.cn",
                name="王丽",
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
                locale="zh",
            )
            firm = Firm(
                name="杭州旅程管理阀门有限公司",
                credit_code=credit_code.generate(random.Random(21), "330106"),
                region_code="330106",
                industry_division="34",
                employees=120,
                size_class="small",
            )
            db.session.add_all([admin, owner, firm])
            db.session.flush()
            db.session.add(Membership(user_id=owner.id, firm_id=firm.id, role="owner"))
            db.session.commit()
            firm_id = firm.id
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{srv.server_port}", "lang": lang, "firm": firm_id}
    finally:
        srv.shutdown()
        thread.join(5)
        db.dispose(app)


def test_the_admin_grants_a_plan_and_reads_the_activity_log(world: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base, lang = world["url"], world["lang"]
    t = TEXT[lang]

    def main_text(page: Any) -> str:
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == t["html"], page.url
        return str(page.locator("main").inner_text())

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale=t["locale"], viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = watch(page)

        page.goto(base + "/account/signin")
        page.fill("#email", "root@journey.cn")
        page.fill("#password", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        page.goto(base + "/admin/")
        main_text(page)

        # grant the firm Firm Pro by hand, with a reason
        page.locator("main a", has_text=t["plans"]).click()
        assert t["grant_heading"] in main_text(page)
        page.select_option("#grant-org", f"firm:{world['firm']}")
        page.select_option("#grant-plan", "firm_pro")
        page.fill("#grant-reason", t["reason"])
        page.locator("main form button[type=submit]", has_text=t["grant"]).click()
        page.wait_for_load_state()
        text = main_text(page)
        assert t["granted"] in page.locator("body").inner_text()
        trail = page.locator("section.card:last-of-type table").inner_text()
        assert "free → firm_pro" in trail and t["reason"] in trail and "平台 管理员" in trail, text

        # sign the firm's owner out on every device
        page.goto(base + "/admin/")
        row = page.locator("main tr", has_text="owner@journey.cn")
        row.locator("button", has_text=t["signout"]).click()
        page.wait_for_load_state()
        main_text(page)

        # both are in the platform's activity log, newest first
        page.locator("main a", has_text=t["activity"]).click()
        main_text(page)
        rows = [re.sub(r"\s+", " ", r) for r in page.locator("main table tbody tr").all_inner_texts()]
        assert t["signed_out"] in rows[0] and "owner@journey.cn" in rows[0] and "root@journey.cn" in rows[0]
        assert t["plan_changed"] in rows[1] and "杭州旅程管理阀门有限公司" in rows[1], rows
        page.wait_for_load_state("networkidle")
        browser.close()
    assert problems == [], problems
