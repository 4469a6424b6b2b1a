"""The database: one engine per app, a scoped session per app context, typed declarative models.

The request (or the CLI command, or the job) owns the transaction: see `webapp.create_app`.
"""

from __future__ import annotations

import datetime as dt
import logging
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use webapp.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _session_factory() -> Session:
    ext = current_app.extensions["qready.db"]
    options: dict[str, Any] = {"bind": ext["engine"], "expire_on_commit": False}
    options.update(ext.get("session_options", {}))
    return Session(**options)


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction has committed; forget it if it rolls back. For
    effects outside the database that must not happen unless the rows say so (removing a stored file
    whose row is being deleted)."""
    session().info.setdefault("after_commit", []).append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the current transaction rolls back; forget it once it commits. For undoing
    effects outside the database made ahead of the rows (a file stored before its row is written)."""
    session().info.setdefault("after_rollback", []).append(callback)


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a cleanup must not fail what already happened; it is logged
            logging.getLogger(__name__).exception("a callback after the transaction failed")


@event.listens_for(Session, "after_commit")
def _after_commit(s: Session) -> None:
    s.info.pop("after_rollback", None)
    _run(s.info.pop("after_commit", []))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(s: Session, previous: Any) -> None:
    if previous.parent is not None:
        return  # a nested transaction: the outer one decides
    s.info.pop("after_commit", None)
    _run(s.info.pop("after_rollback", []))


def _scope() -> int:
    # One session per app context (a request, a CLI command, a job).
    return id(g._get_current_object())


session: scoped_session[Session] = scoped_session(_session_factory, scopefunc=_scope)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        _sqlite_setup(engine)
        _ping_when_idle(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use, without a round trip unless it sat idle for a while.

    `pool_pre_ping` pings on every checkout: one more round trip for every request, though a
    connection returned a moment ago is alive. Instead, every checkout looks whether the server
    ended the connection meanwhile (`_closed_by_server`: `pg_terminate_backend`, a restart), and a
    connection idle past `IDLE_PING_SECONDS` (a network that dropped it silently) is pinged; a dead
    one is replaced before the request uses it (SQLAlchemy retries the checkout on
    `DisconnectionError`). A connection that breaks while a request uses it answers 503
    (`webapp.errors.unavailable`), which the browser retries."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None:
            return
        if _closed_by_server(dbapi_conn):
            raise DisconnectionError("the database ended the pooled connection")
        if time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # the ping opened a transaction; the request starts its own
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


def _closed_by_server(dbapi_conn: Any) -> bool:
    """True when an idle pooled connection has something to read: nothing is owed to an idle client,
    so the server ended it (`pg_terminate_backend`, a restart: an error message, then the end of the
    stream). A look at the socket, without a round trip; SQLite's connections have none."""
    fileno = getattr(dbapi_conn, "fileno", None)
    if fileno is None:
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except (OSError, ValueError, TypeError) as exc:  # closed already
        raise DisconnectionError("the pooled connection is closed") from exc
    return bool(readable)


def disconnected(exc: BaseException | None) -> bool:
    """True for a database error that broke the connection (the server ended it, or went away): the
    request's transaction is gone, nothing of it was committed (or, during COMMIT, it may have been),
    and the same request sent again will find a new connection."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _sqlite_setup(engine: Engine) -> None:
    """SQLite with real transactions and savepoints (SQLAlchemy's documented pysqlite recipe),
    foreign keys enforced, and WAL so readers do not block the writer."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Every transaction takes the write lock when it begins (waiting up to busy_timeout for
        # another writer), so what it reads is what it writes over: with a plain BEGIN its read
        # snapshot could not become a write once another writer committed, and the request would fail
        # with "database is locked" instead of seeing the other change. GETs write too (a draft's
        # kept headline numbers refreshed by the page that scored it, an audit event for a download):
        # bench/load.py found the figures' GET failing so while another worker saved. Only a
        # background job's reads (`reading()`) begin plainly, so a long job does not hold the lock.
        conn.exec_driver_sql("BEGIN" if _reads_only() else "BEGIN IMMEDIATE")


def _reads_only() -> bool:
    from flask import has_app_context

    return has_app_context() and bool(g.get("db_reads_only"))


@contextmanager
def reading() -> Iterator[None]:
    """Outside a request (a background job): the transactions begun inside only read, so on SQLite
    they begin with a plain BEGIN and do not hold the write lock while a long job reads."""
    before = g.get("db_reads_only", False)
    g.db_reads_only = True
    try:
        yield
    finally:
        g.db_reads_only = before


@contextmanager
def writing() -> Iterator[None]:
    """Inside `reading()`: a transaction that writes (it takes the write lock when it begins)."""
    before = g.get("db_reads_only", False)
    g.db_reads_only = False
    try:
        yield
    finally:
        g.db_reads_only = before


def init_app(app: Flask) -> None:
    ext: dict[str, Any] = {"engine": make_engine(app.config["DATABASE_URL"])}
    stats_url = app.config.get("STATS_DATABASE_URL")
    if stats_url and stats_url != app.config["DATABASE_URL"]:
        ext["stats_engine"] = make_engine(stats_url)  # a read replica for the regulator statistics
    app.extensions["qready.db"] = ext

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        session.remove()


def engine() -> Engine:
    return current_app.extensions["qready.db"]["engine"]  # type: ignore[no-any-return]


def stats_engine() -> Engine | None:
    """The engine the regulator statistics read from (`STATS_DATABASE_URL`), None for the main one."""
    return current_app.extensions["qready.db"].get("stats_engine")  # type: ignore[no-any-return]


def dispose(app: Flask) -> None:
    """Close the app's pooled database connections."""
    for key in ("engine", "stats_engine"):
        if key in app.extensions["qready.db"]:
            app.extensions["qready.db"][key].dispose()
