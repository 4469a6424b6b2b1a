"""Firms, memberships, invitations, consultancy grants; each role lands on its home page."""

from __future__ import annotations

import datetime as dt
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
    assert "无法按所填信息登记该企业" in r.get_data(as_text=True)  # it does not say why (test_oracles.py)


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
    from webapp import tenancy
    from webapp.commands.demo import statistics as stats_demo
    from webapp.models import Regulator

    analyst = create_user()
    for i in range(6):
        create_firm(
            f"西湖企业{i}", owner=create_user(), region="330106", synthetic=True, share_statistics=True
        )
    create_firm("萧山独家企业", owner=create_user(), region="330109", synthetic=True, share_statistics=True)
    create_firm("宁波企业", owner=create_user(), region="330203", synthetic=True, share_statistics=True)
    with app.app_context():
        with tenancy.bypass():
            stats_demo.load(today=dt.date(2026, 12, 1))
        r = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
        db.session.add(r)
        db.session.flush()
        db.session.add(Membership(user_id=analyst.id, regulator_id=r.id, role="analyst"))
        db.session.commit()
    login(client, analyst)
    page = client.get("/regulator/").get_data(as_text=True)
    assert "西湖区" in page and "&lt; 5" in page
    assert "西湖企业" not in page and "萧山独家企业" not in page  # never a firm's name
    assert "<strong>7</strong>" in page  # the seven Hangzhou firms assessed, not Ningbo's
    # 萧山 alone (1 firm) is "< 5"; 西湖 (6) cannot be shown either, or 7 - 6 would give 萧山 away
    xs = client.get("/regulator/", query_string={"cut": "region:330109"}).get_data(as_text=True)
    assert '<strong><span class="st-hidden">&lt; 5</span></strong>' in xs
    xh = client.get("/regulator/", query_string={"cut": "region:330106"}).get_data(as_text=True)
    assert "<strong>6</strong>" not in xh and '<strong><span class="st-hidden"' in xh


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
    assert r.status_code == 302 and "/account/signin" in r.headers["Location"]
    assert outbox[-1].to == "newbie@example.cn"
    r = newcomer.get(link_in(outbox[-1].body))  # confirming the address signs in and goes back to it
    assert r.status_code == 302 and r.headers["Location"].endswith(link)
    assert newcomer.post(link).status_code == 302
    assert firm.name in newcomer.get(f"/firms/{firm.id}/").get_data(as_text=True)


# ---- an invitation is used once, can be withdrawn, and shows its address to nobody else ----------


def _invite(client, firm_id, email, role="editor"):
    r = client.post(f"/firms/{firm_id}/members/invite", data={"email": email, "role": role})
    assert r.status_code == 302
    return r


def _is_member(app, user, firm_id):
    with app.app_context():
        return (
            db.session.scalar(
                select(Membership.id).where(Membership.user_id == user.id, Membership.firm_id == firm_id)
            )
            is not None
        )


