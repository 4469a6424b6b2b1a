"""Sessions and CSRF as the app serves them: Flask's signed session cookie and Flask-WTF's CSRF
protection, with their own checks. A write needs this session's token, a token expires
(WTF_CSRF_TIME_LIMIT), a forged cookie gives no session, and the cookies carry their flags."""

from __future__ import annotations

import datetime as dt
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from tests.conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def csrf_on(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


def _token(client: Any, **kw: Any) -> str:
    page = client.get("/account/signin", **kw).get_data(as_text=True)
    match = TOKEN.search(page)
    assert match, page[:2000]
    return match.group(1)


def _signin(client: Any, user: Any, token: str | None, **kw: Any) -> Any:
    data = {"email": user.email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/account/signin", data=data, **kw)


def _forge(signed: str) -> str:
    payload, _, signature = signed.rpartition(".")
    return payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]


def test_a_write_needs_the_token_of_its_own_session(csrf_on, client, create_user):
    user = create_user()
    assert _signin(client, user, None).status_code == 400
    assert _signin(client, user, _token(csrf_on.test_client())).status_code == 400  # another session's
    token = _token(client)
    assert _signin(client, user, _forge(token)).status_code == 400
    assert _signin(client, user, token).status_code == 302


def test_a_token_older_than_the_limit_is_refused(csrf_on, client, create_user, monkeypatch):
    user = create_user()
    token = _token(client)
    monkeypatch.setitem(csrf_on.config, "WTF_CSRF_TIME_LIMIT", 1)
    time.sleep(2.1)
    assert _signin(client, user, token).status_code == 400
    assert _signin(client, user, _token(client)).status_code == 302  # the reloaded form works


def test_over_https_a_write_needs_this_sites_referrer(csrf_on, client, create_user):
    user = create_user()
    base = "https://qready.test"
    token = _token(client, base_url=base)
    for referrer in (None, "https://evil.test/page"):
        headers = {"Referer": referrer} if referrer else {}
        assert _signin(client, user, token, base_url=base, headers=headers).status_code == 400
    r = _signin(client, user, token, base_url=base, headers={"Referer": f"{base}/account/signin"})
    assert r.status_code == 302


def test_a_forged_session_cookie_signs_nobody_in(client, create_user, login):
    login(client, create_user())
    assert client.get("/account/settings").status_code == 200
    client.set_cookie("session", _forge(client.get_cookie("session").value))
    r = client.get("/account/settings")
    assert r.status_code == 302 and "/account/signin" in r.headers["Location"]


def test_the_remember_cookie_carries_the_sessions_flags(client, create_user):
    user = create_user()
    r = client.post("/account/signin", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert r.status_code == 302
    remember = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    assert expires <= dt.datetime.now(dt.UTC) + dt.timedelta(days=14, minutes=1)


def test_in_production_both_cookies_are_secure(monkeypatch, tmp_path):
    from webapp import create_app

    monkeypatch.setenv("QREADY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-for-the-test")
    app = create_app({"DATABASE_URL": "sqlite:///" + str(tmp_path / "p.sqlite3")})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert 0 < app.config["WTF_CSRF_TIME_LIMIT"] <= app.config["PERMANENT_SESSION_LIFETIME"]


def test_files_for_everyone_never_carry_the_session_cookie(client, create_user, login):
    """A browser asks for the favicon and stylesheets beside its pages and may get the answer after the
    next page's: had that answer carried the session cookie it was sent with, a sign-in in between would
    be undone (the Firm manager's browser journey lost half its sign-ups so)."""
    client.get("/account/signin")  # an anonymous session (a CSRF token)
    for path in ("/static/favicon.svg", "/static/css/app.css", "/favicon.ico"):
        with client.get(path) as r:
            assert r.status_code in (200, 301) and r.headers.getlist("Set-Cookie") == [], path
    login(client, create_user())
    with client.get("/static/css/app.css") as r:
        assert r.headers.getlist("Set-Cookie") == []
