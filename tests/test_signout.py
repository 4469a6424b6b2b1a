"""Sessions end server-side: a session cookie (or remember-me cookie) saved before a sign-out, a
password change or an admin's "sign out everywhere" signs nobody in afterwards."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD


def _cookies(client: Any) -> dict[str, str]:
    return {
        name: client.get_cookie(name).value
        for name in ("session", "remember_token")
        if client.get_cookie(name)
    }


def _replay(app: Any, cookies: dict[str, str]) -> Any:
    """A fresh browser holding nothing but the saved cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/account/settings")


def _signed_out(response: Any) -> bool:
    return response.status_code == 302 and "/account/signin" in response.headers["Location"]


def test_a_cookie_saved_before_sign_out_no_longer_works(app, client, create_user):
    user = create_user(locale="en")
    r = client.post("/account/signin", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert r.status_code == 302
    saved = _cookies(client)
    assert set(saved) == {"session", "remember_token"}
    assert _replay(app, saved).status_code == 200  # the copy works while the session lives

    r = client.post("/account/signout", follow_redirects=True, headers={"Accept-Language": "zh"})
    assert "您已在所有设备上退出登录" in r.get_data(as_text=True)
    assert _signed_out(_replay(app, saved))
    assert _signed_out(_replay(app, {"session": saved["session"]}))
    assert _signed_out(_replay(app, {"remember_token": saved["remember_token"]}))

    # signing in again gives a working session, and the old cookie stays dead
    client.post("/account/signin", data={"email": user.email, "password": PASSWORD})
    assert client.get("/account/settings").status_code == 200
    assert _signed_out(_replay(app, saved))


def test_sign_out_ends_the_accounts_other_sessions_too(app, client, create_user, login):
    user = create_user()
    other = login(app.test_client(), user)
    login(client, user)
    client.post("/account/signout")
    assert _signed_out(other.get("/account/settings"))


def test_a_cookie_saved_before_a_password_change_no_longer_works(app, client, create_user, login):
    user = create_user()
    login(client, user)
    saved = _cookies(client)
    r = client.post(
        "/account/password",
        data={"pw-current": PASSWORD, "pw-password": "a-new-password-1", "pw-confirm": "a-new-password-1"},
    )
    assert r.status_code == 302
    assert client.get("/account/settings").status_code == 200  # this browser stays signed in
    assert _signed_out(_replay(app, saved))


def test_an_admin_signs_a_user_out_everywhere(app, client, create_user, login):
    victim = create_user(name="李雷 Li Lei")
    phone, laptop = login(app.test_client(), victim), login(app.test_client(), victim)
    saved = _cookies(laptop)
    admin = login(client, create_user(admin=True))

    page = admin.get("/admin/").get_data(as_text=True)
    assert f"/admin/users/{victim.id}/signout" in page and "在所有设备上退出" in page
    r = admin.post(f"/admin/users/{victim.id}/signout", follow_redirects=True)
    assert r.status_code == 200 and "李雷 Li Lei 已在所有设备上退出登录" in r.get_data(as_text=True)
    for browser in (phone, laptop):
        assert _signed_out(browser.get("/account/settings"))
    assert _signed_out(_replay(app, saved))
    assert admin.get("/admin/").status_code == 200  # the admin's own session goes on
    login(phone, victim)  # and the user can sign in again
    assert phone.get("/account/settings").status_code == 200


def test_only_a_platform_admin_signs_others_out(app, client, create_user, login):
    victim = create_user()
    victims_browser = login(app.test_client(), victim)
    login(client, create_user())
    assert client.post(f"/admin/users/{victim.id}/signout").status_code == 403
    assert victims_browser.get("/account/settings").status_code == 200
