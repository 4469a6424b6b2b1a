"""Reports in the app: who may see them, the cache, hostile content, the time limit, branding, the CLI."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from webapp import db, tenancy
from webapp.models import Answer, Comment, Consultancy, ConsultancyGrant, Evidence, Membership
from webapp.reports import sample, services

HOSTILE = '<img src="file:///etc/passwd"> <a href="http://169.254.169.254/latest/meta-data/">meta</a>'


@pytest.fixture(autouse=True)
def _own_cache(app, tmp_path, monkeypatch):
    """Each test starts with an empty report cache."""
    monkeypatch.setitem(app.config, "REPORT_CACHE_DIR", str(tmp_path / "report-cache"))


@pytest.fixture
def world(app, dbconn, create_user, create_firm) -> dict[str, Any]:
    owner = create_user(email="owner@reports.cn", name="王丽")
    outsider = create_user(email="outsider@reports.cn")
    consultant = create_user(email="consultant@reports.cn", name="陈明")
    firm = create_firm("杭州精工阀门有限公司", owner=owner, founded_on=None)
    other = create_firm("宁波别家电子有限公司", owner=outsider, region="330203")
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="浙江卓越质量管理咨询有限公司", code="RPTS01")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        mine = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        theirs = sample.create_assessment(other.id, "chief-quality-officer", mode="default", seed=9)
        db.session.commit()
        return {
            "owner": owner,
            "outsider": outsider,
            "consultant": consultant,
            "firm": firm.id,
            "other": other.id,
            "consultancy": c.id,
            "mine": mine.id,
            "theirs": theirs.id,
        }


@pytest.fixture
def renders(monkeypatch) -> list[Any]:
    """Every PDF rendering (each call of WeasyPrint) as it happens."""
    seen: list[Any] = []
    real = services.render_pdf

    def counting(html, assets):
        result = real(html, assets)
        seen.append(result)
        return result

    monkeypatch.setattr(services, "render_pdf", counting)
    return seen


def urls(firm_id: int, assessment_id: int) -> tuple[str, str]:
    base = f"/firms/{firm_id}/assessments/{assessment_id}/report"
    return base, base + ".pdf"


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()


# ---- access ---------------------------------------------------------------------------------------


def test_the_firm_sees_its_report_in_both_languages(client, login, world):
    login(client, world["owner"])
    page, pdf = urls(world["firm"], world["mine"])
    zh = client.get(page)
    assert zh.status_code == 200
    body = zh.get_data(as_text=True)
    assert "改进报告" in body and "杭州精工阀门有限公司" in body and 'lang="zh-CN"' in body
    en = client.get(page + "?lang=en").get_data(as_text=True)
    assert "Improvement report" in en and "Executive summary" in en
    assert f'href="{pdf}?lang=en"' in en


def test_another_firms_user_gets_404_for_html_and_pdf(client, login, world):
    login(client, world["outsider"])
    for url in urls(world["firm"], world["mine"]):  # the other firm's URL
        assert client.get(url).status_code == 404
    for url in urls(world["other"], world["mine"]):  # their own firm's URL, the other firm's assessment
        assert client.get(url).status_code == 404
    assert client.get(urls(world["other"], world["theirs"])[0]).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for url in urls(world["firm"], world["mine"]):
        r = client.get(url)
        assert r.status_code == 302 and "/account/signin" in r.headers["Location"]


# ---- the PDF and its cache ------------------------------------------------------------------------


def test_pdf_download_then_cache_hit_then_change(app, client, login, world, renders, tmp_path):
    login(client, world["owner"])
    _, url = urls(world["firm"], world["mine"])
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"].startswith("attachment")
    assert first.data.startswith(b"%PDF")
    assert len(renders) == 1
    assert "杭州精工阀门有限公司" in pdf_text(first.data, tmp_path)

    second = client.get(url)  # unchanged: from the cache, WeasyPrint not called
    assert second.status_code == 200 and second.data == first.data
    assert len(renders) == 1
    etag = second.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    with app.app_context(), tenancy.bypass():
        answer = db.session.scalar(
            select(Answer).where(Answer.assessment_id == world["mine"], Answer.item_id == "cqo-appointed")
        )
        answer.value = not answer.value
        db.session.commit()
    third = client.get(url)  # an answer changed: a new key, a new rendering
    assert third.status_code == 200 and len(renders) == 2
    assert third.headers["ETag"] != etag


def test_hostile_text_renders_as_text_and_fetches_nothing(app, client, login, world, renders, tmp_path):
    with app.app_context(), tenancy.bypass():
        db.session.add(
            Comment(firm_id=world["firm"], assessment_id=world["mine"], item_id="cqo-appointed", body=HOSTILE)
        )
        answer = db.session.scalar(
            select(Answer).where(Answer.assessment_id == world["mine"], Answer.item_id == "cqo-budget")
        )
        answer.na_reason = "<script>alert(1)</script> https://evil.example/x.png"
        ev = db.session.scalar(select(Evidence).where(Evidence.assessment_id == world["mine"]).limit(1))
        ev.filename = '<img src="http://169.254.169.254/">.pdf'
        db.session.commit()
    login(client, world["owner"])
    page, pdf = urls(world["firm"], world["mine"])
    html = client.get(page).get_data(as_text=True)
    assert '<img src="file:///etc/passwd">' not in html and "<script>alert(1)" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert '<img src="http://169.254.169.254/">' not in html

    r = client.get(pdf)
    assert r.status_code == 200
    (rendered,) = renders
    assert rendered.refused == ()  # nothing was even asked for ...
    assert rendered.served == ("report-asset:static/report.css",)  # ... but the stylesheet
    text = pdf_text(r.data, tmp_path)
    assert '<img src="file:///etc/passwd">' in text  # shown as the text it is
    assert "169.254.169.254" in text


def test_a_render_past_the_time_limit_is_stopped_with_a_clear_error(app, client, login, world, monkeypatch):
    login(client, world["owner"])
    _, url = urls(world["firm"], world["mine"])
    monkeypatch.setitem(app.config, "REPORT_RENDER_TIMEOUT", 0.001)
    r = client.get(url)
    assert r.status_code == 503
    assert "生成报告用时过长" in r.get_data(as_text=True)
    monkeypatch.setitem(app.config, "REPORT_RENDER_TIMEOUT", 30)
    assert client.get(url).status_code == 200  # a fresh worker takes over


# ---- a consultant's report ------------------------------------------------------------------------


def _png() -> bytes:
    """A small valid PNG (a red 4x4 square), made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xb3\x26\x1e" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_a_consultants_report_carries_the_consultancy(app, client, login, world, renders):
    login(client, world["consultant"])
    page, pdf = urls(world["firm"], world["mine"])
    html = client.get(page).get_data(as_text=True)
    assert "浙江卓越质量管理咨询有限公司" in html
    assert 'class="mark consultancy"' in html and ">卓越<" in html  # a text mark without a logo

    logo = Path(app.instance_path) / "branding" / f"{world['consultancy']}.png"
    logo.parent.mkdir(parents=True, exist_ok=True)
    logo.write_bytes(_png())
    try:
        html = client.get(page).get_data(as_text=True)  # the logo is an input: a new report
        assert 'class="logo-img" src="data:image/png;base64,' in html
        r = client.get(pdf)
        assert r.status_code == 200 and b"/Subtype /Image" in r.data
        assert f"report-asset:branding/{world['consultancy']}.png" in renders[-1].served
    finally:
        logo.unlink()


# ---- the command line -----------------------------------------------------------------------------


def test_cli_writes_pdf_and_html(app, world, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", str(world["mine"]), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "Wrote" in result.output
    html = tmp_path / "report.html"
    result = runner.invoke(
        args=["report", str(world["theirs"]), "--out", str(html), "--prepared-by", "审计员"]
    )
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "宁波别家电子有限公司" in text and "审计员" in text
    assert "<style>" in text  # standalone: the stylesheet travels with it
    missing = runner.invoke(args=["report", "999999", "--out", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 2 and "No assessment 999999" in missing.output
