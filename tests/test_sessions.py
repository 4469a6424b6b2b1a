"""The session cookie is verified once per worker (webapp/sessions.py): a cookie seen again must give
exactly what Flask would — the same data, nothing for a forged or an expired one, and a request's
changes never leaking into the next request's copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, flash, get_flashed_messages, session
from flask_wtf.csrf import CSRFProtect, generate_csrf

from webapp.sessions import KeptSessionInterface, check_csrf


def _app(size: int = 8) -> Flask:
    app = Flask("sessions")
    app.secret_key = "a-test-secret"
    app.session_interface = KeptSessionInterface(size)

    @app.get("/set/<value>")
    def set_value(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("value"))

    @app.get("/flash")
    def add_flash() -> str:
        flash("hello")
        return "ok"

    @app.get("/flashes")
    def read_flashes() -> str:
        return ",".join(get_flashed_messages())

    @app.get("/scribble")
    def scribble() -> str:
        session.get("_flashes", []).append(("message", "scribbled"))  # changes the list in place
        return "ok"

    return app


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_seen_again_gives_the_same_session():
    app = _app()
    client = app.test_client()
    client.get("/set/甲")
    assert client.get("/get").text == "甲"
    assert client.get("/get").text == "甲"  # from the kept decoding
    assert len(app.session_interface._seen) == 1
    client.get("/set/乙")  # a new cookie
    assert client.get("/get").text == "乙"


def test_a_forged_or_foreign_cookie_gives_an_empty_session():
    app = _app()
    client = app.test_client()
    client.get("/set/甲")
    good = _cookie(client)
    assert client.get("/get").text == "甲"
    payload, _, signature = good.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    client.set_cookie("session", forged)
    assert client.get("/get").text == "None"
    other = _app()
    other.secret_key = "another-secret"
    foreign = other.test_client()
    foreign.set_cookie("session", good)
    assert foreign.get("/get").text == "None"


def test_an_expired_cookie_is_refused_though_it_was_kept():
    app = _app()
    app.permanent_session_lifetime = dt.timedelta(seconds=60)
    client = app.test_client()
    client.get("/set/甲")
    assert client.get("/get").text == "甲"
    val = _cookie(client)
    data, signed_at = app.session_interface._seen[val]
    app.session_interface._seen[val] = (data, signed_at - 3600)  # as if signed an hour ago
    assert client.get("/get").text == "None"


def test_changes_in_one_request_do_not_reach_the_next():
    app = _app()
    client = app.test_client()
    client.get("/flash")
    cookie = _cookie(client)
    client.get("/get")  # the cookie is kept from here
    client.get("/scribble")  # changes the list in place without marking the session modified
    assert _cookie(client) == cookie
    assert client.get("/flashes").text == "hello"


def test_the_kept_cookies_are_bounded():
    app = _app(size=2)
    client = app.test_client()
    for value in "甲乙丙丁":
        client.get(f"/set/{value}")
        assert client.get("/get").text == value
    assert len(app.session_interface._seen) == 2
    off = _app(size=0)
    client = off.test_client()
    client.get("/set/甲")
    assert client.get("/get").text == "甲" and len(off.session_interface._seen) == 0


# ---- the CSRF token ---------------------------------------------------------------------------------


def _csrf_app() -> tuple[Flask, Any]:
    app = _app()
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf = CSRFProtect()
    check_csrf(app, csrf, 8)
    csrf.init_app(app)

    @app.get("/token")
    def token() -> str:
        return generate_csrf()

    @app.post("/write")
    def write() -> str:
        return "written"

    return app, csrf


def _post(client, token: str | None, **kw: Any):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post("/write", json={"x": 1}, headers=headers, **kw)


def test_a_csrf_token_is_checked_on_every_write_and_kept_once_verified():
    app, _ = _csrf_app()
    client = app.test_client()
    token = client.get("/token").text
    assert _post(client, None).status_code == 400
    assert _post(client, token).text == "written"
    assert _post(client, token).text == "written"  # the kept verification
    assert client.post("/write", data={"csrf_token": token}).text == "written"  # a form post
    payload, _, signature = token.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _post(client, forged).status_code == 400


def test_a_kept_token_does_not_pass_for_another_session():
    app, _ = _csrf_app()
    mine, theirs = app.test_client(), app.test_client()
    token = mine.get("/token").text
    assert _post(mine, token).text == "written"
    theirs.get("/token")  # a session with its own raw token
    assert _post(theirs, token).status_code == 400
    assert _post(app.test_client(), token).status_code == 400  # no session at all


def test_over_https_a_kept_token_still_needs_this_sites_referrer():
    app, _ = _csrf_app()
    client = app.test_client()
    token = client.get("/token", base_url="https://qready.test").text
    ok = {"base_url": "https://qready.test", "headers": {"Referer": "https://qready.test/page"}}
    r = client.post(
        "/write", json={}, base_url=ok["base_url"], headers={**ok["headers"], "X-CSRFToken": token}
    )
    assert r.text == "written"
    for referrer in (None, "https://evil.test/page"):
        headers = {"X-CSRFToken": token, **({"Referer": referrer} if referrer else {})}
        r = client.post("/write", json={}, base_url="https://qready.test", headers=headers)
        assert r.status_code == 400
