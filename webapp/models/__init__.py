"""All models, imported here so that Alembic and the app see one metadata."""

from webapp.models.assessments import (
    ASSESSMENT_STATUSES,
    Answer,
    AnswerHistory,
    Assessment,
    Comment,
    Evidence,
    FactAnswer,
    SectionAssignment,
)
from webapp.models.audit import AuditEvent
from webapp.models.billing import BillingAccount, PlanChange, StripeEvent
from webapp.models.jobs import Job
from webapp.models.orgs import (
    CLIENT_ROLE,
    CONSULTANCY_ROLES,
    FIRM_ROLES,
    GRANT_ACCESS,
    GRANT_ROLES,
    REGULATOR_ROLES,
    Consultancy,
    ConsultancyGrant,
    Firm,
    Invitation,
    Membership,
    Regulator,
)
from webapp.models.plan import ACTION_STATUSES, Action, CalendarFeed
from webapp.models.stats import AssessmentResult, AssessmentResultLine, StatsCount
from webapp.models.tokens import ApiToken
from webapp.models.users import User

__all__ = [
    "ACTION_STATUSES",
    "ASSESSMENT_STATUSES",
    "CLIENT_ROLE",
    "CONSULTANCY_ROLES",
    "FIRM_ROLES",
    "GRANT_ACCESS",
    "GRANT_ROLES",
    "REGULATOR_ROLES",
    "Action",
    "Answer",
    "AnswerHistory",
    "ApiToken",
    "Assessment",
    "AssessmentResult",
    "AssessmentResultLine",
    "AuditEvent",
    "BillingAccount",
    "CalendarFeed",
    "Comment",
    "Consultancy",
    "ConsultancyGrant",
    "Evidence",
    "FactAnswer",
    "Firm",
    "Invitation",
    "Job",
    "Membership",
    "PlanChange",
    "Regulator",
    "SectionAssignment",
    "StatsCount",
    "StripeEvent",
    "User",
]