def test_a_removed_member_cannot_rejoin_with_the_old_invitation(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user(email="owner@example.cn")
    firm = create_firm(owner=owner)
    login(client, owner)
    _invite(client, firm.id, "colleague@example.cn")
    link = link_in(outbox[-1].body)
    colleague_user = create_user(email="colleague@example.cn")
    colleague = login(app.test_client(), colleague_user)
    assert colleague.post(link).status_code == 302
    assert _is_member(app, colleague_user, firm.id)

    with app.app_context():
        mid = db.session.scalar(select(Membership.id).where(Membership.user_id == colleague_user.id))
    assert client.post(f"/firms/{firm.id}/members/{mid}/remove").status_code == 302
    assert not _is_member(app, colleague_user, firm.id)

    r = colleague.get(link)
    assert r.status_code == 410
    page = r.get_data(as_text=True)
    assert "此邀请已使用过" in page and "接受邀请" not in page  # nothing to accept
    assert colleague.post(link).status_code == 410
    assert not _is_member(app, colleague_user, firm.id)
    assert colleague.get(f"/firms/{firm.id}/").status_code == 404

    # signed out, the link says the same (with a way to sign in), instead of asking to sign in first
    r = app.test_client().get(link, headers={"Accept-Language": "en"})
    assert r.status_code == 410
    page = r.get_data(as_text=True)
    assert "This invitation has already been used" in page and "/account/signin" in page


def test_an_invitation_is_accepted_once_even_by_the_same_person(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    _invite(client, firm.id, "twice@example.cn", role="viewer")
    link = link_in(outbox[-1].body)
    user = create_user(email="twice@example.cn", locale="en")
    cl = login(app.test_client(), user)
    assert cl.post(link).status_code == 302
    r = cl.get(link)
    assert r.status_code == 410 and "This invitation has already been used" in r.get_data(as_text=True)


def test_the_owner_sees_and_revokes_a_pending_invitation(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user(email="owner@example.cn", name="王丽 Owner")
    editor = create_user()
    firm = create_firm(owner=owner, members={"editor": editor})
    login(client, owner)
    _invite(client, firm.id, "pending@example.cn", role="viewer")
    link = link_in(outbox[-1].body)

    page = client.get(f"/firms/{firm.id}/members").get_data(as_text=True)
    pending = page.split("等待回复", 1)[1]
    assert "pending@example.cn" in pending and "查看者" in pending and "王丽 Owner" in pending
    match = re.search(r'action="(/firms/\d+/members/invitations/(\d+)/revoke)"', pending)
    assert match, pending
    revoke_url = match.group(1)

    # only an owner of this firm may withdraw it
    ed = login(app.test_client(), editor)
    assert ed.post(revoke_url).status_code == 403
    other_owner = create_user()
    other = create_firm("别家企业", owner=other_owner, region="330203")
    outsider = login(app.test_client(), other_owner)
    assert outsider.post(f"/firms/{other.id}/members/invitations/{match.group(2)}/revoke").status_code == 404

    r = client.post(revoke_url)
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "pending@example.cn" in page  # the flash message names it ...
    assert "等待回复" not in page  # ... but it waits for nobody any more

    invitee = create_user(email="pending@example.cn")
    cl = login(app.test_client(), invitee)
    r = cl.get(link)
    assert r.status_code == 410 and "此邀请已被撤回" in r.get_data(as_text=True)
    assert cl.post(link).status_code == 410
    assert not _is_member(app, invitee, firm.id)


def test_inviting_again_sends_a_fresh_link_and_the_older_one_stops(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    _invite(client, firm.id, "again@example.cn", role="viewer")
    old = link_in(outbox[-1].body)
    _invite(client, firm.id, "Again@example.cn", role="editor")
    new = link_in(outbox[-1].body)
    assert old != new

    pending = client.get(f"/firms/{firm.id}/members").get_data(as_text=True).split("等待回复", 1)[1]
    assert pending.count("again@example.cn") == 1 and "编辑者" in pending

    user = create_user(email="again@example.cn", locale="en")
    cl = login(app.test_client(), user)
    r = cl.get(old)
    assert r.status_code == 410
    assert "newer invitation" in r.get_data(as_text=True)
    assert cl.post(old).status_code == 410
    assert not _is_member(app, user, firm.id)
    assert cl.post(new).status_code == 302
    with app.app_context():
        role = db.session.scalar(
            select(Membership.role).where(Membership.user_id == user.id, Membership.firm_id == firm.id)
        )
    assert role == "editor"


def test_an_invitation_expires_after_14_days(
    app, client, outbox, create_user, create_firm, login, monkeypatch
):
    import datetime as dt

    from flask import url_for
    from itsdangerous.timed import TimestampSigner

    from webapp.auth.util import make_token
    from webapp.models import Invitation

    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    _invite(client, firm.id, "late@example.cn", role="viewer")
    fifteen_days_ago = int(dt.datetime.now(dt.UTC).timestamp()) - 15 * 24 * 3600
    with app.test_request_context(), monkeypatch.context() as m:  # as if the email left 15 days ago
        m.setattr(TimestampSigner, "get_timestamp", lambda self: fifteen_days_ago)
        inv = db.session.scalar(select(Invitation).where(Invitation.email == "late@example.cn"))
        inv.created_at = dt.datetime.fromtimestamp(fifteen_days_ago, dt.UTC)
        link = url_for("orgs.invitation", token=make_token("invite", inv.id))
        db.session.commit()

    user = create_user(email="late@example.cn")
    cl = login(app.test_client(), user)
    r = cl.get(link)
    assert r.status_code == 400 and "此邀请已过期" in r.get_data(as_text=True)
    assert cl.post(link).status_code == 400
    assert not _is_member(app, user, firm.id)
    # an expired invitation no longer waits for an answer on the members page
    assert "等待回复" not in client.get(f"/firms/{firm.id}/members").get_data(as_text=True)


def test_someone_else_opening_the_link_sees_no_address_and_cannot_accept(
    app, client, outbox, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    _invite(client, firm.id, "colleague@example.cn")
    link = link_in(outbox[-1].body)

    stranger_user = create_user(email="someone@example.cn", locale="en")
    stranger = login(app.test_client(), stranger_user)
    r = stranger.get(link)
    assert r.status_code == 403
    page = r.get_data(as_text=True)
    assert "colleague@example.cn" not in page and "colleague" not in page
    assert "c***@e***.cn" in page
    assert stranger.post(link).status_code == 403
    assert not _is_member(app, stranger_user, firm.id)

    # the invitation still works for the person it was sent to
    colleague_user = create_user(email="colleague@example.cn")
    colleague = login(app.test_client(), colleague_user)
    assert colleague.post(link).status_code == 302
    assert _is_member(app, colleague_user, firm.id)


def test_consultancy_invitations_work_the_same_way(app, outbox, create_user, login):
    from webapp.models import Consultancy

    boss, joiner = create_user(name="顾问老板"), create_user(email="joiner@example.cn")
    with app.app_context():
        c = Consultancy(name="测试咨询", code="INV123")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=boss.id, consultancy_id=c.id, role="owner"))
        db.session.commit()
        cid = c.id
    owner = login(app.test_client(), boss)
    assert (
        owner.post(
            "/consultant/invite", data={"email": "joiner@example.cn", "role": "consultant"}
        ).status_code
        == 302
    )
    link = link_in(outbox[-1].body)
    cl = login(app.test_client(), joiner)
    assert cl.post(link).status_code == 302

    def member():
        with app.app_context():
            return db.session.scalar(
                select(Membership).where(Membership.user_id == joiner.id, Membership.consultancy_id == cid)
            )

    with app.app_context():  # the consultancy parts with them
        db.session.delete(db.session.merge(member()))
        db.session.commit()
    r = cl.get(link)
    assert r.status_code == 410 and "此邀请已使用过" in r.get_data(as_text=True)
    assert cl.post(link).status_code == 410
    assert member() is None

    # a pending one is listed with who sent it, and the owner withdraws it
    assert (
        owner.post("/consultant/invite", data={"email": "next@example.cn", "role": "consultant"}).status_code
        == 302
    )
    second = link_in(outbox[-1].body)
    page = owner.get("/consultant/").get_data(as_text=True)
    pending = page.split("等待回复", 1)[1]
    assert "next@example.cn" in pending and "顾问老板" in pending
    match = re.search(r'action="(/consultant/invitations/\d+/revoke)"', pending)
    assert match, pending
    assert owner.post(match.group(1)).status_code == 302
    nxt = login(app.test_client(), create_user(email="next@example.cn"))
    r = nxt.get(second)
    assert r.status_code == 410 and "此邀请已被撤回" in r.get_data(as_text=True)
