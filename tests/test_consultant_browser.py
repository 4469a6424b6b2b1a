"""The consultant's journey in Debian's Chromium (Playwright), in zh and en: the consultant invites a
firm's owner by email → the owner opens the link (read from the mail log the server writes: no SMTP
here), chooses their firm and edit access, and accepts → the consultant opens the new client with the
header's client switcher (breadcrumb: consultancy → client → page) → fills an assessment for it →
makes a plan from the path → compares it with another client (the portfolio's checkboxes → the
compare page → the XLSX) → builds the bulk report (progress page → the zip downloaded) → creates a
client firm and sends its hand-over invitation. No script error and no breach of the
Content-Security-Policy on the way.

The app runs in a background thread (werkzeug) on 127.0.0.1 with the demo data in its own SQLite file,
CSRF on and no Redis: the bulk report goes through the database's job queue and the app's worker
thread, as with `make run`. Screenshots (the header, the invitation form, the acceptance page, the
comparison, the progress page, the hand-over) are kept in the test's temporary folder (`shots/`)."""

from __future__ import annotations

import io
import logging
import random
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from webapp import create_app, db, dbqueue, tenancy
from webapp.models import Assessment, Firm, User
from webapp.refdata import credit_code

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-pass-2026"
CONSULTANT = "consultant@demo.qready.cn"
CONSULTANCY = "浙江卓越质量管理咨询有限公司"


SENT_MAIL: list[str] = []  # what the server wrote to its mail log


class _MailLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        SENT_MAIL.append(record.getMessage())


def _mailed_link(to: str, path: str) -> str:
    """The link (its path) in the newest mail to `to` that the server wrote to its log."""
    for message in reversed(SENT_MAIL):
        if message.startswith(f"mail to {to}:"):
            found = re.findall(rf"https?://[^/\s]+({path}\S+)", message)
            assert found, message
            return found[-1]
    raise AssertionError(f"no mail to {to} in {SENT_MAIL}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from alembic import command

    from webapp.commands.db import alembic_config
    from webapp.commands.demo import demo

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    tmp = tmp_path_factory.mktemp("consultant-browser")
    url = "sqlite:///" + str(tmp / "browser.sqlite3")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-test-secret",
            "EVIDENCE_DIR": str(tmp / "evidence"),
            "REPORT_CACHE_DIR": str(tmp / "report-cache"),
            "JOBS_POLL_SECONDS": 0.5,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    app.instance_path = str(tmp / "instance")
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
    result = app.test_cli_runner().invoke(demo)
    assert result.exit_code == 0, result.output
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    mail_log, mail_logger = _MailLog(), logging.getLogger("qready.mail")
    level = mail_logger.level
    mail_logger.addHandler(mail_log)
    mail_logger.setLevel(logging.INFO)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{srv.server_port}", "app": app, "shots": tmp / "shots"}
    finally:
        srv.shutdown()
        thread.join(5)
        mail_logger.removeHandler(mail_log)
        mail_logger.setLevel(level)
        SENT_MAIL.clear()
        dbqueue.stop(app)
        db.dispose(app)


def _new_owner_and_firm(app: Any, lang: str) -> tuple[str, int, str]:
    """A firm's owner (signed up before) and their firm, not yet a client of anyone."""
    from webapp.auth.util import hash_password
    from webapp.db import utcnow
    from webapp.orgs import services as org_services

    name = {"zh": "湖州浏览器精工有限公司", "en": "嘉兴浏览器纺织有限公司"}[lang]
    region = {"zh": "330502", "en": "330402"}[lang]
    email = f"owner-{lang}@journey.cn"
    with app.app_context(), tenancy.bypass():
        owner = User(
            email=email,
            name="周婷 Zhou Ting",
            password_hash=hash_password(PASSWORD),
            locale=lang,
            email_verified_at=utcnow(),
        )
        db.session.add(owner)
        db.session.flush()
        firm = org_services.create_firm(
            owner,
            org_services.FirmData(
                name=name,
                credit_code=credit_code.generate(random.Random(lang), region),
                region_code=region,
                industry_division="34",
                employees=150,
                revenue_10k=None,
                total_assets_10k=None,
                founded_on=None,
                above_scale=True,
                share_statistics=True,
            ),
        )
        db.session.execute(update(User).where(User.email == CONSULTANT).values(locale=lang))
        db.session.commit()
        return email, firm.id, name


RADAR_LABELS_OUTSIDE = """() => {
  const svg = document.querySelector('#chart-radar svg');
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
    .filter(([, r]) => r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
    .map(([text]) => text);
}"""


def _watch(page: Any, problems: list[str]) -> None:
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None,
    )


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/account/signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("section.card button[type=submit]")
    page.wait_for_load_state()
    assert "/account/signin" not in page.url, page.inner_text("main")


