"""The consultant's journey in Debian's Chromium (Playwright), in zh and en: the consultant gives a firm
the consultancy's code and the firm's owner accepts it (grants access) → the consultant opens the new
client with the header's client switcher (breadcrumb: consultancy → client → page) → fills an
assessment for it → makes a plan from the path → builds the bulk report (progress page → the zip
downloaded). No script error and no breach of the Content-Security-Policy on the way.

The app runs in a background thread (werkzeug) on 127.0.0.1 with the demo data in its own SQLite file,
CSRF on and no Redis: the bulk report goes through the database's job queue and the app's worker
thread, as with `make run`. Screenshots of the header and of the progress page are kept in the test's
temporary folder (`shots/`)."""

from __future__ import annotations

import io
import random
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from webapp import create_app, db, dbqueue, tenancy
from webapp.models import Consultancy, User
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
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{srv.server_port}", "app": app, "shots": tmp / "shots"}
    finally:
        srv.shutdown()
        thread.join(5)
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


def _watch(page: Any, problems: list[str]) -> None:
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"{page.url}: {m.text}")
        if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
        else None,
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
    },
    "en": {
        "targets": "This client’s readiness targets",
        "granted": "can now work on your assessments",
        "plan": "Improvement plan",
        "ready": "The reports are ready.",
        "by": f"陈明 Chen Ming ({CONSULTANCY})",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_consultants_journey(server: dict[str, Any], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    base, app, shots = server["base"], server["app"], server["shots"]
    shots.mkdir(exist_ok=True)
    words = WORDS[lang]
    owner_email, firm_id, firm_name = _new_owner_and_firm(app, lang)
    with app.app_context():
        code = db.session.scalar(select(Consultancy.code).where(Consultancy.name == CONSULTANCY))
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

        # the consultant gives the firm the consultancy's code (the portfolio shows it) ...
        _sign_in(page, base, CONSULTANT)
        page.goto(base + "/consultant/")
        assert code in page.inner_text("main") and firm_name not in page.inner_text("main")

        # ... and the firm's owner accepts: grants the consultancy access
        _sign_in(owner, base, owner_email)
        owner.goto(f"{base}/firms/{firm_id}/consultants")
        owner.fill("#code", code)
        owner.locator("main form.row button[type=submit]").click()
        owner.wait_for_url(f"**/firms/{firm_id}/consultants")
        assert words["granted"] in owner.inner_text("main") and CONSULTANCY in owner.inner_text("main")

        # the consultant opens the new client with the header's switcher
        page.reload()
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

        # (the lead adds here: compare this client with the others, helper `desk`'s compare page)

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
        browser.close()
    assert problems == []
