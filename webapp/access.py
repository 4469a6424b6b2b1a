"""Who may do what: the active organisation, the tenant context, and named access decorators.

Every view carries an access rule (`view.access_rule`) set by one of these decorators; a test walks
every URL rule and fails on a view without one, so no route ships unguarded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import abort, g, request, session
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from webapp import db, tenancy
from webapp.models import GRANT_ROLES, Assessment, ConsultancyGrant, User
from webapp.models.orgs import OrgRef

P = ParamSpec("P")
R = TypeVar("R")

# a consultancy's members hold "consultant" in a firm that granted edit access, "consultant_read" for read
FIRM_ROLE_RANK = {"viewer": 1, "consultant_read": 1, "editor": 2, "consultant": 2, "owner": 3}
CONSULTANT_ROLES = frozenset(GRANT_ROLES.values())


@dataclass(frozen=True)
class ActiveOrg:
    kind: str  # firm | consultancy | regulator
    id: int
    role: str


@dataclass(frozen=True)
class Member(OrgRef):
    """One of the signed-in user's memberships, as a plain value (the section page's ETag names them)."""

    firm_id: int | None
    consultancy_id: int | None
    regulator_id: int | None
    role: str


_WITH_MEMBERSHIPS = (joinedload(User.memberships),)  # loader options are immutable: built once


def load_user(user_id: int) -> User | None:
    """The user with their memberships (one statement), for the session's user loader."""
    return db.session.get(User, user_id, options=_WITH_MEMBERSHIPS)


def signed_in() -> Any:
    """The signed-in user (or the anonymous one) itself: `current_user` is a proxy that looks the user
    up again on every attribute read, which the busiest requests feel."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


# Requests for files that are the same for everyone: they never read the session, so their responses
# never carry a session cookie. (An anonymous session is rewritten by Flask-Login's strong protection
# on every request that reads it; a browser's late request for the favicon or a stylesheet, sent with
# the cookie from before a sign-in, answered after it, put the old cookie back and signed the person out.)
SESSIONLESS = frozenset({"static", "core.favicon"})


def load_context() -> None:
    """Before each request: the user's memberships, the active organisation, the tenant context."""
    g.memberships = []
    g.active_org = None
    if request.endpoint in SESSIONLESS:
        tenancy.set_context(tenancy.EMPTY)
        return
    user = signed_in()
    if not user.is_authenticated:
        tenancy.set_context(tenancy.EMPTY)
        return
    memberships = [Member(m.firm_id, m.consultancy_id, m.regulator_id, m.role) for m in user.memberships]
    roles: dict[int, str] = {}
    consultancy_ids = []
    for m in memberships:
        if m.firm_id is not None:
            roles[m.firm_id] = m.role
        elif m.consultancy_id is not None:
            consultancy_ids.append(m.consultancy_id)
    if consultancy_ids:
        granted_roles(roles, consultancy_ids)
    tenancy.set_context(tenancy.TenantContext(roles=roles))
    g.memberships = memberships
    g.active_org = _active(memberships)


def granted_roles(roles: dict[int, str], consultancy_ids: list[int]) -> None:
    """Add to `roles` the firms that granted one of these consultancies access, with the role the
    grant gives (edit wins over read when two consultancies of the user hold grants of one firm); a
    firm the user is a member of keeps the member's role."""
    granted = db.session.execute(
        select(ConsultancyGrant.firm_id, ConsultancyGrant.access).where(
            ConsultancyGrant.consultancy_id.in_(consultancy_ids), ConsultancyGrant.revoked_at.is_(None)
        )
    )
    mine = set(roles)
    for firm_id, grant_access in granted:
        if firm_id in mine:
            continue
        role = GRANT_ROLES.get(grant_access, "consultant_read")
        if roles.get(firm_id) != "consultant":
            roles[firm_id] = role


def _active(memberships: list[Member]) -> ActiveOrg | None:
    wanted = session.get("org")  # "kind:id"
    chosen = None
    for m in memberships:
        if f"{m.kind}:{m.org_id}" == wanted:
            chosen = m
            break
    if chosen is None and memberships:
        chosen = memberships[0]
    if chosen is None:
        return None
    return ActiveOrg(kind=chosen.kind, id=chosen.org_id, role=chosen.role)


def active_org() -> ActiveOrg | None:
    return g.get("active_org")


def firm_role(firm_id: int) -> str | None:
    return tenancy.context().roles.get(firm_id)


