"""Firms, memberships, invitations and consultancy grants. Functions with explicit arguments; they
flush but never commit (the request, command or job commits)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from webapp import db, tenancy
from webapp.db import utcnow
from webapp.models import (
    CLIENT_ROLE,
    Consultancy,
    ConsultancyGrant,
    Firm,
    Invitation,
    Membership,
    Regulator,
    User,
)
from webapp.refdata import industries, regions, sizes


@dataclass(frozen=True)
class FirmData:
    name: str
    credit_code: str
    region_code: str
    industry_division: str
    employees: int | None = None
    revenue_10k: Decimal | None = None
    total_assets_10k: Decimal | None = None
    above_scale: bool = False
    founded_on: dt.date | None = None
    share_statistics: bool = False  # counted in the regulators' aggregate statistics (opt-in)


def _apply(firm: Firm, data: FirmData) -> None:
    for key, value in data.__dict__.items():
        setattr(firm, key, value)
    result = sizes.classify(data.industry_division, data.employees, data.revenue_10k, data.total_assets_10k)
    firm.size_class = result.size_class


def credit_code_taken(code: str, except_firm: int | None = None) -> bool:
    with tenancy.bypass():  # uniqueness is global; only a yes/no leaves this function
        q = select(func.count()).select_from(Firm).where(Firm.credit_code == code)
        if except_firm is not None:
            q = q.where(Firm.id != except_firm)
        return bool(db.session.scalar(q))


def owners_holding_credit_code(code: str, except_firm: int | None = None) -> list[tuple[Firm, User]]:
    """The owners of the firm registered with `code` (none when no firm has it), for a message to them;
    never shown to the person who typed the code."""
    with tenancy.bypass():
        q = (
            select(Firm, User)
            .join(Membership, Membership.firm_id == Firm.id)
            .join(User, User.id == Membership.user_id)
            .where(Firm.credit_code == code, Membership.role == "owner", User.is_active_account.is_(True))
            .order_by(User.id)
        )
        if except_firm is not None:
            q = q.where(Firm.id != except_firm)
        return [(f, u) for f, u in db.session.execute(q)]


def create_firm(owner: User, data: FirmData) -> Firm:
    """A new firm with `owner` as its owner; the firm joins the tenant context of this session."""
    firm = Firm()
    _apply(firm, data)
    db.session.add(firm)
    db.session.flush()
    db.session.add(Membership(user_id=owner.id, firm_id=firm.id, role="owner"))
    ctx = tenancy.context()
    tenancy.set_context(tenancy.TenantContext(roles={**ctx.roles, firm.id: "owner"}, bypass=ctx.bypass))
    db.session.flush()
    return firm


def update_firm(firm: Firm, data: FirmData) -> None:
    from webapp.stats import counts

    with counts.firm_changing(firm.id):  # its consent to the statistics may change
        _apply(firm, data)
        db.session.flush()


def size_rule(firm: Firm) -> dict[str, str]:
    return sizes.classify(
        firm.industry_division, firm.employees, firm.revenue_10k, firm.total_assets_10k
    ).rule


class FirmProfile(Protocol):
    region_code: str
    industry_division: str
    above_scale: bool
    size_class: str | None
    founded_on: dt.date | None


def profile_facts(firm: FirmProfile, as_of: dt.date) -> dict[str, Any]:
    """The firm's profile as the facts that framework items may depend on (docs/frameworks.md)."""
    facts: dict[str, Any] = {
        "region": firm.region_code,
        "city": regions.city_of(firm.region_code),
        "registered_in_zhejiang": regions.is_within(firm.region_code, "330000"),
        "industry_division": firm.industry_division,
        "industry_section": industries.section_of(firm.industry_division),
        "is_manufacturing": industries.section_of(firm.industry_division) == "C",
        "above_scale": firm.above_scale,
    }
    if firm.size_class:
        facts["size_class"] = firm.size_class
    if firm.founded_on:
        facts["founded_on"] = firm.founded_on.isoformat()  # years_gte / years_lt conditions count from it
        years = as_of.year - firm.founded_on.year
        if (as_of.month, as_of.day) < (firm.founded_on.month, firm.founded_on.day):
            years -= 1
        facts["years_operating"] = max(years, 0)
    return facts


# ---- members and invitations ----------------------------------------------------------------------


def firm_members(firm_id: int) -> list[Membership]:
    q = select(Membership).where(Membership.firm_id == firm_id).order_by(Membership.created_at)
    return list(db.session.scalars(q))


def _same_org(
    q: Any, *, firm_id: int | None, consultancy_id: int | None, regulator_id: int | None = None
) -> Any:
    if firm_id is not None:
        return q.where(Invitation.firm_id == firm_id)
    if regulator_id is not None:
        return q.where(Invitation.regulator_id == regulator_id)
    return q.where(Invitation.consultancy_id == consultancy_id)


