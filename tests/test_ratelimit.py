"""Rate limits (Flask-Limiter, webapp/ratelimit.py): sign-in by account and by address, one count for
every worker (a real two-worker gunicorn below), a lockout that says when to retry and answers a right
password the same way, a password reset that ends it, and a per-token limit on the API."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import request

from tests.conftest import PASSWORD, link_in
from tests.test_api import auth, token_for  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
WRONG = "wrong-password-1"
LOCKED_ZH = "登录失败次数过多"
WRONG_ZH = "邮箱或密码不正确"


def _signin(client: Any, email: str, password: str, address: str = "10.0.0.1", **kw: Any) -> Any:
    return client.post(
        "/account/signin",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kw,
    )


def test_the_sixth_attempt_is_refused_and_the_right_password_too(client, create_user):
    user = create_user(email="a@example.cn")
    for _ in range(5):
        r = _signin(client, user.email, WRONG)
        assert r.status_code == 401 and WRONG_ZH in r.get_data(as_text=True)
    r = _signin(client, user.email, WRONG)
    assert r.status_code == 429
    page = r.get_data(as_text=True)
    assert "登录失败次数过多。请 15 分钟后再试，或重置密码。" in page
    assert 14 * 60 < int(r.headers["Retry-After"]) <= 15 * 60
    # the right password gets the very same answer: it does not tell a guesser the guess was right
    right = _signin(client, user.email, PASSWORD)
    assert right.status_code == 429 and LOCKED_ZH in right.get_data(as_text=True)
    assert WRONG_ZH not in right.get_data(as_text=True)
    assert client.get("/account/settings").status_code == 302  # not signed in
    en = _signin(client, user.email, PASSWORD, headers={"Accept-Language": "en"})
    assert "Too many failed sign-ins. Try again in 15 minutes, or reset your password." in en.get_data(
        as_text=True
    )


def test_the_account_limit_holds_across_addresses(client, create_user):
    user = create_user(email="a@example.cn")
    for i in range(5):
        assert _signin(client, user.email, WRONG, address=f"10.0.{i}.1").status_code == 401
    assert _signin(client, user.email, PASSWORD, address="10.9.9.9").status_code == 429
    # other accounts are not affected
    other = create_user(email="b@example.cn")
    assert _signin(client, other.email, PASSWORD, address="10.0.0.1").status_code == 302


def test_the_address_limit_holds_across_accounts(app, client, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_ADDRESS_LIMIT", 3)
    users = [create_user(email=f"u{i}@example.cn") for i in range(5)]
    for u in users[:3]:
        assert _signin(client, u.email, WRONG, address="10.1.1.1").status_code == 401
    r = _signin(client, users[3].email, PASSWORD, address="10.1.1.1")
    assert r.status_code == 429 and LOCKED_ZH in r.get_data(as_text=True)
    assert _signin(client, users[4].email, PASSWORD, address="10.2.2.2").status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, create_user):
    user = create_user(email="a@example.cn")
    for _ in range(4):
        assert _signin(client, user.email, WRONG).status_code == 401
    assert _signin(client, user.email, PASSWORD).status_code == 302
    client.post("/account/signout")
    for _ in range(4):
        assert _signin(client, user.email, WRONG).status_code == 401
    assert _signin(client, user.email, PASSWORD).status_code == 302


def test_the_lockout_ends_with_its_window(app, client, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_WINDOW", 2)
    user = create_user(email="a@example.cn")
    for _ in range(5):
        _signin(client, user.email, WRONG)
    r = _signin(client, user.email, PASSWORD)
    assert r.status_code == 429 and "请 1 分钟后再试" in r.get_data(as_text=True)
    time.sleep(2.2)
    assert _signin(client, user.email, PASSWORD).status_code == 302


def test_a_password_reset_ends_a_lockout(client, create_user, outbox):
    user = create_user(email="a@example.cn")
    for _ in range(6):
        _signin(client, user.email, WRONG)
    assert _signin(client, user.email, PASSWORD).status_code == 429
    client.post("/account/forgot", data={"email": user.email})
    r = client.post(
        link_in(outbox[-1].body), data={"password": "brand-new-pass", "confirm": "brand-new-pass"}
    )
    assert r.status_code == 302
    assert _signin(client, user.email, "brand-new-pass").status_code == 302


def test_api_calls_are_limited_per_token(app, client, create_user, token_for, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    token, other = token_for(create_user()), token_for(create_user())
    for _ in range(3):
        assert client.get("/api/v1/firms", headers=auth(token)).status_code == 200
    r = client.get("/api/v1/firms", headers=auth(token))
    assert r.status_code == 429 and r.is_json
    body = r.get_json()["error"]
    assert body["code"] == "rate_limited" and 0 < body["retry_after"] <= 60
    assert body["message"] == f"请求过于频繁。请在 {body['retry_after']} 秒后重试。"
    assert 0 < int(r.headers["Retry-After"]) <= 60
    en = client.get("/api/v1/firms", headers=auth(token, "en")).get_json()["error"]["message"]
    assert en.startswith("Too many requests. Try again in ")
    assert client.get("/api/v1/firms", headers=auth(other)).status_code == 200  # each token its own


# ---- across the workers of a real gunicorn -----------------------------------------------------------

SETUP = """
import os
from alembic import command
from webapp import create_app, db
from webapp.auth.util import hash_password
from webapp.commands.db import alembic_config
from webapp.models import User

app = create_app()
with app.app_context():
    command.upgrade(alembic_config(os.environ["DATABASE_URL"]), "head")
    for email in ("target@gunicorn.cn", "burst@gunicorn.cn"):
        db.session.add(User(email=email, name="王丽", password_hash=hash_password(os.environ["PW"]), locale="zh"))
    db.session.commit()
