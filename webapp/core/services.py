from __future__ import annotations

from dataclasses import dataclass

from webapp import db, tenancy
from webapp.access import Member
from webapp.models import Consultancy, Firm, Regulator


@dataclass(frozen=True)
class OrgChoice:
    key: str  # "kind:id"
    kind: str
    name: str
    role: str


def org_name(kind: str, org_id: int, *, bypass: bool = False) -> str:
    model = {"firm": Firm, "consultancy": Consultancy, "regulator": Regulator}[kind]
    if bypass:
        with tenancy.bypass():
            row = db.session.get(model, org_id)
    else:
        row = db.session.get(model, org_id)
    return row.name if row is not None else ""


def org_choices(memberships: list[Member]) -> list[OrgChoice]:
    """The organisations a user belongs to, for the switcher. Firms here are in the user's tenant
    context already (membership puts them there), so no bypass is needed."""
    return [
        OrgChoice(key=f"{m.kind}:{m.org_id}", kind=m.kind, name=org_name(m.kind, m.org_id), role=m.role)
        for m in memberships
    ]