def pending_invitations(
    *,
    max_age: dt.timedelta,
    now: dt.datetime,
    firm_id: int | None = None,
    consultancy_id: int | None = None,
    regulator_id: int | None = None,
    clients: bool = False,
) -> list[Invitation]:
    """The invitations of one organisation whose link still works: not used, withdrawn or expired.
    Its members' invitations, or with `clients` a consultancy's invitations to firms."""
    q = select(Invitation).where(
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.created_at > now - max_age,
        (Invitation.role == CLIENT_ROLE) if clients else (Invitation.role != CLIENT_ROLE),
    )
    q = _same_org(q, firm_id=firm_id, consultancy_id=consultancy_id, regulator_id=regulator_id)
    q = q.options(joinedload(Invitation.invited_by))
    return list(db.session.scalars(q.order_by(Invitation.created_at)))


def invite(
    *,
    email: str,
    role: str,
    by: User,
    firm_id: int | None = None,
    consultancy_id: int | None = None,
    regulator_id: int | None = None,
    firm_name: str | None = None,
) -> Invitation:
    """A new invitation; an older one to the same address for the same organisation that still
    waits (to join it, or to become its client: `role` CLIENT_ROLE) is withdrawn, so only the
    newest link works."""
    email = email.strip().lower()
    now = utcnow()
    older = update(Invitation).where(
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        (Invitation.role == CLIENT_ROLE) if role == CLIENT_ROLE else (Invitation.role != CLIENT_ROLE),
    )
    older = _same_org(older, firm_id=firm_id, consultancy_id=consultancy_id, regulator_id=regulator_id)
    db.session.execute(
        older.values(revoked_at=now, revoked_by_id=by.id), execution_options={"synchronize_session": False}
    )
    inv = Invitation(
        email=email,
        role=role,
        invited_by_id=by.id,
        firm_id=firm_id,
        consultancy_id=consultancy_id,
        regulator_id=regulator_id,
        firm_name=(firm_name or "").strip() or None,
        created_at=now,
    )
    db.session.add(inv)
    db.session.flush()
    return inv


def invitation_state(inv: Invitation, *, max_age: dt.timedelta, now: dt.datetime) -> str:
    """ "pending" while the link works; else "accepted", "superseded" (withdrawn because the address
    was invited again), "revoked" or "expired"."""
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        newer = select(Invitation.id).where(
            Invitation.email == inv.email,
            Invitation.id > inv.id,
            (Invitation.role == CLIENT_ROLE) if inv.role == CLIENT_ROLE else (Invitation.role != CLIENT_ROLE),
        )
        newer = _same_org(
            newer, firm_id=inv.firm_id, consultancy_id=inv.consultancy_id, regulator_id=inv.regulator_id
        )
        return "superseded" if db.session.scalar(newer.limit(1)) is not None else "revoked"
    if inv.created_at <= now - max_age:
        return "expired"
    return "pending"


def revoke_invitation(inv: Invitation, by: User) -> bool:
    """Withdraw an invitation that still waits; False when it was used or withdrawn meanwhile."""
    done = db.session.execute(
        update(Invitation)
        .where(Invitation.id == inv.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by_id=by.id),
        execution_options={"synchronize_session": False},
    )
    db.session.refresh(inv)
    return bool(done.rowcount)  # type: ignore[attr-defined]


def accept_invitation(
    inv: Invitation, user: User, *, max_age: dt.timedelta, now: dt.datetime
) -> Membership | None:
    """Use the invitation: the user joins its organisation with its role (or keeps the membership they
    have). None when the invitation was used, withdrawn or expired meanwhile: the row is claimed in
    one conditional UPDATE, so two requests with the same link cannot both get in."""
    if not claim_invitation(inv, user, max_age=max_age, now=now):
        return None
    existing = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.firm_id.is_(None) if inv.firm_id is None else Membership.firm_id == inv.firm_id,
            Membership.consultancy_id.is_(None)
            if inv.consultancy_id is None
            else Membership.consultancy_id == inv.consultancy_id,
            Membership.regulator_id.is_(None)
            if inv.regulator_id is None
            else Membership.regulator_id == inv.regulator_id,
        )
    )
    if existing is not None:
        return existing
    membership = Membership(
        user_id=user.id,
        firm_id=inv.firm_id,
        consultancy_id=inv.consultancy_id,
        regulator_id=inv.regulator_id,
        role=inv.role,
    )
    db.session.add(membership)
    db.session.flush()
    return membership


