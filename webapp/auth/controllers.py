from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp import access, audit, db, mail
from webapp.auth.forms import (
    ChangePasswordForm,
    ForgotForm,
    RegisterForm,
    ResetForm,
    SettingsForm,
    SigninForm,
    TokenForm,
)
from webapp.auth.util import check_password, hash_password, limiter, make_token, read_token
from webapp.db import utcnow
from webapp.i18n import LANG_COOKIE
from webapp.models import User
from webapp.util import safe_next


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _send_verification(user: User) -> None:
    token = make_token("verify", {"uid": user.id, "email": user.email})
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.verify", token=token)
    mail.send(user.email, _("Confirm your email for QReady"), "verify", user=user, link=link)


@access.public
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if _user_by_email(email) is not None:
            form.email.errors.append(
                _("An account with this email exists already. Sign in, or reset the password.")
            )
        else:
            lang = request.cookies.get(LANG_COOKIE)
            user = User(
                email=email,
                name=form.name.data.strip(),
                password_hash=hash_password(form.password.data),
                locale=lang if lang in current_app.config["LANGUAGES"] else "zh",
            )
            db.session.add(user)
            db.session.flush()
            audit.record("auth.registered", target=user, actor=user)
            _send_verification(user)
            login_user(user)
            flash(
                _("Welcome to QReady. We sent a link to %(email)s to confirm your address.", email=email),
                "ok",
            )
            # An invitation link sends new users here with ?next=: take them back to it.
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
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
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    flash(_("Your email address is confirmed."), "ok")
    return redirect(url_for("core.home"))


@access.authed
def resend_verification() -> ResponseReturnValue:
    if current_user.email_verified_at is None:
        _send_verification(current_user)
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "ok")
    return redirect(url_for("auth.settings"))


@access.public
def signin() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SigninForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        key = f"{request.remote_addr}|{email}"
        wait = limiter.blocked_for(key)
        if wait:
            minutes = max(1, (wait + 59) // 60)
            form.form_errors.append(
                _("Too many failed sign-ins. Try again in %(n)s minutes, or reset your password.", n=minutes)
            )
            return render_template("auth/signin.html", form=form), 429
        user = _user_by_email(email)
        if check_password(user, form.password.data) and user is not None and user.is_active:
            limiter.reset(key)
            session.clear()
            login_user(user, remember=form.remember.data)
            audit.record("auth.signin", target=user, actor=user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
        limiter.hit(key)
        audit.record_alone("auth.signin_failed", target=user or ("user", None, email), actor=None)
        # The same message whether the email or the password is wrong.
        form.form_errors.append(_("The email or the password is not right."))
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/signin.html", form=form), status


@access.public
def signout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(_("You are signed out."), "ok")
    return redirect(url_for("auth.signin"))


@access.public
def forgot() -> ResponseReturnValue:
    form = ForgotForm()
    if form.validate_on_submit():
        user = _user_by_email(form.email.data)
        if user is not None:
            token = make_token("reset", {"uid": user.id, "stamp": user.password_hash[-16:]})
            link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.reset", token=token)
            mail.send(user.email, _("Reset your QReady password"), "reset", user=user, link=link)
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
