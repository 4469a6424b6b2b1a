"""The audit log: `record(action, ...)` from the places where something worth answering for happens.

Sign-ins (and failed ones), membership and permission changes, consultancy grants, API tokens,
exports, deletions and plan changes. Each event says who (the signed-in user or the API token's),
when, from where (the client's address: the connection's, or what trusted proxies say when
`TRUSTED_PROXIES` is set), what (the action, its target, a small JSON of particulars), and which
firm it concerns: that firm's owners see it on the firm's "Activity" page; platform admins see all.

`record` adds the event to the request's session, so it commits with the action and a rolled-back
action leaves no event. `record_alone` is for an attempt that fails and rolls back (a wrong
password): the event is written in a transaction of its own. Rows are never changed or deleted
(`webapp.models.audit`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from webapp import db
from webapp.models import (
    ApiToken,
    Assessment,
    AuditEvent,
    Consultancy,
    ConsultancyGrant,
    Evidence,
    Firm,
    Invitation,
    User,
)

# Every action, with its label. A firm's owners see the ones recorded with their firm.
ACTIONS: dict[str, Any] = {
    "auth.signin": _l("Signed in"),
    "auth.signin_failed": _l("Failed sign-in"),
    "auth.registered": _l("Account created"),
    "auth.signout": _l("Signed out on every device"),
    "auth.signed_out_by_admin": _l("Signed out everywhere by an administrator"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_reset": _l("Password reset by email link"),
    "account.deleted": _l("Account deleted"),
    "member.invited": _l("Invitation sent"),
    "member.invitation_accepted": _l("Invitation accepted"),
    "member.invitation_revoked": _l("Invitation withdrawn"),
    "member.role_changed": _l("Role changed"),
    "member.removed": _l("Member removed"),
    "consultancy.granted": _l("Consultancy given access"),
    "consultancy.revoked": _l("Consultancy access revoked"),
    "client.created": _l("Firm created by a consultancy for its client"),
    "token.created": _l("API token created"),
    "token.revoked": _l("API token revoked"),
    "export.report": _l("Report downloaded"),
    "export.bulk_reports": _l("Reports downloaded in bulk"),
    "export.evidence": _l("Evidence file downloaded"),
    "export.personal_data": _l("Personal data exported"),
    "export.firm_data": _l("Firm data exported"),
    "evidence.deleted": _l("Evidence file deleted"),
    "assessment.draft_discarded": _l("Draft round discarded"),
    "plan.changed": _l("Plan changed"),
    "firm.deletion_scheduled": _l("Firm deletion requested"),
    "firm.restored": _l("Firm restored"),
    "firm.deleted": _l("Firm deleted"),
    "audit.pruned": _l("Audit events past their retention deleted"),
}

# What can be recorded with a firm (the firm's page filters by these).
FIRM_ACTIONS = (
    "member.invited",
    "member.invitation_accepted",
    "member.invitation_revoked",
    "member.role_changed",
    "member.removed",
    "consultancy.granted",
    "consultancy.revoked",
    "client.created",
    "export.report",
    "export.bulk_reports",
    "export.evidence",
    "export.firm_data",
    "evidence.deleted",
    "assessment.draft_discarded",
    "plan.changed",
    "firm.deletion_scheduled",
    "firm.restored",
)

ORG_KINDS = ("firm", "consultancy", "regulator")
MAX_DETAIL = 2000  # characters of JSON: particulars, never content
_ACTOR_OF_REQUEST = object()

Target = User | Invitation | ConsultancyGrant | Consultancy | ApiToken | Evidence | Assessment | Firm
TargetLike = Target | tuple[str, int | None, str | None]


def record(
    action: str,
    *,
    firm_id: int | None = None,
    org: tuple[str, int] | None = None,
    target: TargetLike | None = None,
    detail: Mapping[str, Any] | None = None,
    actor: User | None | object = _ACTOR_OF_REQUEST,
) -> AuditEvent:
    """Record `action` in the current transaction: it is kept if the action commits, gone if not.

    `firm_id`: the firm it concerns (its owners will see it). `org`: another organisation it concerns,
    `("consultancy", id)` or `("regulator", id)`. `target`: the object acted on (a model instance, or
    `(type, id, label)`). `detail`: a few JSON particulars. `actor`: by default the signed-in user
    (or the API token's); `None` for nobody known."""
    event = _event(action, firm_id=firm_id, org=org, target=target, detail=detail, actor=actor)
    db.session.add(event)
    return event


def record_alone(
    action: str,
    *,
    firm_id: int | None = None,
    org: tuple[str, int] | None = None,
    target: TargetLike | None = None,
    detail: Mapping[str, Any] | None = None,
    actor: User | None | object = _ACTOR_OF_REQUEST,
) -> None:
    """Record `action` whatever becomes of the request's transaction: for an attempt that fails (a
    wrong password), whose request rolls back. Written in a transaction of its own — once the
    request's current transaction has ended, or at once if there is none."""
    event = _event(action, firm_id=firm_id, org=org, target=target, detail=detail, actor=actor)
    values = {c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns if c.key != "id"}
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def write() -> None:
        ext = app.extensions["qready.db"]
        options: dict[str, Any] = {"bind": ext["engine"]}
        options.update(ext.get("session_options", {}))  # the tests' one connection
        with Session(**options) as s, s.begin():
            s.add(AuditEvent(**values))

    if db.session.registry.has() and db.session().in_transaction():
        # after the request's transaction: never inside it (its rollback would take the event along)
        db.after_commit(write)
        db.after_rollback(write)
    else:
        write()


def plan_changed(
    *,
    firm_id: int | None = None,
    org: tuple[str, int] | None = None,
    old: str | None,
    new: str | None,
    source: str,
    detail: Mapping[str, Any] | None = None,
    actor: User | None | object = _ACTOR_OF_REQUEST,
) -> AuditEvent:
    """A subscription plan changed (billing calls this, in the transaction that changes the plan):
    `old`/`new` plan ids (None for none), `source` what changed it ("admin", "checkout", "webhook",
    "expiry", ...). For a firm's plan pass `firm_id`; for a consultancy's, `org=("consultancy", id)`.
    A change made by Stripe's webhook has no actor: pass `actor=None`."""
    return record(
        "plan.changed",
        firm_id=firm_id,
        org=org,
        detail={"old": old, "new": new, "source": source, **(detail or {})},
        actor=actor,
    )


# ---- building an event ----------------------------------------------------------------------------


def _event(
    action: str,
    *,
    firm_id: int | None,
    org: tuple[str, int] | None,
    target: TargetLike | None,
    detail: Mapping[str, Any] | None,
    actor: User | None | object,
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to webapp.audit.ACTIONS")
    if org is not None and org[0] not in ORG_KINDS:
        raise ValueError(f"unknown organisation kind {org[0]!r}")
    target_type, target_id, target_label, about = (
        _target(target) if target is not None else (None, None, None, {})
    )
    detail = {**about, **(detail or {})}
    if len(json.dumps(detail, ensure_ascii=False, default=str)) > MAX_DETAIL:
        raise ValueError("an audit event's detail is a few particulars, not content")
    who = _actor() if actor is _ACTOR_OF_REQUEST else actor
    assert who is None or isinstance(who, User)
    return AuditEvent(
        created_at=db.utcnow(),
        action=action,
        actor_id=who.id if who is not None else None,
        actor_email=who.email if who is not None else None,
        via=_via(),
        ip=client_address(),
        firm_id=firm_id,
        org_kind=org[0] if org else None,
        org_id=org[1] if org else None,
        target_type=target_type,
        target_id=target_id,
        target_label=(target_label or "")[:254] or None,
        detail=json.loads(json.dumps(detail, default=str)),
    )


def _actor() -> User | None:
    if not has_request_context():
        return None
    from webapp.access import signed_in

    user = signed_in()
    return user if user.is_authenticated else None  # type: ignore[no-any-return]


def _via() -> str:
    if not has_request_context():
        return "cli"
    return "api" if g.get("api_token") is not None else "web"


def client_address() -> str | None:
    """The client's IP address: the connection's, or — when `TRUSTED_PROXIES` is set — the one the
    proxies in front say (werkzeug's ProxyFix, see `create_app`). Nothing that is not an address."""
    if not has_request_context() or not request.remote_addr:
        return None
    try:
        return str(ipaddress.ip_address(request.remote_addr))
    except ValueError:
        return None


def about_assessment(framework_id: str, version: str, round_: int) -> dict[str, Any]:
    """The particulars that name an assessment round in the log (its framework's title is shown in
    the reader's language)."""
    return {"framework": framework_id, "version": version, "round": round_}


def _target(obj: TargetLike) -> tuple[str, int | None, str | None, dict[str, Any]]:
    """(type, id, label as of now, particulars the target brings along)."""
    if isinstance(obj, tuple):
        return (*obj, {})
    if isinstance(obj, User):
        return "user", obj.id, obj.email, {}
    if isinstance(obj, Invitation):
        return "invitation", obj.id, obj.email, {"role": obj.role}
    if isinstance(obj, ConsultancyGrant):
        return "consultancy", obj.consultancy_id, obj.consultancy.name, {}
    if isinstance(obj, Consultancy):
        return "consultancy", obj.id, obj.name, {}
    if isinstance(obj, ApiToken):
        return "token", obj.id, obj.name, {"prefix": obj.prefix}
    if isinstance(obj, Evidence):
        return "evidence", obj.id, obj.filename, {"assessment": obj.assessment_id, "item": obj.item_id}
    if isinstance(obj, Assessment):
        label = f"{obj.framework_id} {obj.framework_version} #{obj.round}"
        return (
            "assessment",
            obj.id,
            label,
            about_assessment(obj.framework_id, obj.framework_version, obj.round),
        )
    if isinstance(obj, Firm):
        return "firm", obj.id, obj.name, {}
    raise TypeError(f"no audit target for {type(obj).__name__}")