def claim_invitation(inv: Invitation, user: User, *, max_age: dt.timedelta, now: dt.datetime) -> bool:
    """Mark the invitation used by `user`, in one conditional UPDATE; False when it was used,
    withdrawn or expired meanwhile."""
    claimed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == inv.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.created_at > now - max_age,
        )
        .values(accepted_at=now, accepted_by_id=user.id),
        execution_options={"synchronize_session": False},
    )
    db.session.refresh(inv)
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def mask_email(email: str) -> str:
    """An address as a hint for its owner and nothing more for anyone else: "c***@e***.cn"."""
    local, _, domain = email.partition("@")
    labels = domain.split(".")
    head = [f"{label[:1]}***" for label in labels[:-1]] or ["***"]
    tail = labels[-1:] if len(labels) > 1 else []
    return f"{local[:1]}***@" + ".".join(head + tail)


def owner_count(firm_id: int) -> int:
    q = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.firm_id == firm_id, Membership.role == "owner")
    )
    return int(db.session.scalar(q) or 0)


# ---- consultancy grants ---------------------------------------------------------------------------


def active_grants(firm_id: int) -> list[ConsultancyGrant]:
    q = select(ConsultancyGrant).where(
        ConsultancyGrant.firm_id == firm_id, ConsultancyGrant.revoked_at.is_(None)
    )
    return list(db.session.scalars(q.order_by(ConsultancyGrant.granted_at)))


def consultancy_by_code(code: str) -> Consultancy | None:
    return db.session.scalar(select(Consultancy).where(Consultancy.code == code.strip().upper()))


def grant(firm_id: int, consultancy: Consultancy, by: User, access: str | None = None) -> ConsultancyGrant:
    """The consultancy's grant of the firm: the one that lasts, or a new one (edit access unless
    `access` says otherwise). With `access`, a lasting grant takes it."""
    for g in active_grants(firm_id):
        if g.consultancy_id == consultancy.id:
            if access is not None and g.access != access:
                g.access = access
                db.session.flush()
            return g
    g = ConsultancyGrant(
        firm_id=firm_id, consultancy_id=consultancy.id, granted_by_id=by.id, access=access or "edit"
    )
    db.session.add(g)
    db.session.flush()
    return g


def accept_client_invitation(
    inv: Invitation, user: User, firm_id: int, access: str, *, max_age: dt.timedelta, now: dt.datetime
) -> ConsultancyGrant | None:
    """A firm's owner accepts a consultancy's invitation for one of their firms (the caller checked
    they own it) with `access`: the grant exists at once. None when the invitation was used,
    withdrawn or expired meanwhile (claimed as `accept_invitation` does)."""
    assert inv.role == CLIENT_ROLE and inv.consultancy_id is not None
    if not claim_invitation(inv, user, max_age=max_age, now=now):
        return None
    consultancy = db.session.get(Consultancy, inv.consultancy_id)
    assert consultancy is not None
    return grant(firm_id, consultancy, user, access)


def create_client_firm(consultancy: Consultancy, data: FirmData, by: User) -> Firm:
    """A consultancy creates a firm for a client: the firm has no member yet and the consultancy an
    edit grant, until the consultancy hands it over (an owner invitation to the firm) — the new owner
    may then revoke the grant like any other."""
    firm = Firm()
    _apply(firm, data)
    db.session.add(firm)
    db.session.flush()
    db.session.add(
        ConsultancyGrant(firm_id=firm.id, consultancy_id=consultancy.id, granted_by_id=by.id, access="edit")
    )
    ctx = tenancy.context()
    roles = {**ctx.roles, firm.id: ctx.roles.get(firm.id, "consultant")}
    tenancy.set_context(tenancy.TenantContext(roles=roles, bypass=ctx.bypass))
    db.session.flush()
    return firm


def client_count(consultancy_id: int) -> int:
    q = (
        select(func.count())
        .select_from(ConsultancyGrant)
        .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
    )
    return int(db.session.scalar(q) or 0)


def revoke(grant_row: ConsultancyGrant, by: User) -> None:
    grant_row.revoked_at = utcnow()
    grant_row.revoked_by_id = by.id
    db.session.flush()


def client_firms(consultancy_id: int) -> list[Firm]:
    """The firms that granted this consultancy access (and not revoked it)."""
    q = (
        select(Firm)
        .join(ConsultancyGrant, ConsultancyGrant.firm_id == Firm.id)
        .where(ConsultancyGrant.consultancy_id == consultancy_id, ConsultancyGrant.revoked_at.is_(None))
        .order_by(Firm.name)
    )
    return list(db.session.scalars(q))


# ---- regulator agencies ---------------------------------------------------------------------------


def create_agency(
    *, name: str, jurisdiction_code: str, first_member: str, by: User
) -> tuple[Regulator, Invitation]:
    """A platform admin creates a regulator agency and invites its first member, as its owner."""
    agency = Regulator(name=name.strip(), jurisdiction_code=jurisdiction_code)
    db.session.add(agency)
    db.session.flush()
    return agency, invite(email=first_member, role="owner", by=by, regulator_id=agency.id)


def agency_members(regulator_id: int) -> list[Membership]:
    q = select(Membership).where(Membership.regulator_id == regulator_id).order_by(Membership.created_at)
    return list(db.session.scalars(q))
