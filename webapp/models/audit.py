"""The audit log: who did what, when, from where. Append-only.

A row is written by `webapp.audit.record` in the same transaction as the action it records, and is
never changed or removed by the app: the ORM refuses to update or delete one (the listeners below),
and the database refuses too (triggers made by the migration that creates the table).

The row keeps what it needs to be read on its own: the ids it names carry no foreign key (a firm or a
user deleted later must neither take its history with it nor be kept alive by it), and the actor's
address and the target's name are copied as they were at the time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from webapp.db import Base, UTCDateTime, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event: a bug, never a user error."""


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_firm_id_id", "firm_id", "id"),  # a firm's log, newest first
        Index("ix_audit_events_org_kind_org_id", "org_kind", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40), index=True)  # see webapp.audit.ACTIONS
    # who: the signed-in user (or the token's), as they were; none for an anonymous attempt
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    via: Mapped[str] = mapped_column(String(8))  # web | api | cli
    ip: Mapped[str | None] = mapped_column(String(45))  # the client's address (see TRUSTED_PROXIES)
    # where: the firm the action concerns (its owners see the event), and another organisation
    firm_id: Mapped[int | None] = mapped_column(Integer)
    org_kind: Mapped[str | None] = mapped_column(String(16))  # consultancy | regulator | firm
    org_id: Mapped[int | None] = mapped_column(Integer)
    # what: the object acted on, and a small JSON of particulars (a role, a format, a file name)
    target_type: Mapped[str | None] = mapped_column(String(24))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str | None] = mapped_column(String(254))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


def _refuse(*_args: Any) -> None:
    raise AuditLogIsAppendOnly("audit events are never changed or deleted")


event.listen(AuditEvent, "before_update", _refuse)
event.listen(AuditEvent, "before_delete", _refuse)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """`update(AuditEvent)` and `delete(AuditEvent)` through the session skip the mapper events."""
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        _refuse()
