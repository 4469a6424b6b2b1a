"""All models, imported here so that Alembic and the app see one metadata."""

from webapp.models.orgs import (
    CONSULTANCY_ROLES,
    FIRM_ROLES,
    REGULATOR_ROLES,
    Consultancy,
    ConsultancyGrant,
    Firm,
    Invitation,
    Membership,
    Regulator,
)
from webapp.models.users import User

__all__ = [
    "CONSULTANCY_ROLES",
    "FIRM_ROLES",
    "REGULATOR_ROLES",
    "Consultancy",
    "ConsultancyGrant",
    "Firm",
    "Invitation",
    "Membership",
    "Regulator",
    "User",
]
