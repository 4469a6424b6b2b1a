"""No page tells a visitor or a signed-in user whether an email address has an account or a credit code
a firm: registration answers a known address as it answers a new one (and mails the address's owner);
`/firms/new` and the profile form refuse a credit code in use without saying so (and mail the firm's
owners, who can invite the person)."""

from __future__ import annotations

import random
import re
from typing import Any

from sqlalchemy import func, select

from tests.conftest import link_in
from tests.test_orgs import firm_form
from webapp import db, tenancy
from webapp.models import Firm, User
from webapp.refdata import credit_code

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="[^"]+"')


def _register(client: Any, email: str, **kw: Any) -> Any:
    data = {"name": "陌生人", "email": email, "password": "long-enough-pw", "confirm": "long-enough-pw"}
    return client.post("/account/register", data=data, **kw)


def _user(app: Any, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_registration_answers_a_known_address_as_a_new_one(app, create_user, outbox):
    owner = create_user(email="taken@example.cn", name="王丽 Owner", locale="en")
    before = _user(app, "taken@example.cn")

    answers = []
    for email in ("taken@example.cn", "fresh@example.cn"):
        browser = app.test_client()
        r = _register(browser, email)
        page = browser.get(r.headers["Location"]).get_data(as_text=True)
        page = CSRF.sub("", page.replace(email, "<email>"))
        answers.append((r.status_code, r.headers["Location"], page))
        assert browser.get("/home").status_code == 302  # neither is signed in
    assert answers[0] == answers[1]
    assert answers[0][0] == 302 and "我们已向 <email> 发送了一封邮件" in answers[0][2]
    assert "已注册" not in answers[0][2] and "exists" not in answers[0][2]

    # the known address's owner is told, in their own language; the account is as it was
    to_owner = next(m for m in outbox if m.to == "taken@example.cn")
    assert to_owner.subject == "Your QReady account"
    assert "It has an account already, so nothing was created" in to_owner.body
    assert "/account/forgot" in to_owner.body and "/account/signin" in to_owner.body
    after = _user(app, "taken@example.cn")
    assert (
        (after.name, after.password_hash)
        == (before.name, before.password_hash)
        == (
            owner.name,
            owner.password_hash,
        )
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2  # the owner and fresh@


def test_an_unconfirmed_account_goes_to_the_addresss_owner_not_to_who_created_it(app, outbox):
    """Someone signs up with another person's address (never confirmed). When the owner signs up, they
    get a link to choose the account's password (which confirms the address), and the first password
    stops working: no confirmation link signs the owner into an account a stranger can open."""
    squatter = app.test_client()
    _register(squatter, "victim@example.cn")  # password "long-enough-pw", address never confirmed
    owner = app.test_client()
    r = owner.post(
        "/account/register",
        data={
            "name": "本人",
            "email": "victim@example.cn",
            "password": "owners-own-pw",
            "confirm": "owners-own-pw",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/signin")
    mail = outbox[-1]
    assert mail.to == "victim@example.cn" and "从未确认过" in mail.body and "/account/reset/" in mail.body
    r = owner.post(link_in(mail.body), data={"password": "owners-new-pw", "confirm": "owners-new-pw"})
    assert r.status_code == 302
    assert _user(app, "victim@example.cn").email_verified_at is not None
    signin = {"email": "victim@example.cn"}
    assert squatter.post("/account/signin", data={**signin, "password": "long-enough-pw"}).status_code == 401
    assert owner.post("/account/signin", data={**signin, "password": "owners-new-pw"}).status_code == 302


def _taken_code(app: Any, firm: Firm) -> str:
    with app.app_context(), tenancy.bypass():
        return db.session.get(Firm, firm.id).credit_code


def _firm_count(app: Any) -> int:
    with app.app_context(), tenancy.bypass():
        return db.session.scalar(select(func.count()).select_from(Firm))


def test_a_credit_code_in_use_is_refused_without_saying_so(
    app, client, create_user, create_firm, login, outbox
):
    owner = create_user(email="owner@example.cn", name="王丽 Owner", locale="zh")
    firm = create_firm("杭州精工阀门有限公司", owner=owner)
    code = _taken_code(app, firm)
    newcomer = create_user(email="li@example.cn", name="李雷 Li Lei")
    login(client, newcomer)
    count = _firm_count(app)

    r = client.post("/firms/new", data=firm_form(credit_code=code, name="精工阀门"))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "无法按所填信息登记该企业" in page and "请联系那里的同事邀请您加入" in page
    assert "已有企业" not in page and "杭州精工阀门有限公司" not in page
    english = login(app.test_client(), create_user(email="en@example.cn", name="Tom", locale="en"))
    en = english.post("/firms/new", data=firm_form(credit_code=code)).get_data(as_text=True)
    assert "The firm could not be registered as entered." in en and "registered already" not in en
    assert _firm_count(app) == count

    # the firm's owner hears of it, in their language, with the way to invite the person
    to_owner = [m for m in outbox if m.to == "owner@example.cn"]
    assert len(to_owner) == 2 and not [m for m in outbox if m.to in ("li@example.cn", "en@example.cn")]
    assert to_owner[0].subject == "有人尝试在质评通上登记 杭州精工阀门有限公司"
    assert "李雷 Li Lei（li@example.cn）" in to_owner[0].body and "“精工阀门”" in to_owner[0].body
    assert f"/firms/{firm.id}/members" in to_owner[0].body


def test_a_firm_owner_cannot_probe_codes_through_the_profile_form(
    app, client, create_user, create_firm, login, outbox
):
    other_owner = create_user(email="other@example.cn")
    code = _taken_code(app, create_firm("宁波别家有限公司", owner=other_owner, region="330203"))
    me = create_user()
    mine = create_firm(owner=me)
    login(client, me)
    r = client.post(f"/firms/{mine.id}/profile/edit", data=firm_form(credit_code=code))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "无法按所填信息登记该企业" in page and "宁波别家有限公司" not in page
    assert [m.to for m in outbox] == ["other@example.cn"]
    # its own code is no problem
    own = _taken_code(app, mine)
    assert client.post(f"/firms/{mine.id}/profile/edit", data=firm_form(credit_code=own)).status_code == 302


def test_trying_codes_is_limited(app, client, create_user, create_firm, login, outbox):
    code = _taken_code(app, create_firm(owner=create_user(email="owner@example.cn")))
    login(client, create_user())
    for _ in range(20):
        assert client.post("/firms/new", data=firm_form(credit_code=code)).status_code == 422
    r = client.post("/firms/new", data=firm_form(credit_code=code))
    assert r.status_code == 429 and "请求太频繁" in r.get_data(as_text=True)
    assert len(outbox) == 20  # no more mail to the owner than tries let through
    # a new firm with a code of its own is refused too until the hour is over: the limit is the account's
    fresh = credit_code.generate(random.Random(99), "330106")
    assert client.post("/firms/new", data=firm_form(credit_code=fresh)).status_code == 429
