"""Firms, memberships, invitations, consultancy grants; each role lands on its home page."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from tests.conftest import link_in
from webapp import db, tenancy
from webapp.models import ConsultancyGrant, Firm, Membership
from webapp.refdata import credit_code

GOOD_CODE = credit_code.generate(random.Random(1), "330106")


def firm_form(**over):
    data = {
        "name": "杭州你好精密机械有限公司",
        "credit_code": GOOD_CODE,
        "region_code": "330106",
        "industry_division": "34",
        "employees": "320",
        "revenue_10k": "2500",
        "founded_on": "2010-04-01",
        "above_scale": "y",
    }
    data.update(over)
    return data


def test_create_firm_computes_size_and_makes_owner(app, client, create_user, login):
    user = create_user()
    login(client, user)
    r = client.post("/firms/new", data=firm_form())
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "杭州你好精密机械有限公司" in page
    assert "中型" in page  # 320 employees and 2500万 revenue in manufacturing: medium
    with app.app_context(), tenancy.bypass():
        firm = db.session.scalar(select(Firm).where(Firm.credit_code == GOOD_CODE))
        assert firm.size_class == "medium" and firm.above_scale
        m = db.session.scalar(select(Membership).where(Membership.firm_id == firm.id))
        assert m.user_id == user.id and m.role == "owner"


def test_wrong_credit_code_says_what_is_wrong(client, create_user, login):
    login(client, create_user())
    broken = GOOD_CODE[:-1] + ("0" if GOOD_CODE[-1] != "0" else "1")
    r = client.post("/firms/new", data=firm_form(credit_code=broken))
    assert r.status_code == 422
    assert f"应为 {GOOD_CODE[-1]}" in r.get_data(as_text=True)
    r = client.post(
        "/firms/new", data=firm_form(credit_code=GOOD_CODE[:17]), headers={"Accept-Language": "en"}
    )
    assert "17" in r.get_data(as_text=True)


def test_duplicate_credit_code_is_refused(client, create_user, create_firm, login, app):
    firm = create_firm(owner=create_user())
    login(client, create_user())
    with app.app_context(), tenancy.bypass():
        code = db.session.get(Firm, firm.id).credit_code
    r = client.post("/firms/new", data=firm_form(credit_code=code))
    assert r.status_code == 422
    assert "已有企业使用此统一社会信用代码注册" in r.get_data(as_text=True)


def test_each_demo_role_lands_on_its_home(app, client, create_user, create_firm, login):
    from webapp.models import Consultancy, Regulator

    owner, consultant, analyst, admin = (create_user() for _ in range(4))
    with app.app_context():
        admin_user = db.session.get(type(admin), admin.id)
        admin_user.is_platform_admin = True
        c = Consultancy(name="测试咨询", code="TESTC1")
        r = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
        db.session.add_all([c, r])
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="owner"))
        db.session.add(Membership(user_id=analyst.id, regulator_id=r.id, role="analyst"))
        db.session.commit()
    firm = create_firm(owner=owner)
    for user, path in (
        (owner, f"/firms/{firm.id}/"),
        (consultant, "/consultant/"),
        (analyst, "/regulator/"),
        (admin, "/admin/"),
    ):
        cl = app.test_client()
        login(cl, user)
        r = cl.get("/home")
        assert r.headers["Location"].endswith(path), (user.email, r.headers["Location"])
        assert cl.get(path).status_code == 200


def test_invitation_by_email_link(app, client, outbox, create_user, create_firm, login):
    owner = create_user(email="owner@example.cn")
    firm = create_firm(owner=owner)
    login(client, owner)
    r = client.post(
        f"/firms/{firm.id}/members/invite", data={"email": "Colleague@example.cn", "role": "editor"}
    )
    assert r.status_code == 302
    link = link_in(outbox[-1].body)

    stranger = app.test_client()
    login(stranger, create_user(email="someone@example.cn"))
    assert stranger.post(link).status_code == 403  # not the invited address

    colleague = app.test_client()
    login(colleague, create_user(email="colleague@example.cn"))
    assert colleague.get(link).status_code == 200
    assert colleague.post(link).status_code == 302
    page = colleague.get(f"/firms/{firm.id}/").get_data(as_text=True)
    assert firm.name in page


def test_viewer_cannot_invite_or_edit(app, create_user, create_firm, login):
    viewer = create_user()
    firm = create_firm(owner=create_user(), members={"viewer": viewer})
    cl = login(app.test_client(), viewer)
    assert cl.get(f"/firms/{firm.id}/profile").status_code == 200
    assert (
        cl.post(
            f"/firms/{firm.id}/members/invite", data={"email": "x@example.cn", "role": "owner"}
        ).status_code
        == 403
    )
    assert cl.post(f"/firms/{firm.id}/profile/edit", data=firm_form()).status_code == 403


def test_last_owner_cannot_be_removed(app, client, create_user, create_firm, login):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    with app.app_context():
        mid = db.session.scalar(select(Membership.id).where(Membership.firm_id == firm.id))
    client.post(f"/firms/{firm.id}/members/{mid}/remove")
    with app.app_context():
        assert db.session.get(Membership, mid) is not None


def test_consultant_sees_only_firms_that_granted_access(app, client, create_user, create_firm, login):
    from webapp.models import Consultancy

    owner_a, owner_b, consultant = create_user(), create_user(), create_user()
    firm_a = create_firm("甲企业", owner=owner_a)
    firm_b = create_firm("乙企业", owner=owner_b)
    with app.app_context():
        c = Consultancy(name="测试咨询", code="QC1234")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        db.session.commit()
    cons = login(app.test_client(), consultant)
    assert cons.get(f"/firms/{firm_a.id}/").status_code == 404

    login(client, owner_a)
    assert client.post(f"/firms/{firm_a.id}/consultants", data={"code": "qc1234"}).status_code == 302
    portfolio = cons.get("/consultant/").get_data(as_text=True)
    assert "甲企业" in portfolio and "乙企业" not in portfolio
    assert cons.get(f"/firms/{firm_a.id}/").status_code == 200
    assert cons.get(f"/firms/{firm_b.id}/").status_code == 404

    with app.app_context():
        grant_id = db.session.scalar(select(ConsultancyGrant.id).where(ConsultancyGrant.firm_id == firm_a.id))
    assert client.post(f"/firms/{firm_a.id}/consultants/{grant_id}/revoke").status_code == 302
    assert cons.get(f"/firms/{firm_a.id}/").status_code == 404
    assert "甲企业" not in cons.get("/consultant/").get_data(as_text=True)


def test_unknown_consultancy_code(client, create_user, create_firm, login):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    r = client.post(f"/firms/{firm.id}/consultants", data={"code": "NOPE"})
    assert r.status_code == 422 and "没有咨询机构使用此代码" in r.get_data(as_text=True)


def test_switching_organisations(app, client, create_user, create_firm, login):
    user = create_user()
    a = create_firm("甲企业", owner=user)
    b = create_firm("乙企业", owner=user)
    login(client, user)
    assert client.get("/home").headers["Location"].endswith(f"/firms/{a.id}/")
    client.post("/orgs/switch", data={"org": f"firm:{b.id}"})
    assert client.get("/home").headers["Location"].endswith(f"/firms/{b.id}/")
    assert client.post("/orgs/switch", data={"org": "firm:999999"}).status_code == 404


def test_regulator_sees_only_aggregates_with_small_groups_suppressed(
    app, client, create_user, create_firm, login
):
    from webapp.models import Regulator

    analyst = create_user()
    for i in range(6):
        create_firm(f"西湖企业{i}", owner=create_user(), region="330106")
    create_firm("萧山独家企业", owner=create_user(), region="330109")
    create_firm("宁波企业", owner=create_user(), region="330203")
    with app.app_context():
        r = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
        db.session.add(r)
        db.session.flush()
        db.session.add(Membership(user_id=analyst.id, regulator_id=r.id, role="analyst"))
        db.session.commit()
    login(client, analyst)
    page = client.get("/regulator/").get_data(as_text=True)
    assert "西湖区" in page and "少于 5 家" in page
    assert "西湖企业" not in page and "萧山独家企业" not in page  # never a firm's name
    from webapp.stats.service import firm_stats

    with app.app_context():
        stats = firm_stats("330100")
    assert stats.total == 7
    # 萧山 alone (1 firm) is hidden; 西湖 (6) too, or 7 - 6 would give 萧山 away
    by_region = {g.key: (g.count, g.hidden) for g in stats.by_region}
    assert by_region == {"330106": (None, "complement"), "330109": (None, "small")}
    region_table = page.split("按地区", 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<td class="num">([^<]*)</td>', region_table) == ["不予显示", "少于 5 家"]


def test_a_hidden_group_can_never_be_worked_out_from_the_rest():
    from collections import Counter

    from webapp.stats.service import _groups

    def shown(counts: dict[str, int]) -> dict[str, int | str]:
        return {
            g.key: g.count if g.count is not None else g.hidden
            for g in _groups(Counter(counts), list(counts))
        }

    # one small group: the smallest shown one goes too, so neither follows from the total
    assert shown({"a": 10, "b": 7, "c": 3}) == {"a": 10, "b": "complement", "c": "small"}
    # two small groups already hide each other; groups with no firm are not listed
    assert shown({"a": 10, "b": 3, "c": 2, "d": 0}) == {"a": 10, "b": "small", "c": "small"}
    assert shown({"a": 12, "b": 9}) == {"a": 12, "b": 9}
    assert shown({"a": 4}) == {"a": "small"}


def test_a_new_user_registers_from_an_invitation_and_lands_back_on_it(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    client.post(f"/firms/{firm.id}/members/invite", data={"email": "newbie@example.cn", "role": "viewer"})
    link = link_in(outbox[-1].body)
    newcomer = app.test_client()
    r = newcomer.get(link)
    assert r.status_code == 302 and "/account/signin" in r.headers["Location"]
    r = newcomer.post(
        "/account/register?next=" + link,
        data={
            "name": "新人",
            "email": "newbie@example.cn",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(link)
    assert newcomer.post(link).status_code == 302
    assert firm.name in newcomer.get(f"/firms/{firm.id}/").get_data(as_text=True)