def _saved(page: Any, item: str) -> None:
    page.wait_for_function(
        "id => document.querySelector('#item-' + id + ' [data-status] .ok') !== null",
        arg=item,
        timeout=15_000,
    )


WORDS = {
    "zh": {
        "targets": "该客户的准备度目标",
        "granted": "现在可以参与贵企业的评估工作",
        "plan": "改进计划",
        "ready": "报告已生成",
        "by": f"陈明 Chen Ming（{CONSULTANCY}）",
        "compare": "客户对比",
        "sent": "已向 {email} 发送邀请。",
    },
    "en": {
        "targets": "This client’s readiness targets",
        "granted": "can now work on your assessments",
        "plan": "Improvement plan",
        "ready": "The reports are ready.",
        "by": f"陈明 Chen Ming ({CONSULTANCY})",
        "compare": "Compare clients",
        "sent": "We sent an invitation to {email}.",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_consultants_journey(server: dict[str, Any], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    base, app, shots = server["base"], server["app"], server["shots"]
    shots.mkdir(exist_ok=True)
    words = WORDS[lang]
    owner_email, firm_id, firm_name = _new_owner_and_firm(app, lang)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        locale = "zh-CN" if lang == "zh" else "en-US"
        consultant_ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        owner_ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page, owner = consultant_ctx.new_page(), owner_ctx.new_page()
        for pg in (page, owner):
            pg.set_default_timeout(20_000)
            _watch(pg, problems)

        # the consultant invites the firm's owner by email (the firm is no client yet) ...
        _sign_in(page, base, CONSULTANT)
        page.goto(base + "/consultant/")
        assert firm_name not in page.inner_text("main")
        page.locator("main p.pf-add a").first.click()
        page.wait_for_url("**/consultant/clients/invite")
        page.fill("#email", owner_email)
        page.fill("#firm_name", firm_name)
        page.locator("#invite-client-form button[type=submit]").click()
        page.wait_for_url("**/consultant/clients/invite")
        assert words["sent"].format(email=owner_email) in page.inner_text("main")
        assert owner_email in page.inner_text("main table")  # waiting for an answer, withdrawable
        page.screenshot(path=str(shots / f"invite-{lang}.png"), full_page=True)

        # ... who opens the link from the mail, chooses their firm and edit access, and accepts
        link = _mailed_link(owner_email, "/invitations/")
        _sign_in(owner, base, owner_email)
        owner.goto(base + link)
        assert CONSULTANCY in owner.inner_text("main") and firm_name in owner.inner_text("main")
        owner.select_option("#firm", str(firm_id))
        owner.locator("input[name=access][value=edit]").check()
        owner.screenshot(path=str(shots / f"accept-{lang}.png"), full_page=True)
        owner.locator("#client-accept-form button[type=submit]").click()
        owner.wait_for_url(f"**/firms/{firm_id}/consultants")
        assert words["granted"] in owner.inner_text("main") and CONSULTANCY in owner.inner_text("main")

        # the consultant opens the new client with the header's switcher
        page.reload()
        assert owner_email not in page.inner_text("main")  # accepted: no longer waiting
        page.goto(base + "/consultant/")
        assert firm_name in page.inner_text("main")
        page.select_option("#client-switch", str(firm_id))
        page.locator("form.clientswitch button[type=submit]").click()
        page.wait_for_url(f"**/firms/{firm_id}/")
        crumbs = page.locator("header nav.crumbs li").all_inner_texts()
        assert crumbs == [CONSULTANCY, firm_name]
        assert words["targets"] in page.inner_text("main")
        page.locator("header.topbar").screenshot(path=str(shots / f"header-{lang}.png"))

        # fills an assessment for the client
        page.locator("form.qn-start:has(input[value='pinzibiao']) button[type=submit]").click()
        page.wait_for_url("**/sections/*")
        aid = int(page.url.split("/assessments/")[1].split("/")[0])
        page.goto(f"{base}/firms/{firm_id}/assessments/{aid}/sections/basic")
        crumbs = page.locator("header nav.crumbs li").all_inner_texts()
        assert crumbs[:2] == [CONSULTANCY, firm_name] and len(crumbs) == 3  # consultancy → client → page
        page.locator("#item-pzb-zj-standard label.qn-choice:has(input[value=drafting])").click()
        _saved(page, "pzb-zj-standard")
        page.goto(f"{base}/firms/{firm_id}/assessments/{aid}/items/pzb-zj-standard/history")
        assert words["by"] in page.inner_text("main")  # the history says who, and for whom

        # makes a plan from the path to ready
        page.goto(f"{base}/firms/{firm_id}/assessments/{aid}/verdict")
        page.locator("form.qn-plan-form button[type=submit]").first.click()
        page.wait_for_url(f"**/firms/{firm_id}/plan")
        assert words["plan"] in page.inner_text("main")
        actions = page.locator("main li.pl-action")
        assert (
            actions.count() >= 3 and "陈明 Chen Ming" in actions.first.inner_text()
        )  # the consultant owns them

        # compares it with another client: the portfolio's checkboxes → the compare page → the XLSX
        with app.app_context(), tenancy.bypass():
            other_id, other_name = db.session.execute(
                select(Firm.id, Firm.name).where(Firm.name == "杭州精工阀门有限公司")
            ).one()
        # a demo client's verdict of seven sections: the radar's labels stay inside the chart, wide or narrow
        with app.app_context(), tenancy.bypass():
            pe = db.session.scalar(
                select(func.max(Assessment.id)).where(
                    Assessment.firm_id == other_id,
                    Assessment.framework_id == "performance-excellence",
                    Assessment.status == "submitted",
                )
            )
        page.goto(f"{base}/firms/{other_id}/assessments/{pe}/verdict")
        page.wait_for_selector("#chart-radar svg text")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(400)  # the charts redraw 150 ms after a resize
            assert page.evaluate(RADAR_LABELS_OUTSIDE) == [], width
        # on a phone the portfolio's wide table scrolls inside its card: the page is no wider than the phone
        page.goto(base + "/consultant/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/consultant/")
        page.locator(f"input[name=firm][value='{firm_id}']").check()
        page.locator(f"input[name=firm][value='{other_id}']").check()
        page.select_option("#compare-form select[name=framework]", "pinzibiao")
        page.locator("#compare-form button[type=submit]").click()
        page.wait_for_url("**/consultant/compare?**")
        main = page.inner_text("main")
        assert words["compare"] in main and firm_name in main and other_name in main
        page.screenshot(path=str(shots / f"compare-{lang}.png"), full_page=True)
        with page.expect_download() as info:
            page.locator("main a[download]").first.click()
        assert info.value.suggested_filename.endswith(".xlsx")
        with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as zf:
            assert "xl/workbook.xml" in zf.namelist()

        # the bulk report of this client: the progress page, then the zip
        page.goto(base + "/consultant/reports")
        for box in page.locator("input[name=assessment]").all():
            box.uncheck()
        page.locator(f"input[name=assessment][value='{aid}']").check()
        page.select_option("#format", "pdf")
        page.locator("main form.card button[type=submit]").click()
        page.wait_for_url("**/consultant/reports/jobs/*")
        page.locator("#bulk-download").wait_for(state="visible", timeout=120_000)
        assert words["ready"] in page.inner_text("#bulk-job")
        page.screenshot(path=str(shots / f"progress-{lang}.png"), full_page=True)
        with page.expect_download() as info:
            page.click("#bulk-download")
        data = Path(info.value.path()).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            assert (
                len(names) == 1 and names[0].startswith(f"{firm_name}/") and names[0].endswith(f"-{lang}.pdf")
            )
            assert zf.read(names[0]).startswith(b"%PDF")

        # creates a client firm itself and hands it over to its future owner
        page.goto(base + "/consultant/")
        page.locator("main p.pf-add a").nth(1).click()
        page.wait_for_url("**/consultant/clients/new")
        client_name = {"zh": "衢州托管精密有限公司", "en": "丽水托管纺织有限公司"}[lang]
        page.fill("#name", client_name)
        page.fill("#credit_code", credit_code.generate(random.Random(lang + "-new"), "330802"))
        page.select_option("#region_code", "330802")
        page.select_option("#industry_division", "34")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/firms/*/")
        new_id = int(page.url.rstrip("/").split("/")[-1])
        assert page.locator("header nav.crumbs li").all_inner_texts() == [CONSULTANCY, client_name]
        page.goto(f"{base}/firms/{new_id}/handover")
        future = f"future-{lang}@journey.cn"
        page.fill("#email", future)
        page.locator("#handover-form button[type=submit]").click()
        page.wait_for_url(f"**/firms/{new_id}/handover")
        assert words["sent"].format(email=future) in page.inner_text("main")
        assert _mailed_link(future, "/invitations/")
        page.screenshot(path=str(shots / f"handover-{lang}.png"), full_page=True)
        browser.close()
    assert problems == []