"""
ACCESS_FORMAT = ("--access-logformat", "%(p)s %(m)s %(U)s %(s)s")
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _browser(base: str) -> tuple[httpx.Client, str]:
    """A browser of its own: a session cookie and the sign-in form's CSRF token."""
    http = httpx.Client(base_url=base, trust_env=False, timeout=60, headers={"Connection": "close"})
    page = http.get("/account/signin").text
    match = TOKEN.search(page)
    assert match, page[:500]
    return http, match.group(1)


def _post(http: httpx.Client, token: str, email: str, password: str) -> httpx.Response:
    return http.post("/account/signin", data={"csrf_token": token, "email": email, "password": password})


REDIS = "redis://127.0.0.1:6379/0"


def _redis_keys(prefix: str) -> list[bytes]:
    import redis

    r = redis.Redis.from_url(REDIS)
    return list(r.scan_iter(match=f"LIMITS:LIMITER/{prefix}/*"))


@pytest.fixture(params=["shared-file", "redis"])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """gunicorn with two workers; its rate limits count in the default SQLite file of the instance
    folder, or (as a deployment of several nodes does) in Redis: REDIS_URL, under a prefix of its own."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RATELIMIT_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        "QREADY_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "gunicorn-ratelimit-secret",
        "PW": PASSWORD,
    }
    prefix = f"qready-test-{uuid.uuid4().hex}"
    if request.param == "redis":
        env |= {"REDIS_URL": REDIS, "RATELIMIT_KEY_PREFIX": prefix}
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr
    port, log = _free_port(), tmp_path / "access.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            *ACCESS_FORMAT,
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/account/signin", trust_env=False, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        yield base, log
        if request.param == "redis":
            assert _redis_keys(prefix), "the counts were kept in Redis"
        else:
            assert (tmp_path / "instance" / "ratelimits.sqlite3").exists()
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
        if request.param == "redis":
            import redis

            keys = _redis_keys(prefix)
            if keys:
                redis.Redis.from_url(REDIS).delete(*keys)
    assert "Traceback" not in err, err


def test_one_limit_across_two_gunicorn_workers_with_csrf_on(two_workers):
    base, log = two_workers
    http, token = _browser(base)
    try:
        for i in range(5):
            r = _post(http, token, "target@gunicorn.cn", WRONG)
            assert r.status_code == 401, (i, r.status_code)
        r = _post(http, token, "target@gunicorn.cn", WRONG)
        assert r.status_code == 429 and LOCKED_ZH in r.text  # the 6th, whichever worker answers
        for password in (WRONG, PASSWORD, WRONG, PASSWORD):
            r = _post(http, token, "target@gunicorn.cn", password)
            assert r.status_code == 429 and LOCKED_ZH in r.text and WRONG_ZH not in r.text
    finally:
        http.close()

    # attempts sent at once, by four browsers over both workers: exactly five are let through
    browsers = [_browser(base) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(lambda i: _post(*browsers[i % 4], "burst@gunicorn.cn", WRONG).status_code, range(12))
        )
    for http, _token in browsers:
        http.close()
    assert sorted(codes) == [401] * 5 + [429] * 7, codes

    deadline = time.monotonic() + 10
    while True:  # a worker logs a request just after answering it
        posts = [line.split() for line in log.read_text().splitlines() if " POST /account/signin " in line]
        if len(posts) >= 22 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(posts) == 22
    assert len({pid for pid, *_ in posts}) == 2, "both workers answered sign-ins"


def test_behind_a_trusted_proxy_the_address_limit_counts_the_client(tmp_path, monkeypatch):
    """Without TRUSTED_PROXIES a forged X-Forwarded-For changes nothing; with it, the proxy's header
    names the client, so one client's failures do not lock out everyone behind the proxy."""
    from webapp import create_app

    for proxies, expected in ((0, "10.0.0.9"), (1, "203.0.113.7")):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                "TRUSTED_PROXIES": proxies,
            }
        )
        seen: dict[str, str | None] = {}

        @app.before_request
        def _note(seen: dict[str, str | None] = seen) -> None:
            seen["addr"] = request.remote_addr

        app.test_client().get(
            "/account/signin",
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert seen["addr"] == expected


def test_with_its_storage_away_the_limits_hold_in_memory_and_nothing_fails(
    app, client, create_user, monkeypatch
):
    from webapp.ratelimit import limiter

    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:9/0")  # nothing listens there
    limiter.init_app(app)
    user, other = create_user(email="a@example.cn"), create_user(email="b@example.cn")
    for _ in range(5):
        assert _signin(client, user.email, WRONG).status_code == 401
    r = _signin(client, user.email, PASSWORD)
    assert r.status_code == 429 and LOCKED_ZH in r.get_data(as_text=True)
    assert _signin(client, other.email, PASSWORD).status_code == 302


def test_a_view_without_limits_skips_the_limiter(client, create_user, login, monkeypatch):
    """Flask-Limiter's per-request work (about 0.15 ms) is done only for views that have a limit."""
    from webapp.ratelimit import limiter

    login(client, create_user())
    calls: list[str | None] = []
    real = limiter._check_request_limit
    monkeypatch.setattr(
        limiter, "_check_request_limit", lambda *a, **k: calls.append(request.endpoint) or real(*a, **k)
    )
    assert client.get("/account/settings").status_code == 200
    assert client.get("/home").status_code in (200, 302)
    assert calls == []
    client.post("/account/signout")
    _signin(client, "x@example.cn", WRONG)
    assert set(calls) == {"auth.signin"}  # (the middleware, then the view's own decorator)
