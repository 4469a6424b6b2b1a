"""Organisations: firms, consultancies, regulator agencies; memberships, invitations, grants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow
from webapp.models.users import User
from webapp.tenancy import TenantScoped

FIRM_ROLES = ("owner", "editor", "viewer")
CONSULTANCY_ROLES = ("owner", "consultant")
REGULATOR_ROLES = ("owner", "analyst")
# An invitation of this role, from a consultancy, asks a firm's owner to become a client (docs/architecture.md).
CLIENT_ROLE = "client"
# A grant's access and the role it gives the consultancy's members in the firm.
GRANT_ACCESS = ("read", "edit")
GRANT_ROLES = {"read": "consultant_read", "edit": "consultant"}


class Firm(TenantScoped, Base):
    """A firm. Tenant-scoped on its own id: a user sees only the firms in their context."""

    __tablename__ = "firms"
    __tenant_column__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)  # GB/T 2260
    industry_division: Mapped[str] = mapped_column(String(2), index=True)  # GB/T 4754-2017
    employees: Mapped[int | None] = mapped_column(Integer)
    revenue_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 营业收入, 万元
    total_assets_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 资产总额, 万元
    size_class: Mapped[str | None] = mapped_column(String(8), index=True)  # large/medium/small/micro
    above_scale: Mapped[bool] = mapped_column(Boolean, default=False)  # 规上
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)  # demo population, not a real firm
    # The firm agreed that its results count in the regulators' aggregate statistics (never its name
    # or answers). Asked when the firm is created, changeable in its profile; off until agreed.
    share_statistics: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # an owner asked to delete the firm: it goes, files and all, at this time unless restored before
    deletion_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"<Firm {self.id} {self.name}>"


class Consultancy(Base):
    __tablename__ = "consultancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A short public code a firm owner types to grant this consultancy access.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Regulator(Base):
    __tablename__ = "regulators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction_code: Mapped[str] = mapped_column(String(6))  # GB/T 2260; sees everything below it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


_ONE_ORG = (
    "(CASE WHEN firm_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN consultancy_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN regulator_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class OrgRef:
    """The organisation a membership points at: exactly one of firm, consultancy or regulator."""

    if TYPE_CHECKING:  # the classes that use it have these (mapped columns or dataclass fields)
        firm_id: int | None
        consultancy_id: int | None
        regulator_id: int | None

    @property
    def kind(self) -> str:
        if self.firm_id is not None:
            return "firm"
        if self.consultancy_id is not None:
            return "consultancy"
        return "regulator"

    @property
    def org_id(self) -> int:
        org_id = self.firm_id or self.consultancy_id or self.regulator_id
        assert org_id is not None
        return org_id


class Membership(OrgRef, Base):
    """A user's place in one organisation, with a role. Exactly one of the three org columns is set."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(_ONE_ORG, name="one_org"),
        UniqueConstraint("user_id", "firm_id", "consultancy_id", "regulator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    consultancy_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultancies.id", ondelete="CASCADE"), index=True
    )
    regulator_id: Mapped[int | None] = mapped_column(
        ForeignKey("regulators.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class Invitation(Base):
    """An invitation by email link to join a firm, a consultancy or a regulator agency with a role.

    The link carries the signed id of this row; the row says whether the link still works. It is
    used once (`accepted_at`), an owner may withdraw it while it waits (`revoked_at`; inviting the
    same address again withdraws the older one), and it expires after `INVITATION_MAX_AGE`."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(_ONE_ORG, name="one_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    consultancy_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultancies.id", ondelete="CASCADE"), index=True
    )
    regulator_id: Mapped[int | None] = mapped_column(
        ForeignKey("regulators.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # a consultancy's invitation to become its client (role CLIENT_ROLE): the firm's name, as a hint
    firm_name: Mapped[str | None] = mapped_column(String(200))

    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class ConsultancyGrant(Base):
    """A firm lets a consultancy work on its assessments, until the firm revokes it."""

    __tablename__ = "consultancy_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    consultancy_id: Mapped[int] = mapped_column(
        ForeignKey("consultancies.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "read": the consultants see the firm's assessments; "edit": they also answer and plan
    access: Mapped[str] = mapped_column(String(8), default="edit", server_default="edit")
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    consultancy: Mapped[Consultancy] = relationship()
