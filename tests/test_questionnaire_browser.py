"""The questionnaire in Debian's Chromium (Playwright): register, create a firm, answer a section with
autosave, reload and find the answers, keep an answer typed while offline, resolve a conflict between
two tabs, upload evidence, submit and read the verdict.

The app runs in a background thread (werkzeug) on 127.0.0.1 with its own migrated SQLite file and
CSRF protection on, as in production; the browser never leaves loopback.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from webapp import create_app, db
from webapp.commands.demo.assessments import pdf_bytes
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


SENT_MAIL: list[str] = []  # what the server wrote to its mail log (no SMTP here): see `confirm_email`


class _MailLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        SENT_MAIL.append(record.getMessage())


def confirm_email(page: Any, server: str) -> None:
    """After signing up: open the confirmation link of the newest mail, which signs the new user in."""
    links = re.findall(r"/account/verify/\S+", "\n".join(SENT_MAIL))
    assert links, SENT_MAIL
    page.goto(server + links[-1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    from alembic import command

    from webapp.commands.db import alembic_config

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    url = "sqlite:///" + str(tmp_path / "browser.sqlite3")
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
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    mail_log, mail_logger = _MailLog(), logging.getLogger("qready.mail")
    level = mail_logger.level
    mail_logger.addHandler(mail_log)
    mail_logger.setLevel(logging.INFO)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)
        mail_logger.removeHandler(mail_log)
        mail_logger.setLevel(level)
        SENT_MAIL.clear()
        db.dispose(app)


def _status(page: Any, item: str) -> str:
    return str(page.locator(f"#item-{item} [data-status]").inner_text())


def _saved(page: Any, item: str) -> None:
    page.wait_for_function(
        "id => document.querySelector('#item-' + id + ' [data-status] .ok') !== null",
        arg=item,
        timeout=10_000,
    )


def test_questionnaire_journey(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)

        # register and create a firm
        page.goto(server + "/account/register")
        page.fill("#name", "你好 浏览器")
        page.fill("#email", "browser@example.cn")
        page.fill("#password", "correct-horse-battery")
        page.fill("#confirm", "correct-horse-battery")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/account/signin")
        confirm_email(page, server)
        page.goto(server + "/firms/new")
        page.fill("#name", "杭州浏览器测试阀门有限公司")
        page.fill("#credit_code", credit_code.generate(random.Random(3), "330106"))
        page.select_option("#region_code", "330106")
        page.select_option("#industry_division", "34")
        page.fill("#employees", "120")
        page.locator("main form button.primary[type=submit]").click()
        page.wait_for_url("**/firms/*/")
        assert "开始评估" in page.content()

        # start the chief quality officer framework
        page.locator("form.qn-start:has(input[value='chief-quality-officer']) button[type=submit]").click()
        page.wait_for_url("**/sections/appointment")

        # answer: no CQO appointed yet; the questions that depend on it grey out
        page.locator("#item-cqo-appointed label.qn-choice:has(input[value=no])").click()
        _saved(page, "cqo-appointed")
        # the figures follow once the saves settle (one request for a burst of answers)
        page.locator("#item-cqo-appointment-letter.qn-inapplicable").wait_for(timeout=5000)
        assert page.locator("#item-cqo-appointment-letter [data-why]").is_visible()
        page.wait_for_function("() => document.querySelector('#qn-progress').value === 1", timeout=5000)

        # reload: the server has the answer
        page.reload()
        assert page.locator("#item-cqo-appointed input[value=no]").is_checked()

        # offline: the answer waits in localStorage and goes out when the connection returns
        page.goto(page.url.replace("/sections/appointment", "/sections/operation"))
        context.set_offline(True)
        page.locator("#item-cqo-chief-standards-engineer label.qn-choice:has(input[value=yes])").click()
        page.wait_for_function(
            "() => document.querySelector('#item-cqo-chief-standards-engineer [data-status] .bad') !== null"
        )
        assert "网络已断开" in _status(page, "cqo-chief-standards-engineer")
        keys = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('qready:'))")
        assert any(k.endswith(":cqo-chief-standards-engineer:0") for k in keys)
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        _saved(page, "cqo-chief-standards-engineer")
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('qready:')).length") == 0
        page.reload()
        assert page.locator("#item-cqo-chief-standards-engineer input[value=yes]").is_checked()

        # two tabs edit the same answer: the second sees both answers and keeps its own
        item = "#item-cqo-chief-standards-engineer"
        other = context.new_page()
        other.goto(page.url)
        page.locator(f"{item} label.qn-choice:has(input[value=no])").click()
        _saved(page, "cqo-chief-standards-engineer")
        other.locator(f"{item} input[name^=na-]").check()
        other.locator(f"{item} textarea[name^=na_reason-]").fill("本企业不单设标准总师岗位")
        conflict = other.locator(f"{item} [data-conflict]")
        conflict.wait_for(state="visible")
        assert "对方的答案" in conflict.inner_text() and "你好 浏览器" in conflict.inner_text()
        assert "否" in conflict.inner_text() and "本企业不单设标准总师岗位" in conflict.inner_text()
        conflict.locator("button", has_text="保留我的答案").click()
        _saved(other, "cqo-chief-standards-engineer")
        other.close()
        page.reload()
        assert page.locator(f"{item} input[name^=na-]").is_checked()
        # and back: it applies after all
        page.locator(f"{item} input[name^=na-]").uncheck()
        page.locator(f"{item} label.qn-choice:has(input[value=yes])").click()
        _saved(page, "cqo-chief-standards-engineer")
        page.reload()
        assert page.locator(f"{item} input[value=yes]").is_checked()
        assert not page.locator(f"{item} input[name^=na-]").is_checked()

        # evidence for the answer that earns points
        pdf = tmp_path / "标准总师任命文件.pdf"
        pdf.write_bytes(pdf_bytes("appointment of the chief standards engineer"))
        box = page.locator(item)
        if box.locator("details:has(input[type=file])").get_attribute("open") is None:
            box.locator("details:has(input[type=file]) > summary").click()
        box.locator("input[type=file]").set_input_files(str(pdf))
        box.locator("button", has_text="上传").click()
        page.wait_for_load_state()
        assert "标准总师任命文件.pdf" in page.locator("#item-cqo-chief-standards-engineer").inner_text()

        # submit, then read the verdict
        page.locator("a", has_text="总览与提交").first.click()
        page.locator("button", has_text="提交评估").click()
        page.wait_for_url("**/verdict")
        text = page.locator("main").inner_text()
        assert "各目标的准备度" in text and "未达标" in text and "达标路径" in text
        page.wait_for_selector("#chart-bars svg")
        page.goto(page.url.replace("/verdict", "/sections/appointment"))
        assert page.locator("#item-cqo-appointed input[value=no]").is_disabled()
        browser.close()


def _sign_up_and_start(page: Any, server: str, email: str, seed: int) -> str:
    """A new person with a new firm, in 品字标's first section: the section's URL."""
    page.goto(server + "/account/register")
    page.fill("#name", "李 测试")
    page.fill("#email", email)
    page.fill("#password", "correct-horse-battery")
    page.fill("#confirm", "correct-horse-battery")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/account/signin")
    confirm_email(page, server)
    page.goto(server + "/firms/new")
    page.fill("#name", "宁波浏览器测试电器有限公司")
    page.fill("#credit_code", credit_code.generate(random.Random(seed), "330203"))
    page.select_option("#region_code", "330203")
    page.select_option("#industry_division", "38")
    page.fill("#employees", "80")
    page.locator("main form button.primary[type=submit]").click()
    page.wait_for_url("**/firms/*/")
    page.locator("form.qn-start:has(input[value='pinzibiao']) button[type=submit]").click()
    page.wait_for_url("**/sections/basic")
    return str(page.url)


def _in_view_and_focused(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """sel => {
              const el = document.querySelector(sel);
              if (!el || document.activeElement !== el) return false;
              const r = el.getBoundingClientRect();
              return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
            }""",
            selector,
        )
    )


def test_a_refused_upload_lands_on_its_message(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        _sign_up_and_start(page, server, "upload@example.cn", 5)
        item = "#item-pzb-zj-standard"
        box = page.locator(item)
        if box.locator("details:has(input[type=file])").get_attribute("open") is None:
            box.locator("details:has(input[type=file]) > summary").click()
        fake = tmp_path / "检测报告.pdf"
        fake.write_bytes(b"MZ\x90\x00" + b"\0" * 200)  # a program renamed .pdf
        box.locator("input[type=file]").set_input_files(str(fake))
        box.locator("button", has_text="上传").click()
        page.wait_for_url("**/sections/basic#item-pzb-zj-standard")
        page.wait_for_load_state("load")
        errors = f"{item} [data-errors]"
        assert "不接受此类文件" in page.locator(errors).inner_text()
        # the person lands on the message: in view and focused (read out by a screen reader)
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.id === 'errors-pzb-zj-standard'"
        )
        assert _in_view_and_focused(page, errors)
        assert page.evaluate("window.scrollY") > 300  # not left at the top of the page
        # and a good file afterwards is attached
        good = tmp_path / "标准文本.pdf"
        good.write_bytes(pdf_bytes("standard"))
        box.locator("input[type=file]").set_input_files(str(good))
        box.locator("button", has_text="上传").click()
        page.wait_for_load_state()
        assert "标准文本.pdf" in page.locator(item).inner_text()
        assert page.locator(errors).inner_text().strip() == ""
        # a file over the limit is refused before it is sent, with the same landing
        big = tmp_path / "全年检测记录.pdf"
        big.write_bytes(b"%PDF-1.4\n" + b"\0" * (20 * 1024 * 1024 + 1))
        sent: list[str] = []
        page.on("request", lambda req: sent.append(req.url) if "/evidence" in req.url else None)
        page.evaluate("window.scrollTo(0, 0)")
        box.locator("input[type=file]").set_input_files(str(big))
        box.locator("button", has_text="上传").click()
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.id === 'errors-pzb-zj-standard'"
        )
        assert "文件太大" in page.locator(errors).inner_text()
        assert _in_view_and_focused(page, errors) and sent == []
        browser.close()


def test_not_applicable_without_a_reason_is_kept_and_asked_for(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        basic = _sign_up_and_start(page, server, "na@example.cn", 6)
        url = basic.replace("/sections/basic", "/sections/management")
        page.goto(url)
        item = "#item-pzb-iso14001"
        page.locator(f"{item} input[name^=na-]").check()
        # at once: the item says a reason is needed, and the tick is kept on this device
        status = page.locator(f"{item} [data-status]")
        assert "写明理由后才会保存" in status.inner_text()
        keys = page.evaluate("Object.keys(localStorage).filter(k => k.includes(':pzb-iso14001:'))")
        assert len(keys) == 1

        # leaving asks first; staying keeps everything as it was
        dialogs: list[str] = []

        def stay(dialog: Any) -> None:
            dialogs.append(dialog.type)
            dialog.dismiss()

        page.on("dialog", stay)
        page.locator(".qn-seclist a", has_text="基本条件").click()
        page.wait_for_timeout(500)
        assert dialogs == ["beforeunload"] and page.url == url
        page.remove_listener("dialog", stay)

        # leaving anyway: the tick waits on this device and comes back with the page, asking again
        page.on("dialog", lambda d: d.accept())
        page.locator(".qn-seclist a", has_text="基本条件").click()
        page.wait_for_url("**/sections/basic")
        page.wait_for_timeout(300)  # the other section's answers kept here are not sent without a reason
        assert (
            page.evaluate("Object.keys(localStorage).filter(k => k.includes(':pzb-iso14001:')).length") == 1
        )
        page.goto(url)
        assert page.locator(f"{item} input[name^=na-]").is_checked()
        assert "写明理由后才会保存" in page.locator(f"{item} [data-status]").inner_text()
        assert page.locator(f"{item} [data-errors]").inner_text().strip() == ""  # not refused by the server

        # the reason written: saved, and the local copy gone
        page.locator(f"{item} textarea[name^=na_reason-]").fill("本企业为纯装配企业，无排污工序")
        _saved(page, "pzb-iso14001")
        assert (
            page.evaluate("Object.keys(localStorage).filter(k => k.includes(':pzb-iso14001:')).length") == 0
        )
        page.reload()
        assert page.locator(f"{item} input[name^=na-]").is_checked()
        assert "无排污工序" in page.locator(f"{item} textarea[name^=na_reason-]").input_value()
        browser.close()


# ---- the firm manager's journey, in zh and in en ------------------------------------------------------

JOURNEY = {
    "zh": {
        "locale": "zh-CN",
        "html": "zh-CN",
        "register": "注册",
        "start": "开始评估",
        "upload": "上传",
        "overview": "总览与提交",
        "submit": "提交评估",
        "verdict": ("各目标的准备度", "未达标", "达标路径"),
        "report": "改进报告",
        "file": "标准总师任命文件.pdf",
    },
    "en": {
        "locale": "en-GB",
        "html": "en",
        "register": "Create an account",
        "start": "Start an assessment",
        "upload": "Upload",
        "overview": "Overview and submit",
        "submit": "Submit the assessment",
        "verdict": ("Readiness per target", "Not ready", "Path to ready"),
        "report": "Improvement report",
        "file": "appointment-of-the-chief-standards-engineer.pdf",
    },
}


def watch(page: Any) -> list[str]:
    """What the page reports as going wrong: script errors, console errors (a breach of the
    Content-Security-Policy is one: Chromium logs it as an error; so is a resource answering 4xx/5xx)."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"script error on {page.url}: {e}"))

    def console(m: Any) -> None:
        source = (m.location or {}).get("url", "")
        if m.type == "error" or "Content Security Policy" in m.text:
            problems.append(f"console {m.type} on {page.url} ({source}): {m.text}")

    page.on("console", console)
    return problems


