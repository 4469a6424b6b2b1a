"""The headers every response carries (webapp/security.py), and a browser that enforces them: the pages
of a firm's journey raise no Content-Security-Policy violation in Chromium."""

from __future__ import annotations

import random

import pytest

from tests.test_questionnaire_browser import ARGS, CHROMIUM, confirm_email, server  # noqa: F401 - the fixture
from webapp.refdata import credit_code
from webapp.security import POLICY


def test_every_page_forbids_framing_sniffing_and_outside_code(client, owner_client):
    c, firm, _owner = owner_client
    for path in ("/", "/account/signin", f"/firms/{firm.id}/", "/no-such-page"):
        r = c.get(path)
        h = r.headers
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["X-Frame-Options"] == "DENY", path
        assert h["Content-Security-Policy"] == POLICY, path
        assert "frame-ancestors 'none'" in POLICY and "script-src 'self'" in POLICY
        assert "unsafe" not in POLICY
        assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in h  # not in development
    r = c.get("/api/v1/firms")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"


def test_production_over_https_sends_hsts(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    r = client.get("/", base_url="https://qready.test")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.browser
def test_a_firms_pages_break_no_rule_of_the_policy(server: str) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        seen: list[str] = []

        def visit(url: str) -> None:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            seen.append(url)

        visit(server + "/")
        visit(server + "/account/register")
        page.fill("#name", "CSP Tester")
        page.fill("#email", "csp@example.cn")
        page.fill("#password", "correct-horse-battery")
        page.fill("#confirm", "correct-horse-battery")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/account/signin")
        confirm_email(page, server)
        visit(server + "/firms/new")
        page.fill("#name", "杭州内容策略测试有限公司")
        page.fill("#credit_code", credit_code.generate(random.Random(5), "330106"))
        page.select_option("#region_code", "330106")
        page.select_option("#industry_division", "34")
        page.fill("#employees", "120")
        page.locator("main form button.primary[type=submit]").click()
        page.wait_for_url("**/firms/*/")
        page.locator("form.qn-start:has(input[value='chief-quality-officer']) button[type=submit]").click()
        page.wait_for_url("**/sections/appointment")
        page.locator("#item-cqo-appointed label.qn-choice:has(input[value=no])").click()
        page.wait_for_load_state("networkidle")
        section = page.url
        visit(section.replace("/sections/appointment", "/sections/operation"))
        page.locator("#item-cqo-chief-standards-engineer label.qn-choice:has(input[value=no])").click()
        page.wait_for_load_state("networkidle")
        visit(section.rsplit("/sections/", 1)[0] + "/")
        page.locator("button", has_text="提交评估").click()
        page.wait_for_url("**/verdict")
        page.wait_for_selector("#chart-bars svg")
        verdict = page.url
        visit(verdict.replace("/verdict", "/report"))
        assert page.locator("svg").count() > 0  # the charts, with their inline styles, are shown
        visit(section)
        browser.close()
    assert violations == [], violations
