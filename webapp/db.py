"""The database: one engine per app, a scoped session per app context, typed declarative models.

The request (or the CLI command, or the job) owns the transaction: see `webapp.create_app`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

V = TypeVar("V")
R = TypeVar("R")

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
    info: dict[str, Any] = {}
    if _read_only_request() and ext["engine"].dialect.name == "postgresql":
        options["bind"] = ext["autocommit_engine"]
        info["read_only"] = True
    options.update(ext.get("session_options", {}))
    info.update(g.pop("_session_info", {}))
    s = Session(info=info, **options)
    for instance in g.pop("_attach", ()):
        s.add(instance)  # read before the session was needed (the signed-in user, see `attach`)
    return s


def session_info() -> dict[str, Any]:
    """The request's session's `info` — or, while the request has made no session, the dict that will
    become its `info` when it does (a kept page never needs one: its statements all stand alone)."""
    if session.registry.has():
        return session().info
    return g.setdefault("_session_info", {})  # type: ignore[no-any-return]


def attach(instance: Any) -> None:
    """Put a detached instance (one built from a row, as if loaded) into the request's session.

    Only a read-only GET (`read_only`, whose session refuses to flush anyway) waits until it makes a
    session, and so never makes one when its statements all stand alone (a kept page). Any other
    request gets its session now: a view may change the instance (the signed-in user's password or
    settings) without running a statement first, and a change to an instance in no session would be
    acknowledged and then silently lost when the request commits nothing."""
    if session.registry.has() or not _read_only_request():
        session.add(instance)
    else:
        g.setdefault("_attach", []).append(instance)


def read_only(view: V) -> V:
    """Mark a view whose GET and HEAD requests only read. On PostgreSQL their statements then run
    without a transaction (autocommit): no BEGIN and no COMMIT round trips. Such a session refuses
    to flush, so an ORM write in one fails loudly instead of committing piecemeal."""
    view.read_only = True  # type: ignore[attr-defined]
    return view


def _read_only_request() -> bool:
    from flask import has_request_context, request

    if not has_request_context() or request.method not in ("GET", "HEAD") or request.endpoint is None:
        return False
    known = g.get("_read_only")
    if known is None:
        known = g._read_only = bool(
            getattr(current_app.view_functions.get(request.endpoint), "read_only", False)
        )
    return known


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


@event.listens_for(Session, "after_transaction_end")
def _forget_hot_cursor(s: Session, _transaction: Any) -> None:
    s.info.pop("_hot", None)  # the connection goes back to the pool: never reuse it from here


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, _flush_context: Any, _instances: Any) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only request tried to write")


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
    """Check a pooled connection before use only when it sat idle for a while.

    `pool_pre_ping` pings on every checkout: one more round trip for every request, though a
    connection returned a moment ago is alive. A connection idle past `IDLE_PING_SECONDS` (the
    database may have restarted meanwhile) is pinged; a dead one is replaced before the request
    uses it (SQLAlchemy retries the checkout on `DisconnectionError`)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # the ping opened a transaction; the request starts its own
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


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
        # A request that may write takes the write lock when its transaction begins (waiting up to
        # busy_timeout for another writer), so what it reads is what it writes over: with a plain
        # BEGIN its read snapshot could not become a write once another writer committed, and the
        # request would fail with "database is locked" instead of seeing the other change.
        conn.exec_driver_sql("BEGIN" if _get_or_head() else "BEGIN IMMEDIATE")


def _get_or_head() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method in ("GET", "HEAD")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["qready.db"] = {
        "engine": engine,
        "autocommit_engine": engine.execution_options(isolation_level="AUTOCOMMIT"),
        "own": OwnConnections(engine) if engine.dialect.name == "postgresql" else None,
    }

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        session.remove()
        own = app.extensions["qready.db"]["own"]
        if own is not None:
            own.release()


def engine() -> Engine:
    return current_app.extensions["qready.db"]["engine"]  # type: ignore[no-any-return]