def in_language(page: Any, lang: str) -> str:
    """The page's main text, once its <html lang> says the language of the journey."""
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == JOURNEY[lang]["html"], page.url
    return str(page.locator("main").inner_text())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_firm_managers_journey(server: str, tmp_path: Path, lang: str) -> None:
    """Register, create a firm, assess (autosave), upload evidence, submit, read the verdict and the
    report: every page in the browser's language, no script error, no breach of the policy."""
    from playwright.sync_api import sync_playwright

    t = JOURNEY[lang]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale=t["locale"], viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = watch(page)

        page.goto(server + "/account/register")
        assert t["register"] in in_language(page, lang)
        page.fill("#name", "周 经理" if lang == "zh" else "Zhou Manager")
        page.fill("#email", f"manager.{lang}@example.cn")
        page.fill("#password", "correct-horse-battery")
        page.fill("#confirm", "correct-horse-battery")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/account/signin")
        confirm_email(page, server)
        page.goto(server + "/firms/new")
        in_language(page, lang)
        page.fill("#name", "温州旅程泵业有限公司")
        page.fill("#credit_code", credit_code.generate(random.Random(11), "330302"))
        page.select_option("#region_code", "330302")
        page.select_option("#industry_division", "34")
        page.fill("#employees", "150")
        page.locator("main form button.primary[type=submit]").click()
        page.wait_for_url("**/firms/*/")
        assert t["start"] in in_language(page, lang)

        # assess: two answers, saved as they are given
        page.locator("form.qn-start:has(input[value='chief-quality-officer']) button[type=submit]").click()
        page.wait_for_url("**/sections/appointment")
        in_language(page, lang)
        page.locator("#item-cqo-appointed label.qn-choice:has(input[value=no])").click()
        _saved(page, "cqo-appointed")
        page.goto(page.url.replace("/sections/appointment", "/sections/operation"))
        in_language(page, lang)
        item = "#item-cqo-chief-standards-engineer"
        page.locator(f"{item} label.qn-choice:has(input[value=yes])").click()
        _saved(page, "cqo-chief-standards-engineer")

        # evidence for it
        pdf = tmp_path / t["file"]
        pdf.write_bytes(pdf_bytes("appointment of the chief standards engineer"))
        box = page.locator(item)
        if box.locator("details:has(input[type=file])").get_attribute("open") is None:
            box.locator("details:has(input[type=file]) > summary").click()
        box.locator("input[type=file]").set_input_files(str(pdf))
        box.locator("button", has_text=t["upload"]).click()
        page.wait_for_load_state()
        in_language(page, lang)
        assert t["file"] in page.locator(item).inner_text()

        # submit, the verdict, the report
        page.locator("a", has_text=t["overview"]).first.click()
        in_language(page, lang)
        page.locator("button", has_text=t["submit"]).click()
        page.wait_for_url("**/verdict")
        text = in_language(page, lang)
        assert all(phrase in text for phrase in t["verdict"]), text
        page.wait_for_selector("#chart-bars svg")
        page.locator("main a.btn", has_text=t["report"]).click()
        page.wait_for_url("**/report")
        text = in_language(page, lang)
        assert "温州旅程泵业有限公司" in text
        assert page.locator("main svg").count() > 0  # the charts, with their inline styles
        page.wait_for_load_state("networkidle")
        browser.close()
    assert problems == [], problems
