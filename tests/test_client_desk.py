"""Working for a client: the header's breadcrumb (consultancy → client → page) and client switcher,
firm pages that speak to a consultant as a consultant, and a history that says who did what — with the
consultancy of a consultant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.test_questionnaire import english, save, start
from webapp import db, tenancy
from webapp.models import Consultancy, ConsultancyGrant, Firm, Membership


@pytest.fixture
def desk(app, client, create_user, create_firm, login) -> dict[str, Any]:
    consultant = create_user(email="chen@desk.cn", name="陈明 Chen")
    owner = create_user(email="owner@desk.cn", name="王丽 Owner")
    a = create_firm("杭州甲机械有限公司", owner=owner)
    b = create_firm("绍兴乙纺织有限公司", owner=create_user(email="b@desk.cn"), region="330603")
    stranger = create_firm("温州丙电器有限公司", owner=create_user(email="s@desk.cn"), region="330302")
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="浙江卓越质量管理咨询有限公司", code="DESK01")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        for firm in (a, b):
            db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        db.session.commit()
    login(client, consultant)
    return {"client": client, "consultant": consultant, "owner": owner, "a": a, "b": b, "stranger": stranger}


def _clientbar(html: str) -> str:
    match = re.search(r'<div class="clientbar">(.*?)</div>\s*</header>', html, re.S)
    assert match, "no client bar in the header"
    return match.group(1)


def test_a_client_page_has_the_breadcrumb_and_the_switcher(desk):
    c, a, b = desk["client"], desk["a"], desk["b"]
    html = c.get(f"/firms/{a.id}/").get_data(as_text=True)
    bar = _clientbar(html)
    crumbs = re.findall(r"<li>(.*?)</li>", bar, re.S)
    assert 'href="/consultant/"' in crumbs[0] and "浙江卓越质量管理咨询有限公司" in crumbs[0]
    assert "杭州甲机械有限公司" in crumbs[1] and 'aria-current="page"' in crumbs[1]  # the client's home
    options = dict(re.findall(r'<option value="(\d+)" ?(selected)?>', bar))
    assert set(options) == {str(a.id), str(b.id)} and options[str(a.id)] == "selected"  # its clients only
    assert "温州丙电器有限公司" not in bar

    # a deeper page: consultancy → client → the page
    profile = _clientbar(c.get(f"/firms/{a.id}/profile").get_data(as_text=True))
    assert f'href="/firms/{a.id}/"' in profile and '<li aria-current="page">企业档案</li>' in profile
    # a page whose title names the firm: the crumb after the firm's does not name it again
    plan = _clientbar(c.get(f"/firms/{a.id}/plan").get_data(as_text=True))
    assert (
        '<li aria-current="page">改进计划</li>' in plan and plan.count("杭州甲机械有限公司") == 2
    )  # + switcher

    # the switcher opens another client; a firm that is not a client is not found
    r = c.get(f"/consultant/clients/open?firm={b.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/firms/{b.id}/")
    assert c.get(f"/consultant/clients/open?firm={desk['stranger'].id}").status_code == 404
    assert c.get("/consultant/clients/open?firm=abc").status_code == 404
    assert c.get("/consultant/clients/open").headers["Location"].endswith("/consultant/")


def test_the_portfolio_offers_the_switcher_and_the_firm_sees_no_client_bar(app, desk, login):
    portfolio = _clientbar(desk["client"].get("/consultant/").get_data(as_text=True))
    assert "选择客户" in portfolio and "浙江卓越质量管理咨询有限公司" in portfolio
    owner = app.test_client()
    login(owner, desk["owner"])
    html = owner.get(f"/firms/{desk['a'].id}/").get_data(as_text=True)
    assert 'class="clientbar"' not in html
    assert "您的准备度目标" in html and "该客户" not in html


def test_firm_pages_speak_to_the_consultant_as_a_consultant(app, desk):
    c, a = desk["client"], desk["a"]
    html = c.get(f"/firms/{a.id}/").get_data(as_text=True)
    assert "该客户的准备度目标" in html and "您的准备度目标" not in html
    english(app, desk["consultant"])
    html = c.get(f"/firms/{a.id}/").get_data(as_text=True)
    assert "This client’s readiness targets" in html and "Your readiness targets" not in html
    assert "where this client is, with its latest verdict" in html


def test_the_history_says_who_did_what_with_the_consultancy(app, desk, login):
    c, a = desk["client"], desk["a"]
    aid = start(c, a.id)  # the consultant starts the client's assessment and answers
    assert save(c, a.id, aid, "pzb-zj-standard", 0, value="drafting").json["ok"]
    owner = app.test_client()
    login(owner, desk["owner"])
    assert save(owner, a.id, aid, "pzb-zj-standard", 1, value="published").json["ok"]
    url = f"/firms/{a.id}/assessments/{aid}/items/pzb-zj-standard/history"
    for reader in (c, owner):  # both read who did what
        page = reader.get(url).get_data(as_text=True)
        assert "陈明 Chen（浙江卓越质量管理咨询有限公司）" in page
        assert "王丽 Owner" in page and "王丽 Owner（" not in page  # a member of the firm: no consultancy
    section = owner.get(f"/firms/{a.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "陈明 Chen（浙江卓越质量管理咨询有限公司）" in section


def test_a_section_page_revalidated_after_a_new_client_shows_it_in_the_switcher(
    app, desk, create_user, create_firm
):
    """The header's switcher lists the consultancy's clients: a new client (or a client renamed) is
    something the section page shows, so a revalidating browser gets the page again, not a 304."""
    c, a = desk["client"], desk["a"]
    aid = start(c, a.id)
    url = f"/firms/{a.id}/assessments/{aid}/sections/basic"
    c.get(url)  # the flash of the start
    etag = c.get(url).headers["ETag"]
    assert c.get(url, headers={"If-None-Match": etag}).status_code == 304
    newcomer = create_firm("宁波丁模具有限公司", owner=create_user(email="d@desk.cn"), region="330203")
    with app.app_context(), tenancy.bypass():
        cid = db.session.scalar(select(Consultancy.id).where(Consultancy.code == "DESK01"))
        db.session.add(ConsultancyGrant(firm_id=newcomer.id, consultancy_id=cid))
        db.session.commit()
    r = c.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and "宁波丁模具有限公司" in _clientbar(r.get_data(as_text=True))
    etag = r.headers["ETag"]
    with app.app_context(), tenancy.bypass():
        db.session.execute(update(Firm).where(Firm.id == newcomer.id).values(name="宁波丁精密模具有限公司"))
        db.session.commit()
    r = c.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and "宁波丁精密模具有限公司" in _clientbar(r.get_data(as_text=True))


def test_the_verdict_tells_a_consultant_of_the_clients_region_not_yours(app, desk, login):
    """A Hangzhou client's verdict on the performance-excellence framework: Shaoxing's award is not
    for the firm's region. Its owner reads "your region"; the consultant reads "this firm's region"."""
    c, a = desk["client"], desk["a"]
    aid = start(c, a.id, "performance-excellence", "full")
    url = f"/firms/{a.id}/assessments/{aid}/verdict"
    page = c.get(url).get_data(as_text=True)
    assert "不适用于该企业所在地区" in page and "不适用于贵企业所在地区" not in page
    owner = login(app.test_client(), desk["owner"])
    page = owner.get(url).get_data(as_text=True)
    assert "不适用于贵企业所在地区" in page and "不适用于该企业所在地区" not in page