class HotStatement:
    """A statement of the busiest requests (sign-in context, autosave, the section page's stamp), run
    on the DBAPI cursor under PostgreSQL.

    Through SQLAlchemy a small statement costs about 0.25 ms of CPU; psycopg alone needs about 0.06
    ms. This keeps SQLAlchemy for what it is good at here — building the statement and compiling it
    for the dialect, with the bind processors of its column types (JSON, UTC datetimes) — and hands
    the compiled SQL straight to psycopg, within the session's transaction. psycopg returns what
    SQLAlchemy would (JSON parsed, timestamps with their zone). On other databases (SQLite) the
    statement simply runs through SQLAlchemy. Rows come back as plain tuples in the select's order.
    """

    def __init__(self, stmt: Any, *, standalone: bool = False) -> None:
        self.stmt = stmt
        self.standalone = standalone
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, dict[str, Any], dict[str, Any]]] = {}

    def _sql(self, dialect: Any, keys: tuple[str, ...]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        hit = self._compiled.get((dialect.driver, keys))
        if hit is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=list(keys))
            # the type processors SQLAlchemy itself applies to these parameters before the DBAPI call
            processors = dict(compiled._bind_processors)
            # values written into the statement (a literal 0 in coalesce(x, 0)) are parameters too
            fixed = {
                name: bp.effective_value
                for name, bp in compiled.binds.items()
                if not bp.required and name not in keys
            }
            hit = (compiled.string, processors, fixed)
            self._compiled[(dialect.driver, keys)] = hit
        return hit

    def _cursor(self, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        if self.standalone or _read_only_request():
            own = _own_connection()
            if own is not None:
                return own.run(self, params)
        s = session()
        hot = s.info.get("_hot")
        if hot is None:
            # the session's connection, and one psycopg cursor on it, for this transaction (each
            # method below reads its rows at once, so one cursor serves them all)
            conn = s.connection()
            raw = conn.connection.dbapi_connection.cursor() if conn.dialect.name == "postgresql" else None
            hot = s.info["_hot"] = (conn, raw)
        conn, cur = hot
        if cur is None:
            return conn.execute(self.stmt, params)
        return self._execute(cur, conn.dialect, params)

    def _execute(self, cur: Any, dialect: Any, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        rows = params if isinstance(params, list) else [params]
        sql, processors, fixed = self._sql(dialect, tuple(rows[0]))
        if fixed:
            rows = [{**fixed, **r} for r in rows]
        if processors:
            rows = [{k: (processors[k](v) if k in processors else v) for k, v in r.items()} for r in rows]
        if len(rows) > 1:
            cur.executemany(sql, rows)
        else:  # one row: executemany would enter psycopg's pipeline mode for it
            cur.execute(sql, rows[0])
        return cur

    def rows(self, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        kept = _prefetched(self, params)
        if kept is not None:
            return kept
        return [tuple(r) for r in self._cursor(params).fetchall()]

    def first(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        kept = _prefetched(self, params)
        if kept is not None:
            return kept[0] if kept else None
        row = self._cursor(params).fetchone()
        return tuple(row) if row is not None else None

    def run(self, params: dict[str, Any] | list[dict[str, Any]]) -> None:
        self._cursor(params)


class OwnConnections:
    """Connections to PostgreSQL kept open by the app itself, in autocommit, for statements that stand
    alone (`HotStatement(standalone=True)`, and every hot statement of a read-only request).

    Such a statement needs no transaction around it: a read (the signed-in user, the section page's
    stamp) or a write complete in one statement (the autosave's). Through the session it would check
    a connection out of SQLAlchemy's pool, begin, commit and check it back in: two more round trips
    and about a third of a kept section page's CPU. Here a request takes one of these connections on
    its first such statement and gives it back when it ends (`release`), so there are as many as
    requests run at once, whatever the server's threads. A connection the server dropped (a restart)
    is replaced and the statement sent again, once: the statements that stand alone may run twice (a
    read, or a write conditional on the version it replaces). Never shared across a fork."""

    KEPT = 16  # idle connections kept open at most

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _connect(self) -> Any:
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        return self.engine.dialect.loaded_dbapi.connect(*cargs, **cparams, autocommit=True)

    def _take(self) -> tuple[Any, Any]:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the parent's sockets are not ours to use
                self._idle, self._pid = [], os.getpid()
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = self._connect()
        return conn, conn.cursor()

    def _taken(self) -> tuple[Any, Any]:
        taken = g.get("_own_connection")
        if taken is None:
            taken = g._own_connection = self._take()
        return taken  # type: ignore[no-any-return]

    def _retried(self, do: Callable[[Any, Any], R]) -> R:
        """`do(connection, cursor)`; once more on a new connection if the server dropped this one."""
        conn, cur = self._taken()
        try:
            return do(conn, cur)
        except self.engine.dialect.loaded_dbapi.OperationalError:
            if not conn.broken:
                raise
            conn.close()  # the server went away: a new connection, the statement again
            g._own_connection = None
            return do(*self._taken())

    def run(self, hot: HotStatement, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        return self._retried(lambda _conn, cur: hot._execute(cur, self.engine.dialect, params))

    def release(self) -> None:
        """The request ends: its connection goes back for the next one."""
        taken = g.pop("_own_connection", None)
        if taken is None:
            return
        conn = taken[0]
        idle = not conn.closed and conn.info.transaction_status == conn.info.transaction_status.IDLE
        with self._lock:
            if idle and self._pid == os.getpid() and len(self._idle) < self.KEPT:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (with the engine, when the app is done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


Prefetch = Callable[[dict[str, Any]], list[tuple[HotStatement, dict[str, Any]]]]


def prefetch(statements: Prefetch) -> Callable[[V], V]:
    """Mark a view whose GET and HEAD requests run these standalone statements (given the URL's
    arguments), each returning at most one row: on PostgreSQL they are joined to the signed-in user's
    statement and come back with it, in one statement (`read_with_user`), and their rows wait for the
    view's own `rows`/`first` with the same parameters. Only for reads whose rows mean nothing until
    the view's access rule admitted it."""

    def mark(view: V) -> V:
        view.prefetch = statements  # type: ignore[attr-defined]
        return view

    return mark


_JOINED: dict[tuple[HotStatement, ...], tuple[HotStatement, list[int]]] = {}


def _joined(hot: HotStatement, others: list[HotStatement]) -> tuple[HotStatement, list[int]]:
    """`hot` with each of `others` (one row at most) left-joined on true, its columns added after
    hot's: one statement, one round trip, rows in hot's order; and where each one's columns start.
    Each of `others` gets a leading column that is true when it found its row. Built once per set.

    The statements' parameters share one namespace: their names must not collide."""
    key = (hot, *others)  # the statements themselves (kept alive here), never an id another could reuse
    hit = _JOINED.get(key)
    if hit is None:
        from sqlalchemy import true

        stmt = hot.stmt
        starts = []
        width = len(stmt.selected_columns)
        for n, other in enumerate(others):
            found = other.stmt.add_columns(true().label("found_")).subquery(f"prefetched_{n}")
            # the found flag first, then the statement's own columns
            columns = [found.c.found_, *(c for c in found.c if c.key != "found_")]
            stmt = stmt.outerjoin(found, true()).add_columns(*columns)
            starts.append(width)
            width += len(columns)
        hit = _JOINED[key] = (HotStatement(stmt, standalone=True), starts)
    return hit


def read_with_user(hot: HotStatement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of `hot` (the signed-in user's statement) and, joined to it, the view's prefetched
    statements (see `prefetch`)."""
    from flask import has_request_context, request

    own = _own_connection()
    if own is None or not has_request_context() or request.method not in ("GET", "HEAD"):
        return hot.rows(params)
    view = current_app.view_functions.get(request.endpoint or "")
    wanted = getattr(view, "prefetch", None)
    if wanted is None:
        return hot.rows(params)
    calls = wanted(dict(request.view_args or {}))
    if not calls:
        return hot.rows(params)
    joined, starts = _joined(hot, [other for other, _ in calls])
    merged = dict(params)
    for _, other_params in calls:
        for name, value in other_params.items():
            if merged.setdefault(name, value) != value:
                raise ValueError(f"prefetched statements disagree on parameter {name!r}")
    rows = joined.rows(merged)
    if not rows:  # no such user: nothing will be asked for
        return rows
    kept = g.setdefault("_prefetched", {})
    first = rows[0]
    ends = [*starts[1:], len(first)]
    for (other, other_params), start, end in zip(calls, starts, ends, strict=True):
        kept[(id(other), tuple(sorted(other_params.items())))] = (
            [first[start + 1 : end]] if first[start] else []
        )
    return [r[: starts[0]] for r in rows]


def _prefetched(hot: HotStatement, params: dict[str, Any]) -> list[tuple[Any, ...]] | None:
    kept = g.get("_prefetched")
    if not kept:
        return None
    return kept.pop((id(hot), tuple(sorted(params.items()))), None)  # type: ignore[no-any-return]


def dispose(app: Flask) -> None:
    """Close the app's database connections: the pool's and its own."""
    ext = app.extensions["qready.db"]
    ext["engine"].dispose()
    if ext["own"] is not None:
        ext["own"].close()


def _own_connection() -> OwnConnections | None:
    """The own connections of the app, unless the session is bound to a given connection (the tests
    run every statement inside their one transaction) or the database is not PostgreSQL."""
    ext = current_app.extensions["qready.db"]
    if ext.get("session_options", {}).get("bind") is not None:
        return None
    return ext["own"]  # type: ignore[no-any-return]
