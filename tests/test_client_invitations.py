"""A consultancy's clients by email: it invites a firm's owner (who accepts for one of their firms with
read or edit access — the grant exists at once), or creates a client firm and hands it over to its
future owner. The invitations are the member invitations' (used once, withdrawable, a masked address
for anyone else); the firm's code-entry grant stays; a revoke takes effect at once."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import link_in
from tests.test_questionnaire import rows, save, start
from webapp import db, tenancy
from webapp.models import Consultancy, ConsultancyGrant, Firm, Invitation, Membership
from webapp.refdata import credit_code

ITEM = "pzb-zj-standard"


@pytest.fixture
def desk(app, client, create_user, create_firm, login) -> dict[str, Any]:
    consultant = create_user(email="chen@clients.cn", name="陈明 Chen")
    owner = create_user(email="owner@clients.cn", name="王丽 Owner")
    firm = create_firm("杭州甲机械有限公司", owner=owner)
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="浙江卓越质量管理咨询有限公司", code="CLNT01")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        db.session.commit()
        cid = c.id
    login(client, consultant)
    return {"client": client, "consultant": consultant, "owner": owner, "firm": firm, "consultancy": cid}


def _invite(desk, outbox, email: str = "owner@clients.cn", firm_name: str = "甲机械") -> str:
    r = desk["client"].post("/consultant/clients/invite", data={"email": email, "firm_name": firm_name})
    assert r.status_code == 302, r.data
    mail = outbox[-1]
    assert mail.to == email and "浙江卓越质量管理咨询有限公司" in mail.subject
    return link_in(mail.body)


def _grant(app, firm_id: int) -> ConsultancyGrant | None:
    with app.app_context(), tenancy.bypass():
        return db.session.scalar(
            select(ConsultancyGrant).where(
                ConsultancyGrant.firm_id == firm_id, ConsultancyGrant.revoked_at.is_(None)
            )
        )


@pytest.mark.parametrize("chosen", ["read", "edit"])
def test_the_owner_accepts_with_the_access_they_choose(app, desk, outbox, login, chosen):
    cons, firm = desk["client"], desk["firm"]
    link = _invite(desk, outbox)
    assert firm.name not in cons.get("/consultant/").get_data(as_text=True)
    owner = login(app.test_client(), desk["owner"])
    page = owner.get(link).get_data(as_text=True)
    assert "浙江卓越质量管理咨询有限公司" in page and firm.name in page and "甲机械" in page
    r = owner.post(link, data={"firm": str(firm.id), "access": chosen})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/firms/{firm.id}/consultants")
    assert _grant(app, firm.id).access == chosen
    # at once: the portfolio lists the firm, and the consultant reads it
    assert firm.name in cons.get("/consultant/").get_data(as_text=True)
    assert cons.get(f"/firms/{firm.id}/").status_code == 200
    aid = start(owner, firm.id)
    saved = save(cons, firm.id, aid, ITEM, choice="drafting")
    for page in (f"/firms/{firm.id}/plan", f"/firms/{firm.id}/assessments/{aid}/sections/basic"):
        assert cons.get(page).status_code == 200, page
    if chosen == "read":
        assert saved.status_code == 403
        r = cons.post(f"/firms/{firm.id}/plan/new", data={"title": "顾问的行动", "status": "open"})
        assert r.status_code == 403
        assert cons.post(f"/firms/{firm.id}/assessments", data={"framework": "pinzibiao"}).status_code == 403
    else:
        assert saved.status_code == 200, saved.data
    # the owner sees the access on the consultants page
    label = {"read": "只读", "edit": "编辑"}[chosen]
    assert label in owner.get(f"/firms/{firm.id}/consultants").get_data(as_text=True)


def test_the_link_works_once_and_the_code_entry_still_works(app, desk, outbox, login, create_firm):
    firm, owner_user = desk["firm"], desk["owner"]
    link = _invite(desk, outbox)
    owner = login(app.test_client(), owner_user)
    assert owner.post(link, data={"firm": str(firm.id), "access": "edit"}).status_code == 302
    again = owner.post(link, data={"firm": str(firm.id), "access": "read"})
    assert again.status_code == 410 and "此邀请已使用过" in again.get_data(as_text=True)
    assert _grant(app, firm.id).access == "edit"  # the second try changed nothing
    # the code-entry grant of another firm of the same owner stays as it was
    other = create_firm("杭州乙电子有限公司", owner=owner_user, region="330108")
    r = owner.post(f"/firms/{other.id}/consultants", data={"code": "CLNT01"})
    assert r.status_code == 302 and _grant(app, other.id).access == "edit"


def test_a_withdrawn_invitation_no_longer_works(app, desk, outbox, login):
    cons, firm = desk["client"], desk["firm"]
    link = _invite(desk, outbox)
    page = cons.get("/consultant/clients/invite").get_data(as_text=True)
    assert "owner@clients.cn" in page
    (inv,) = rows(app, Invitation, role="client")
    assert cons.post(f"/consultant/clients/invitations/{inv.id}/revoke").status_code == 302
    owner = login(app.test_client(), desk["owner"])
    r = owner.post(link, data={"firm": str(firm.id), "access": "edit"})
    assert r.status_code == 410 and "此邀请已被撤回" in r.get_data(as_text=True)
    assert _grant(app, firm.id) is None
    # another consultancy cannot withdraw it: 404
    assert owner.post(f"/consultant/clients/invitations/{inv.id}/revoke").status_code in (403, 404)


def test_someone_else_sees_a_masked_address_and_cannot_accept(
    app, desk, outbox, login, create_user, create_firm
):
    link = _invite(desk, outbox)
    intruder = create_user(email="intruder@other.cn")
    their_firm = create_firm("宁波丙有限公司", owner=intruder, region="330203")
    other = login(app.test_client(), intruder)
    r = other.get(link)
    text = r.get_data(as_text=True)
    assert r.status_code == 403 and "o***@c***.cn" in text and "owner@clients.cn" not in text
    assert other.post(link, data={"firm": str(their_firm.id), "access": "edit"}).status_code == 403
    assert _grant(app, their_firm.id) is None


def test_the_owner_cannot_accept_for_a_firm_they_do_not_own(
    app, desk, outbox, login, create_user, create_firm
):
    firm, owner_user = desk["firm"], desk["owner"]
    elsewhere = create_firm(
        "台州丁有限公司", owner=create_user(), members={"viewer": owner_user}, region="331002"
    )
    link = _invite(desk, outbox)
    owner = login(app.test_client(), owner_user)
    page = owner.get(link).get_data(as_text=True)
    choices = re.search(r'<select id="firm".*?</select>', page, re.S).group(0)
    assert firm.name in choices and "台州丁有限公司" not in choices  # only the firms they own are offered
    r = owner.post(link, data={"firm": str(elsewhere.id), "access": "edit"})
    assert r.status_code == 422 and _grant(app, elsewhere.id) is None


def test_an_owner_without_a_firm_creates_one_then_accepts(app, desk, outbox, login, create_user):
    newcomer = create_user(email="new@clients.cn")
    link = _invite(desk, outbox, email="new@clients.cn", firm_name="")
    c = login(app.test_client(), newcomer)
    page = c.get(link).get_data(as_text=True)
    assert "/firms/new?next=" in page
    code = credit_code.generate(random.Random(3), "330106")
    r = c.post(
        "/firms/new?next=" + link,
        data={
            "name": "杭州新来有限公司",
            "credit_code": code,
            "region_code": "330106",
            "industry_division": "34",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(link)
    (firm,) = rows(app, Firm, name="杭州新来有限公司")
    assert c.post(link, data={"firm": str(firm.id), "access": "edit"}).status_code == 302
    assert _grant(app, firm.id).access == "edit"


def test_after_a_revoke_the_client_is_404_at_once(app, desk, outbox, login):
    cons, firm = desk["client"], desk["firm"]
    link = _invite(desk, outbox)
    owner = login(app.test_client(), desk["owner"])
    owner.post(link, data={"firm": str(firm.id), "access": "edit"})
    assert cons.get(f"/firms/{firm.id}/").status_code == 200
    g = _grant(app, firm.id)
    assert owner.post(f"/firms/{firm.id}/consultants/{g.id}/revoke").status_code == 302
    assert cons.get(f"/firms/{firm.id}/").status_code == 404
    assert firm.name not in cons.get("/consultant/").get_data(as_text=True)


def _new_client(cons, name: str = "湖州托管有限公司") -> int:
    code = credit_code.generate(random.Random(11), "330502")
    r = cons.post(
        "/consultant/clients/new",
        data={"name": name, "credit_code": code, "region_code": "330502", "industry_division": "34"},
    )
    assert r.status_code == 302, r.data
    return int(r.headers["Location"].rstrip("/").split("/")[-1])


def test_a_consultancy_creates_a_client_fills_it_and_hands_it_over(app, desk, outbox, login, create_user):
    cons = desk["client"]
    firm_id = _new_client(cons)
    with app.app_context(), tenancy.bypass():
        firm = db.session.get(Firm, firm_id)
        assert firm.share_statistics is False  # for the owner to agree, not the consultant
        assert not list(db.session.scalars(select(Membership).where(Membership.firm_id == firm_id)))
    assert _grant(app, firm_id).access == "edit"
    assert "湖州托管有限公司" in cons.get("/consultant/").get_data(as_text=True)
    aid = start(cons, firm_id)
    assert save(cons, firm_id, aid, ITEM, choice="drafting").status_code == 200
    # the hand-over
    assert "移交" in cons.get(f"/firms/{firm_id}/").get_data(as_text=True)
    r = cons.post(f"/firms/{firm_id}/handover", data={"email": "boss@tuoguan.cn"})
    assert r.status_code == 302
    link = link_in(outbox[-1].body)
    boss = login(app.test_client(), create_user(email="boss@tuoguan.cn"))
    assert boss.post(link).status_code == 302
    (m,) = rows(app, Membership, firm_id=firm_id)
    assert m.role == "owner"
    # the new owner sees the answers the consultant gave; the consultancy keeps its grant...
    assert boss.get(f"/firms/{firm_id}/assessments/{aid}/sections/basic").status_code == 200
    assert cons.get(f"/firms/{firm_id}/").status_code == 200
    page = cons.get(f"/firms/{firm_id}/handover").get_data(as_text=True)
    assert "已移交" in page or "已有所有者" in page
    # ... until the new owner revokes it: 404 at once
    g = _grant(app, firm_id)
    assert boss.post(f"/firms/{firm_id}/consultants/{g.id}/revoke").status_code == 302
    assert cons.get(f"/firms/{firm_id}/").status_code == 404
    assert cons.get(f"/firms/{firm_id}/handover").status_code == 404


def test_the_hand_over_link_works_once_and_can_be_withdrawn(app, desk, outbox, login, create_user):
    cons = desk["client"]
    firm_id = _new_client(cons)
    cons.post(f"/firms/{firm_id}/handover", data={"email": "boss@tuoguan.cn"})
    link = link_in(outbox[-1].body)
    (inv,) = rows(app, Invitation, firm_id=firm_id)
    assert cons.post(f"/firms/{firm_id}/handover/{inv.id}/revoke").status_code == 302
    boss = login(app.test_client(), create_user(email="boss@tuoguan.cn"))
    assert boss.post(link).status_code == 410
    assert rows(app, Membership, firm_id=firm_id) == []
    cons.post(f"/firms/{firm_id}/handover", data={"email": "boss@tuoguan.cn"})
    link = link_in(outbox[-1].body)
    assert boss.post(link).status_code == 302
    assert boss.post(link).status_code == 410
    # a second hand-over is refused: the firm has its owner
    r = cons.post(f"/firms/{firm_id}/handover", data={"email": "other@tuoguan.cn"})
    assert r.status_code == 422


def test_the_hand_over_is_the_consultancys_with_edit_access(app, desk, outbox, login):
    cons, firm = desk["client"], desk["firm"]
    link = _invite(desk, outbox)
    owner = login(app.test_client(), desk["owner"])
    owner.post(link, data={"firm": str(firm.id), "access": "read"})
    assert cons.get(f"/firms/{firm.id}/handover").status_code == 403
    assert owner.get(f"/firms/{firm.id}/handover").status_code == 403  # an owner manages members instead


def test_billing_on_a_plan_with_a_client_bound_refuses_one_more(app, desk, monkeypatch):
    from webapp.billing import entitlements, plans

    bounded = plans.get("consultant")
    monkeypatch.setattr(entitlements, "billing_on", lambda: True)
    monkeypatch.setitem(bounded.limits, "firms", 1)
    cons = desk["client"]
    _new_client(cons)
    code = credit_code.generate(random.Random(12), "330502")
    r = cons.post(
        "/consultant/clients/new",
        data={"name": "第二家", "credit_code": code, "region_code": "330502", "industry_division": "34"},
    )
    assert r.status_code == 402
    assert rows(app, Firm, name="第二家") == []


@pytest.mark.parametrize("billing", ["free", "billing_off"])
def test_taking_a_hand_over_counts_against_the_free_plans_one_firm(
    app, desk, outbox, login, create_user, create_firm, monkeypatch, billing
):
    """Taking a firm over is owning one more firm: on Free, an owner of a firm already is told which
    plan unlocks it, as when creating one; nothing is joined. Billing off: no limit."""
    cons = desk["client"]
    firm_id = _new_client(cons)
    cons.post(f"/firms/{firm_id}/handover", data={"email": "boss@tuoguan.cn"})
    link = link_in(outbox[-1].body)
    boss_user = create_user(email="boss@tuoguan.cn")
    create_firm("嘉兴自有有限公司", owner=boss_user)  # the boss owns a firm already
    if billing == "free":
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_fake")
    boss = login(app.test_client(), boss_user)
    page, r = boss.get(link), boss.post(link)
    if billing == "billing_off":
        assert page.status_code == 200 and r.status_code == 302
        assert [m.role for m in rows(app, Membership, firm_id=firm_id)] == ["owner"]
        return
    assert page.status_code == 402 and r.status_code == 402
    for html in (page.get_data(as_text=True), r.get_data(as_text=True)):
        assert "您的套餐（免费版）每个账号包含 1 家企业" in html and "企业专业版" in html
        assert "/pricing#plan-firm_pro" in html
    assert rows(app, Membership, firm_id=firm_id) == []  # not joined; the invitation still waits
    (inv,) = rows(app, Invitation, firm_id=firm_id)
    assert inv.accepted_at is None
