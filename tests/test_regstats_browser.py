"""The regulator's journey in Debian's Chromium (Playwright), in zh and en: the dashboard with its
charts, a filter, a CSV download — with the demo data (`flask demo`), no script error and no breach
of the Content-Security-Policy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from webapp import create_app, db
from webapp.models import User

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from alembic import command

    from webapp.commands.db import alembic_config
    from webapp.commands.demo import demo

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    tmp = tmp_path_factory.mktemp("regstats-browser")
    url = "sqlite:///" + str(tmp / "browser.sqlite3")
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "browser-test-secret", "EVIDENCE_DIR": str(tmp / "ev")}
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
        yield f"http://127.0.0.1:{srv.server_port}", app
    finally:
        srv.shutdown()
        thread.join(5)
        db.dispose(app)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_regulators_dashboard_filter_and_export(server: tuple[str, Any], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    base, app = server
    with app.app_context():
        db.session.execute(update(User).where(User.email == "regulator@demo.qready.cn").values(locale=lang))
        db.session.commit()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(accept_downloads=True)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        page.goto(base + "/account/signin")
        page.fill("#email", "regulator@demo.qready.cn")
        page.fill("#password", "demo-pass-2026")
        page.click("section.card button[type=submit]")
        page.goto(base + "/regulator/")
        heading = "各目标的准备度" if lang == "zh" else "Readiness per target"
        assert heading in page.inner_text("main")
        for chart in ("quarters", "readiness", "sections", "gaps", "trend"):
            page.wait_for_selector(f"#chart-{chart} svg", timeout=10_000)
        page.select_option("#cut", "size:small")
        page.click("form.st-filter button[type=submit]")
        page.wait_for_url("**/regulator/?cut=size%3Asmall")
        assert ("小型" if lang == "zh" else "Small") in page.inner_text("p.big")
        firms, assessments = page.locator("p.big strong").all_inner_texts()
        with page.expect_download() as info:
            page.click("a[href*='export.csv']")
        text = Path(info.value.path()).read_text(encoding="utf-8-sig")
        assert ("小型" if lang == "zh" else "Small") in text
        assert f"{firms},{assessments}" in text.splitlines()  # the same figures as the page
        browser.close()
    assert problems == []
