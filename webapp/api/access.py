"""Access rules for API views: the same names as the UI's (`webapp.access`), answering 401/403/404
as JSON. A token acts with exactly its user's permissions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g
from flask_login import current_user

from webapp.access import FIRM_ROLE_RANK
from webapp.api.errors import ApiError

P = ParamSpec("P")
R = TypeVar("R")


def _mark(view: Callable[P, R], rule: str) -> Callable[P, R]:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: Callable[P, R]) -> Callable[P, R]:
    return _mark(view, "public")


def token(view: Callable[P, R]) -> Callable[P, R]:
    """Any valid token."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if g.get("api_token") is None or not current_user.is_authenticated:
            raise ApiError(401, "unauthorized", _unauthorized())
        return view(*args, **kwargs)

    return _mark(wrapper, "token")


def _unauthorized() -> str:
    from flask_babel import gettext as _

    return _("A valid API token is required: send it as “Authorization: Bearer <token>”.")


def require_firm_role(role: str | None, minimum: str) -> None:
    """404 when the firm is outside the caller's context, 403 when the role is too low."""
    if role is None:
        raise ApiError(404, "not_found", _not_found())
    if FIRM_ROLE_RANK[role] < FIRM_ROLE_RANK[minimum]:
        from flask_babel import gettext as _

        raise ApiError(403, "forbidden", _("Your role does not allow this."))


def _not_found() -> str:
    from flask_babel import gettext as _

    return _("Not found.")


def token_firm(minimum: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A valid token whose user holds at least `minimum` in the firm the view works on (the view
    finds the firm — from the URL or from the assessment — and calls `require_firm_role`)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        return _mark(token(view), f"token:firm:{minimum}")

    return decorator


def token_regulator(view: Callable[P, R]) -> Callable[P, R]:
    """A valid token whose user is a member of a regulator agency (the view picks the agency)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if g.get("api_token") is None or not current_user.is_authenticated:
            raise ApiError(401, "unauthorized", _unauthorized())
        if not any(m.regulator_id is not None for m in g.get("memberships", ())):
            from flask_babel import gettext as _

            raise ApiError(403, "forbidden", _("Only a regulator agency's members can read its statistics."))
        return view(*args, **kwargs)

    return _mark(wrapper, "token:regulator")
