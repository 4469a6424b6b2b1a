from __future__ import annotations

import math

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp import access, audit, db, mail, ratelimit
from webapp.auth.forms import (
    ChangePasswordForm,
    ForgotForm,
    RegisterForm,
    ResetForm,
    SettingsForm,
    SigninForm,
    TokenForm,
)
from webapp.auth.util import check_password, end_sessions, hash_password, make_token, read_token
from webapp.db import utcnow
from webapp.i18n import LANG_COOKIE, current_lang
from webapp.models import User
from webapp.util import safe_next


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _send_verification(user: User, next_url: str | None = None) -> None:
    token = make_token("verify", {"uid": user.id, "email": user.email, "next": next_url})
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.verify", token=token)
    mail.send(user.email, _("Confirm your email for QReady"), "verify", user=user, link=link)


def _reset_link(user: User) -> str:
    token = make_token("reset", {"uid": user.id, "stamp": user.password_hash[-16:]})
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.reset", token=token)


def _send_account_exists(user: User) -> None:
    """To the owner of an address someone signed up with again. A confirmed account: the ways in. One
    never confirmed: a link to choose its password, which also confirms the address: whoever created
    the account did not prove the address was theirs, so their password must not outlive the owner's
    claim (nor a confirmation link sign the owner into an account someone else holds the password of)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with force_locale(user.locale):  # the owner's language, whoever typed the address
        if user.email_verified_at is None:
            mail.send(
                user.email, _("Your QReady account"), "account_unconfirmed", user=user, link=_reset_link(user)
            )
            return
        mail.send(
            user.email,
            _("Your QReady account"),
            "account_exists",
            user=user,
            signin=base + url_for("auth.signin"),
            forgot=base + url_for("auth.forgot"),
        )


@access.public
def register() -> ResponseReturnValue:
    """Sign-up. The answer never says whether the address has an account: a new address gets its
    account and a confirmation link (which signs the new user in), a known one a message to its owner
    (sign in, or reset the password); the page says the same in both cases."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        next_url = safe_next(request.args.get("next"))
        password_hash = hash_password(form.password.data)  # both ways do the same work
        existing = _user_by_email(email)
        if existing is not None:
            _send_account_exists(existing)
        else:
            user = User(
                email=email,
                name=form.name.data.strip(),
                password_hash=password_hash,
                locale=current_lang(),  # the language this page is in: the cookie's, else the browser's
            )
            db.session.add(user)
            db.session.flush()
            audit.record("auth.registered", target=user, actor=user)
            _send_verification(user, next_url)
        flash(
            _(
                "We sent a message to %(email)s. Open the link in it to confirm the address and sign in.",
                email=email,
            ),
            "ok",
        )
        # An invitation link sends new users here with ?next=: the confirmation link takes them back to it.
        return redirect(url_for("auth.signin", next=next_url) if next_url else url_for("auth.signin"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@access.public
def verify(token: str) -> ResponseReturnValue:
    payload, problem = read_token("verify", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload["uid"]) if payload else None
    if user is None or user.email != payload["email"]:
        msg = (
            _("This confirmation link has expired.") if problem == "expired" else _("This link is not valid.")
        )
        return render_template("auth/message.html", title=_("Email confirmation"), message=msg), 400
    next_url = safe_next(payload.get("next"))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        if user.is_active and (not current_user.is_authenticated or current_user.id != user.id):
            # the first confirmation finishes the sign-up: the link proved the address
            session.clear()
            login_user(user)
        flash(_("Your email address is confirmed. Welcome to QReady."), "ok")
        return redirect(next_url or url_for("core.home"))
    flash(_("Your email address is confirmed."), "ok")
    return redirect(next_url or url_for("core.home"))


@access.authed
def resend_verification() -> ResponseReturnValue:
    if current_user.email_verified_at is None:
        _send_verification(current_user)
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "ok")
    return redirect(url_for("auth.settings"))


def _locked_out(limit: RequestLimit) -> Response:
    """The answer to every sign-in a limit refuses, whatever the password: a right password gets it
    too, or the answer would tell a guesser which guess was right (see webapp/ratelimit.py)."""
    form = SigninForm()
    minutes = math.ceil(ratelimit.seconds_left(limit) / 60)
    form.form_errors.append(
        _("Too many failed sign-ins. Try again in %(n)s minutes, or reset your password.", n=minutes)
    )
    return ratelimit.with_retry_after(make_response(render_template("auth/signin.html", form=form)), limit)


@access.public
@ratelimit.limiter.limit(
    ratelimit.signin_account_limit,
    key_func=ratelimit.signin_account,
    scope=ratelimit.ACCOUNT_SCOPE,
    methods=["POST"],
    on_breach=_locked_out,
)
@ratelimit.limiter.limit(
    ratelimit.signin_address_limit,
    key_func=ratelimit.remote_address,
    scope="address",
    methods=["POST"],
    deduct_when=ratelimit.failed_signin,
    on_breach=_locked_out,
)
def signin() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SigninForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = _user_by_email(email)
        if check_password(user, form.password.data) and user is not None and user.is_active:
            ratelimit.forget_signin_attempts(email)
            session.clear()
            login_user(user, remember=form.remember.data)
            audit.record("auth.signin", target=user, actor=user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
        audit.record_alone("auth.signin_failed", target=user or ("user", None, email), actor=None)
        # The same message whether the email or the password is wrong.
        form.form_errors.append(_("The email or the password is not right."))
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/signin.html", form=form), status


@access.public
def signout() -> ResponseReturnValue:
    user = access.signed_in()
    if user.is_authenticated:
        # Server-side: the cookie of this session (and of the user's other devices) no longer works,
        # even if someone kept a copy of it. Sessions are signed cookies with no store to delete them
        # from, so a sign-out ends every session of the account (see docs/security.md).
        end_sessions(user.id)
        audit.record("auth.signout", target=user, actor=user)
    logout_user()
    session.clear()
    flash(_("You are signed out on all your devices."), "ok")
    return redirect(url_for("auth.signin"))


@access.public
def forgot() -> ResponseReturnValue:
    form = ForgotForm()
    if form.validate_on_submit():
        user = _user_by_email(form.email.data)
        if user is not None:
            mail.send(user.email, _("Reset your QReady password"), "reset", user=user, link=_reset_link(user))
        # Same answer for known and unknown addresses.
        flash(_("If an account exists for that email, we sent it a link to reset the password."), "ok")
        return redirect(url_for("auth.signin"))
    return render_template("auth/forgot.html", form=form), 200 if not form.errors else 422


@access.public
def reset(token: str) -> ResponseReturnValue:
    payload, problem = read_token("reset", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload["uid"]) if payload else None
    # The token carries a piece of the current hash: once the password changes, it is spent.
    if user is None or payload["stamp"] != user.password_hash[-16:]:
        msg = (
            _("This reset link has expired. Ask for a new one.")
            if problem == "expired"
            else _("This reset link is not valid or was used already. Ask for a new one.")
        )
        return render_template("auth/message.html", title=_("Reset password"), message=msg), 400
    form = ResetForm()
    if form.validate_on_submit():
        user.password_hash = hash_password(form.password.data)
        user.password_changed_at = utcnow()
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()  # the link proved the address
        ratelimit.forget_signin_attempts(user.email)  # the owner is back: a lockout ends here
        logout_user()
        audit.record("auth.password_reset", target=user, actor=user)
        flash(_("Your password is changed. Sign in with the new one."), "ok")
        return redirect(url_for("auth.signin"))
    return render_template("auth/reset.html", form=form), 200 if not form.errors else 422


def _settings_page(
    form: SettingsForm, pw_form: ChangePasswordForm, status: int = 200, new_token: str | None = None
) -> ResponseReturnValue:
    from webapp.api import tokens

    return (
        render_template(
            "auth/settings.html",
            form=form,
            pw_form=pw_form,
            token_form=TokenForm(prefix="tk"),
            tokens=tokens.of_user(current_user),
            new_token=new_token,
        ),
        status,
    )


@access.authed
def create_token() -> ResponseReturnValue:
    from webapp.api import tokens

    token_form = TokenForm(prefix="tk")
    if not token_form.validate_on_submit():
        return _settings_page(SettingsForm(obj=current_user), ChangePasswordForm(prefix="pw"), 422)
    row, token = tokens.create(current_user, token_form.name.data)
    audit.record("token.created", target=row, detail={"prefix": row.prefix})
    flash(_("Your new API token is below. Copy it now: it will not be shown again."), "ok")
    return _settings_page(SettingsForm(obj=current_user), ChangePasswordForm(prefix="pw"), 200, token)


@access.authed
def revoke_token(token_id: int) -> ResponseReturnValue:
    from webapp.api import tokens
    from webapp.models import ApiToken

    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id or row.revoked_at is not None:
        abort(404)
    tokens.revoke(row)
    audit.record("token.revoked", target=row, detail={"prefix": row.prefix})
    flash(_("The token %(name)s is revoked.", name=row.name), "ok")
    return redirect(url_for("auth.settings"))


@access.authed
def settings() -> ResponseReturnValue:
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        current_user.locale = form.locale.data
        flash(_("Your settings are saved."), "ok")
        response = redirect(url_for("auth.settings"))
        response.set_cookie(LANG_COOKIE, form.locale.data, max_age=365 * 24 * 3600, samesite="Lax")
        return response
    return _settings_page(form, ChangePasswordForm(prefix="pw"), 200 if not form.errors else 422)


@access.authed
def change_password() -> ResponseReturnValue:
    pw_form = ChangePasswordForm(prefix="pw")
    if pw_form.validate_on_submit():
        if not check_password(current_user, pw_form.current.data):
            pw_form.current.errors.append(_("The current password is not right."))
        else:
            current_user.password_hash = hash_password(pw_form.password.data)
            current_user.password_changed_at = utcnow()
            login_user(current_user._get_current_object())  # keep this session; others end
            audit.record("auth.password_changed", target=current_user._get_current_object())
            flash(_("Your password is changed."), "ok")
            return redirect(url_for("auth.settings"))
    return _settings_page(SettingsForm(obj=current_user), pw_form, 422)
