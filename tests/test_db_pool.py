"""Pooled connections are checked before use when they sat idle (webapp.db._ping_when_idle): a
connection the database dropped meanwhile is replaced instead of failing the request."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from webapp import db

pytestmark = pytest.mark.db


def _kill(engine) -> None:
    """Drop the pooled connection behind the pool's back: PostgreSQL ends the backend; SQLite closes it."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        raw = conn.connection.dbapi_connection
        pid = (
            conn.execute(text("SELECT pg_backend_pid()")).scalar()
            if engine.dialect.name == "postgresql"
            else None
        )
    if pid is None:
        raw.close()
        return
    other = db.make_engine(engine.url.render_as_string(hide_password=False))
    with other.begin() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_an_idle_connection_the_database_dropped_is_replaced(database_url, monkeypatch):
    engine = db.make_engine(database_url)
    engine.pool.dispose()
    try:
        _kill(engine)
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url, monkeypatch):
    engine = db.make_engine(database_url)
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_a_connection_the_server_ended_is_seen_without_a_round_trip():
    """`_closed_by_server` looks at the socket: an idle connection has nothing to read unless the
    server ended it (PostgreSQL sends its error message, then closes); bench/load.py and
    tests/test_load.py end the app's connections with pg_terminate_backend under load."""
    import socket

    class Conn:  # what the pool holds: a DBAPI connection with its socket's fileno()
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def fileno(self) -> int:
            return self.sock.fileno()

    ours, server = socket.socketpair()
    try:
        assert not db._closed_by_server(Conn(ours))  # alive and idle
        server.sendall(b"E\x00\x00\x00\x05terminating connection")
        server.close()
        assert db._closed_by_server(Conn(ours))
    finally:
        ours.close()
    assert not db._closed_by_server(object())  # SQLite's connections have no socket
