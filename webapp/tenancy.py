"""Tenancy that fails closed.

Every firm-owned model names its firm column in `__tenant_column__` (the `FirmOwned` mixin does
this for `firm_id`; the `Firm` model itself uses `id`). A `do_orm_execute` listener adds
"firm column IN (the firms in context)" to every ORM SELECT, UPDATE and DELETE of such a model
(SQLAlchemy's documented global-WHERE-criteria recipe). With no firm in context the criteria
match nothing. A `before_flush` listener refuses to write a firm-owned row outside the context.

Core statements on firm-owned tables (the questionnaire's busiest reads and its writes, outside the
ORM's per-statement criteria) go through `execute(firm_id, statement)`: it names the firm in the
statement and runs nothing for a firm outside the context.

Cross-firm reads are explicit: `bypass()` — used only by the regulator statistics service,
platform-admin listings, and CLI maintenance commands.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, Select, Update, bindparam, event, false
from sqlalchemy.engine import Result
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.schema import ForeignKey
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql.selectable import Join

from webapp import db


class TenancyError(RuntimeError):
    """A write outside the firms in context: a bug, never a user error."""


@dataclass(frozen=True)
class TenantContext:
    """The firms the current actor may reach, with the actor's role in each."""

    roles: Mapping[int, str] = field(default_factory=dict)
    bypass: bool = False

    @property
    def firm_ids(self) -> frozenset[int]:
        return frozenset(self.roles)


EMPTY = TenantContext()


class TenantScoped:
    """Marker base: the class attribute `__tenant_column__` names the firm id column."""

    __tenant_column__: str = "firm_id"


class FirmOwned(TenantScoped):
    """Mixin for rows that belong to one firm."""

    @declared_attr
    def firm_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)


def _info(session: Session | None) -> dict[str, Any]:
    return (session if session is not None else db.session()).info


def context(session: Session | None = None) -> TenantContext:
    ctx = _info(session).get("tenant", EMPTY)
    assert isinstance(ctx, TenantContext)
    return ctx


def set_context(ctx: TenantContext, session: Session | None = None) -> None:
    _info(session)["tenant"] = ctx


@contextmanager
def bypass(session: Session | None = None) -> Iterator[None]:
    """Read and write across firms. Only for the statistics service, admin listings and CLI jobs."""
    info = _info(session)
    before = info.get("tenant", EMPTY)
    info["tenant"] = TenantContext(roles=before.roles, bypass=True)
    try:
        yield
    finally:
        _info(session)["tenant"] = before


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # Lazy loads of a row already loaded under the criteria; the option propagates to them.
        return
    ctx = state.session.info.get("tenant", EMPTY)
    if ctx.bypass:
        return
    if not _touches_tenant_rows(state):
        return  # e.g. loading the signed-in user: no firm-owned table in the statement
    state.statement = state.statement.options(*_options(state.session, ctx))


def _touches_tenant_rows(state: ORMExecuteState) -> bool:
    """Does the statement read or change a tenant-scoped table, as an entity or in any join or
    subquery? Attaching the criteria costs about a millisecond a statement, so skip it when not."""
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    tables = _firm_columns()
    return any(
        t in tables for t in sql_util.find_tables(state.statement, include_joins=True, include_aliases=True)
    )


def _options(session: Session, ctx: TenantContext) -> tuple[Any, ...]:
    """The loader criteria for this context's firms (building them costs about as much as a small
    query: built once per set of firms, and these statement options are immutable)."""
    return _criteria(ctx.firm_ids)


@functools.lru_cache(maxsize=1024)
def _criteria(firm_ids: frozenset[int]) -> tuple[Any, ...]:
    ids = sorted(firm_ids)  # empty: "IN ()" matches nothing
    return tuple(
        with_loader_criteria(cls, getattr(cls, cls.__tenant_column__).in_(ids), include_aliases=True)
        for cls in _tenant_classes()
    )


@functools.cache
def _tenant_classes() -> list[type[TenantScoped]]:
    return [m.class_ for m in db.Base.registry.mappers if issubclass(m.class_, TenantScoped)]


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, _flush_context: Any, _instances: Any) -> None:
    ctx = session.info.get("tenant", EMPTY)
    if ctx.bypass:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped):
            firm_id = getattr(obj, obj.__tenant_column__)
            if firm_id is None and obj in session.new and obj.__tenant_column__ == "id":
                continue  # a new firm gets its id on insert; creating a firm is checked by the caller
            if firm_id not in ctx.firm_ids:
                raise TenancyError(f"{type(obj).__name__} of firm {firm_id} is outside the tenant context")


# ---- Core statements ---------------------------------------------------------------------------------

FIRM_PARAM = "tenant_firm_id"


def execute(firm_id: int, stmt: Any, params: Any = None) -> Result[Any]:
    """Run a Core statement on firm-owned tables for one firm, on the session's connection.

    A SELECT or UPDATE gets `<table>.<firm column> = firm_id` for each firm-owned table it reads from
    (`scoped`); an INSERT must name the firm in every row. A firm outside the tenant context reads
    nothing (a SELECT matches no row) and writes nothing (TenancyError)."""
    allowed = context().bypass or firm_id in context().firm_ids
    conn = db.session.connection()
    if isinstance(stmt, Insert):
        rows = params if isinstance(params, list) else [params or {}]
        if not allowed or any(r.get("firm_id", firm_id) != firm_id for r in rows):
            raise TenancyError(f"a write of firm {firm_id} outside the tenant context")
        return conn.execute(stmt, params)
    stmt = scoped(stmt)
    if not allowed:
        if not isinstance(stmt, Select):
            raise TenancyError(f"a write of firm {firm_id} outside the tenant context")
        stmt = stmt.where(false())
    many = isinstance(params, list)
    rows = params if many else [params or {}]
    bound = [{**r, FIRM_PARAM: firm_id} for r in rows]
    return conn.execute(stmt, bound if many else bound[0])


def scoped(stmt: Any) -> Any:
    """`stmt` with `<table>.<firm column> = :tenant_firm_id` for each firm-owned table in its FROM
    list and inner joins (a subquery is scoped where it is built). An outer-joined firm-owned table
    must name the firm in its ON clause: its rows are never matched by the WHERE. Done once per
    statement (finding a select's FROM list costs as much as compiling it): build statements once,
    with bind parameters."""
    done = _SCOPED.get(stmt)
    if done is not None:
        return stmt if done is _UNCHANGED else done
    froms = []
    if isinstance(stmt, Select):
        froms = stmt.get_final_froms()
    elif isinstance(stmt, Update):
        froms = [stmt.table]
    conditions = [c for f in froms for c in _firm_conditions(f)]
    done = stmt.where(*conditions) if conditions else stmt
    _SCOPED[stmt] = done if conditions else _UNCHANGED  # never the key itself: it would live forever
    return done


_UNCHANGED = object()
_SCOPED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _firm_conditions(from_: Any) -> list[Any]:
    if isinstance(from_, Join):
        return _firm_conditions(from_.left) + ([] if from_.isouter else _firm_conditions(from_.right))
    column = _firm_columns().get(from_._deannotate())  # an ORM entity's table is annotated
    return [] if column is None else [column == bindparam(FIRM_PARAM)]


@functools.cache
def _firm_columns() -> dict[Any, Any]:
    """Each tenant-scoped table, with its firm column."""
    return {cls.__table__: cls.__table__.c[cls.__tenant_column__] for cls in _tenant_classes()}  # type: ignore[attr-defined]
