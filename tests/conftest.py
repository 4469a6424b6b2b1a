"""Test fixtures: a real database (SQLite by default, PostgreSQL when QREADY_TEST_DATABASE_URL is set),
migrated once per run; each test inside a transaction that is rolled back (SQLAlchemy's "joining a
session into an external transaction" recipe), so app code really commits."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from webapp import create_app, db
from webapp.ratelimit import limiter

PASSWORD = "correct-horse-battery"


# ---- no network beyond this machine ---------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = str(address[0])
    return host in {"localhost", "::1"} or host.startswith("127.")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def guard(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if not _loopback(address):
                raise AssertionError(f"test tried to reach {address!r}: only loopback is allowed")
            return real(self, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guard(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(_real_connect_ex))


# ---- the database ---------------------------------------------------------------------------------


# Werkzeug's development server, which the browser tests run in a thread, leaves a static file open
# when the browser drops a range request it no longer needs (its `run_wsgi` does not close the
# response on a dropped connection): Chromium does so with the 1 MB echarts.min.js. Under `-W error`
# that ResourceWarning in the server's thread failed a test at random. Only that one warning is let
# through, and only for the browser tests; gunicorn (the crawl, tests/test_crawl.py) closes the file.
WERKZEUG_DROPPED_RANGE = "ignore:unclosed file <_io.BufferedReader name=.*/webapp/static/:ResourceWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "dbconn" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.filterwarnings(WERKZEUG_DROPPED_RANGE))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("QREADY_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def reset_database(url: str) -> None:
    """An empty database: PostgreSQL gets a fresh public schema; a SQLite file starts empty."""
    if url.startswith("postgresql"):
        engine = db.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from alembic import command

    from webapp.commands.db import alembic_config

    reset_database(database_url)
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "RATELIMIT_STORAGE_URI": "qready+sqlite://" + str(instance / "ratelimits.sqlite3"),
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
            "PUBLIC_URL": "http://qready.test",
            "SERVER_NAME": None,
        }
    )
    app.instance_path = str(instance)
    with app.app_context():
        command.upgrade(alembic_config(database_url), "head")
    yield app
    db.dispose(app)


@pytest.fixture
def dbconn(app: Flask) -> Iterator[Connection]:
    engine = app.extensions["qready.db"]["engine"]
    connection = engine.connect()
    outer = connection.begin()
    app.extensions["qready.db"]["session_options"] = {
        "bind": connection,
        "join_transaction_mode": "create_savepoint",
    }
    app.extensions["qready.outbox"].clear()
    limiter.init_app(app)  # the limiter is global: bound again to this app (another test made its own)
    limiter._storage_dead = False  # a test took its storage away: back to this app's own
    limiter.reset()
    try:
        yield connection
    finally:
        app.extensions["qready.db"].pop("session_options", None)
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask, dbconn: Connection) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask, dbconn: Connection) -> list[Any]:
    return app.extensions["qready.outbox"]  # type: ignore[no-any-return]


def link_in(body: str) -> str:
    match = re.search(r"http://qready\.test(\S+)", body)
    assert match, body
    return match.group(1)


# ---- factories ------------------------------------------------------------------------------------


@pytest.fixture
def create_user(app: Flask, dbconn: Connection) -> Callable[..., Any]:
    from webapp.auth.util import hash_password
    from webapp.db import utcnow
    from webapp.models import User

    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        name: str = "你好 Tester",
        *,
        admin: bool = False,
        verified: bool = True,
        locale: str = "zh",
    ) -> User:
        with app.app_context():
            user = User(
                email=email or f"user{next(counter)}@example.cn",
                name=name,
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow() if verified else None,
                is_platform_admin=admin,
                locale=locale,
            )
            db.session.add(user)
            db.session.commit()
            return user

    return make


@pytest.fixture
def create_firm(app: Flask, dbconn: Connection) -> Callable[..., Any]:
    import random

    from webapp import tenancy
    from webapp.models import Firm, Membership
    from webapp.refdata import credit_code

    rng = random.Random(7)

    def make(
        name: str = "杭州测试机械有限公司",
        *,
        owner: Any = None,
        region: str = "330106",
        division: str = "34",
        members: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Firm:
        with app.app_context(), tenancy.bypass():
            firm = Firm(
                name=name,
                credit_code=credit_code.generate(rng, region),
                region_code=region,
                industry_division=division,
                employees=fields.pop("employees", 120),
                size_class=fields.pop("size_class", "small"),
                **fields,
            )
            db.session.add(firm)
            db.session.flush()
            if owner is not None:
                db.session.add(Membership(user_id=owner.id, firm_id=firm.id, role="owner"))
            for role, user in (members or {}).items():
                db.session.add(Membership(user_id=user.id, firm_id=firm.id, role=role))
            db.session.commit()
            return firm

    return make


@pytest.fixture
def login(app: Flask) -> Callable[[FlaskClient, Any], FlaskClient]:
    def do(client: FlaskClient, user: Any) -> FlaskClient:
        r = client.post("/account/signin", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 302, r.data
        return client

    return do


@pytest.fixture
def owner_client(client: FlaskClient, create_user: Any, create_firm: Any, login: Any) -> tuple[Any, Any, Any]:
    """A client signed in as the owner of a new firm: (client, firm, owner)."""
    owner = create_user(name="王丽 Owner")
    firm = create_firm(owner=owner)
    login(client, owner)
    return client, firm, owner