def _rule(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def mark(view: Callable[P, R]) -> Callable[P, R]:
        view.access_rule = name  # type: ignore[attr-defined]
        return view

    return mark


def public(view: Callable[P, R]) -> Callable[P, R]:
    """Anyone, signed in or not."""
    return _rule("public")(view)


def authed(view: Callable[P, R]) -> Callable[P, R]:
    """Any signed-in user."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            from webapp.extensions import login_manager

            return login_manager.unauthorized()  # type: ignore[no-any-return]
        return view(*args, **kwargs)

    return _rule("authed")(wrapper)


def firm(min_role: str = "viewer", *, write: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A user whose context holds the firm named by the `firm_id` URL argument, with at least
    `min_role` — or, for a request that writes (not GET/HEAD), at least `write` when given. A firm
    outside the context answers 404, never a hint that it exists."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not signed_in().is_authenticated:
                from webapp.extensions import login_manager

                return login_manager.unauthorized()  # type: ignore[no-any-return]
            firm_id = kwargs.get("firm_id")
            role = firm_role(firm_id) if isinstance(firm_id, int) else None
            if role is None:
                abort(404)
            needed = write if write is not None and request.method not in ("GET", "HEAD") else min_role
            if FIRM_ROLE_RANK[role] < FIRM_ROLE_RANK[needed]:
                abort(403)
            return view(*args, **kwargs)

        return _rule(f"firm:{min_role}" + (f"/{write}" if write else ""))(wrapper)

    return decorator


def assessment(
    min_role: str = "viewer",
    *,
    write: str | None = None,
    reading: Callable[[], tuple[Any, ...]] | None = None,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """`firm(min_role, write=write)`, and the view gets the assessment it admitted in place of the
    `firm_id` and `assessment_id` URL arguments: the firm's assessment with that id, its firm loaded
    in the same statement, or 404. A view so guarded cannot reach another firm's assessment.

    `reading`: more columns a GET reads in the same statement (the section page's stamp), given to
    the view as `read`."""

    def decorator(view: Callable[..., R]) -> Callable[..., R]:
        @firm(min_role, write=write)
        @functools.wraps(view)
        def wrapper(*args: Any, firm_id: int, assessment_id: int, **kwargs: Any) -> R:
            more = reading() if reading is not None and request.method in ("GET", "HEAD") else ()
            row = load_row(firm_id, assessment_id, *more)
            if row is None:
                abort(404)
            if reading is not None:
                kwargs["read"] = tuple(row[1:])
            return view(row[0], *args, **kwargs)

        return wrapper

    return decorator


def load_row(firm_id: int, assessment_id: int, *columns: Any) -> Any:
    """(assessment, *columns) of one of the firm's assessments, its firm loaded with it, in one
    statement under the tenant filter; None when the firm has no such assessment."""
    return db.session.execute(_row_statement(columns), {"a": assessment_id, "f": firm_id}).first()


@functools.lru_cache(maxsize=16)
def _row_statement(columns: tuple[Any, ...]) -> Any:
    """`load_row`'s statement for these columns, with bind parameters: built once (building it, the
    section page's stamp columns included, costs as much as running it)."""
    return (
        select(Assessment, *columns)
        .options(joinedload(Assessment.firm, innerjoin=True))
        .where(Assessment.id == bindparam("a"), Assessment.firm_id == bindparam("f"))
    )


def load_assessment(firm_id: int, assessment_id: int) -> Assessment | None:
    row = load_row(firm_id, assessment_id)
    return None if row is None else row[0]  # type: ignore[no-any-return]


def client(view: Callable[P, R]) -> Callable[P, R]:
    """A consultancy member working for a client: the active organisation is a consultancy whose edit
    grant holds the firm named by the `firm_id` URL argument. A firm outside the context answers 404;
    the firm's own people (and read-only consultants) 403."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not signed_in().is_authenticated:
            from webapp.extensions import login_manager

            return login_manager.unauthorized()  # type: ignore[no-any-return]
        firm_id = kwargs.get("firm_id")
        role = firm_role(firm_id) if isinstance(firm_id, int) else None
        if role is None:
            abort(404)
        org = active_org()
        if role != "consultant" or org is None or org.kind != "consultancy":
            abort(403)
        return view(*args, **kwargs)

    return _rule("client:edit")(wrapper)


def org_kind(kind: str, roles: tuple[str, ...] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A user whose active organisation is of `kind` (and, if given, holds one of `roles`)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                from webapp.extensions import login_manager

                return login_manager.unauthorized()  # type: ignore[no-any-return]
            org = active_org()
            if org is None or org.kind != kind or (roles and org.role not in roles):
                abort(403)
            return view(*args, **kwargs)

        return _rule(f"{kind}:{','.join(roles) or 'any'}")(wrapper)

    return decorator


def admin(view: Callable[P, R]) -> Callable[P, R]:
    """Platform administrators only."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            from webapp.extensions import login_manager

            return login_manager.unauthorized()  # type: ignore[no-any-return]
        if not current_user.is_platform_admin:
            abort(403)
        return view(*args, **kwargs)

    return _rule("admin")(wrapper)


def rule_of(view: Any) -> str | None:
    return getattr(view, "access_rule", None)


def tenancy_roles() -> dict[int, str]:
    """The firms in the current context, with the caller's role in each."""
    return dict(tenancy.context().roles)
