"""Accounts: register, verify, sign in and out, reset and change the password, language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import PASSWORD, link_in
from webapp import db
from webapp.models import User


def _user(app: Any, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user


def test_register_verify_and_sign_in(app, client, outbox):
    r = client.post(
        "/account/register",
        data={
            "name": "你好",
            "email": "New@Example.cn",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/signin")
    user = _user(app, "new@example.cn")  # stored lower-case
    assert user.password_hash.startswith("$argon2")
    assert user.email_verified_at is None
    assert len(outbox) == 1 and outbox[0].to == "new@example.cn"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "我们已向 new@example.cn 发送了一封邮件" in page  # in Chinese by default
    assert client.get("/home").status_code == 302  # not signed in before the address is confirmed

    r = client.get(link_in(outbox[0].body))  # the confirmation link finishes the sign-up
    assert r.status_code == 302
    assert _user(app, "new@example.cn").email_verified_at is not None
    assert "欢迎使用质评通" in client.get("/home", follow_redirects=True).get_data(as_text=True)
    client.post("/account/signout")
    r = client.get(link_in(outbox[0].body))  # used again: it confirms, and signs nobody in
    assert r.status_code == 302 and client.get("/home").status_code == 302
    r = client.post("/account/signin", data={"email": "new@example.cn", "password": "long-enough-pw"})
    assert r.status_code == 302


def test_register_in_an_english_browser_keeps_english(app, client, outbox):
    # No language cookie, only the browser's Accept-Language: the register page was in English, and so
    # is the new account (the user's setting comes before the browser's on every later page).
    r = client.post(
        "/account/register",
        data={
            "name": "Ann",
            "email": "ann@example.cn",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert r.status_code == 302
    assert _user(app, "ann@example.cn").locale == "en"
    assert client.get(link_in(outbox[-1].body)).status_code == 302  # the confirmation signs Ann in
    # her setting now comes before a browser that asks for Chinese
    page = client.get("/home", follow_redirects=True, headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in page and "QReady" in page and "首页" not in page, page[-1500:]


def test_register_errors_are_clear_and_save_nothing(app, client, create_user):
    create_user(email="taken@example.cn")
    r = client.post(
        "/account/register",
        data={"name": "x", "email": "taken@example.cn", "password": "short", "confirm": "other"},
    )
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "至少使用 10 个字符" in page
    assert "两次输入的密码不一致" in page
    r = client.post(
        "/account/register",
        data={
            "name": "x",
            "email": "taken@example.cn",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    # the answer does not say that the address has an account (tests/test_oracles.py)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "taken@example.cn")).name == "你好 Tester"


def test_same_message_for_wrong_email_and_wrong_password(client, create_user):
    create_user(email="a@example.cn")
    wrong_pw = client.post("/account/signin", data={"email": "a@example.cn", "password": "nope-nope-nope"})
    wrong_email = client.post("/account/signin", data={"email": "b@example.cn", "password": PASSWORD})
    assert wrong_pw.status_code == wrong_email.status_code == 401
    msg = "邮箱或密码不正确"
    assert msg in wrong_pw.get_data(as_text=True) and msg in wrong_email.get_data(as_text=True)


def test_sign_in_is_rate_limited(client, create_user):
    create_user(email="a@example.cn")
    for _ in range(5):
        assert (
            client.post(
                "/account/signin", data={"email": "a@example.cn", "password": "wrong-wrong"}
            ).status_code
            == 401
        )
    r = client.post("/account/signin", data={"email": "a@example.cn", "password": PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)


def test_sign_out(client, create_user, login):
    login(client, create_user())
    assert client.get("/home").status_code in (200, 302)
    client.post("/account/signout")
    r = client.get("/home")
    assert r.status_code == 302 and "/account/signin" in r.headers["Location"]


def test_password_reset_is_single_use(app, client, outbox, create_user):
    create_user(email="a@example.cn")
    r = client.post("/account/forgot", data={"email": "a@example.cn"})
    assert r.status_code == 302
    client.post("/account/forgot", data={"email": "ghost@example.cn"})  # same answer, no mail
    assert len(outbox) == 1
    link = link_in(outbox[0].body)
    r = client.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert r.status_code == 302
    assert (
        client.post(
            "/account/signin", data={"email": "a@example.cn", "password": "brand-new-password"}
        ).status_code
        == 302
    )
    again = client.post(link, data={"password": "another-password", "confirm": "another-password"})
    assert again.status_code == 400
    assert "无效或已被使用" in again.get_data(as_text=True)


def test_expired_and_forged_tokens(app, client, create_user):
    r = client.get("/account/verify/not-a-token")
    assert r.status_code == 400 and "链接无效" in r.get_data(as_text=True)


def test_change_password_ends_other_sessions(app, client, create_user, login):
    user = create_user(email="a@example.cn")
    other = app.test_client()
    login(client, user)
    login(other, user)
    r = client.post(
        "/account/password",
        data={"pw-current": PASSWORD, "pw-password": "a-new-password-1", "pw-confirm": "a-new-password-1"},
    )
    assert r.status_code == 302
    assert client.get("/account/settings").status_code == 200  # this session stays
    assert other.get("/account/settings").status_code == 302  # the other one is signed out


def test_wrong_current_password_keeps_the_old_one(app, client, create_user, login):
    login(client, create_user(email="a@example.cn"))
    r = client.post(
        "/account/password",
        data={"pw-current": "wrong", "pw-password": "a-new-password-1", "pw-confirm": "a-new-password-1"},
    )
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    client.post("/account/signout")
    assert (
        client.post("/account/signin", data={"email": "a@example.cn", "password": PASSWORD}).status_code
        == 302
    )


def test_language_preference_persists_per_user(app, client, create_user, login):
    user = create_user(email="a@example.cn")
    login(client, user)
    assert "您的设置" in client.get("/account/settings").get_data(as_text=True)
    r = client.post("/account/settings", data={"name": "Alice", "locale": "en"})
    assert r.status_code == 302
    # A fresh browser (no cookie) still gets English once this user signs in.
    fresh = app.test_client()
    login(fresh, user)
    assert "Your settings" in fresh.get("/account/settings").get_data(as_text=True)


def test_anonymous_language_from_cookie_and_accept_language(client, dbconn):
    assert "Sign in" in client.get("/account/signin", headers={"Accept-Language": "en-US,en"}).get_data(
        as_text=True
    )
    assert "登录" in client.get("/account/signin").get_data(as_text=True)
    client.post("/lang/en")
    assert "Forgot your password?" in client.get("/account/signin").get_data(as_text=True)


def test_open_redirect_is_refused(client, create_user):
    create_user(email="a@example.cn")
    r = client.post(
        "/account/signin?next=https://evil.example/", data={"email": "a@example.cn", "password": PASSWORD}
    )
    assert r.headers["Location"].endswith("/home")
