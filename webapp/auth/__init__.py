"""Accounts: sign-up, email verification, sign-in, password reset and change, the language setting."""

from __future__ import annotations

from flask import Flask, Request, g, request
from flask_babel import lazy_gettext as _l

from webapp import access
from webapp.extensions import login_manager
from webapp.models import User

API_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_id: str) -> User | None:
        if request.path.startswith(API_PREFIX):
            return None  # the API takes tokens only, never the session cookie
        ident, _, rest = user_id.partition(":")
        if not ident.isdigit():
            return None
        user = access.load_user(int(ident))
        # The id names the password's stamp and the session generation (`User.get_id`): a password
        # change, a sign-out or an admin's "sign out everywhere" makes every older cookie name
        # another id, and it signs nobody in.
        if user is None or rest != user.get_id().partition(":")[2]:
            return None
        return user

    @login_manager.request_loader
    def _load_from_token(req: Request) -> User | None:
        if not req.path.startswith(API_PREFIX):
            return None
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        from webapp.api import tokens

        row = tokens.lookup(token.strip())
        if row is None:
            return None
        g.api_token = row
        return row.user

    app.before_request(access.load_context)
