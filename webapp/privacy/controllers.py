from __future__ import annotations

import tempfile

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import logout_user

from webapp import access, audit, db
from webapp.auth.util import check_password
from webapp.db import utcnow
from webapp.models import Firm
from webapp.privacy import services
from webapp.questionnaire import storage
from webapp.util import send_download


@access.public
def privacy() -> ResponseReturnValue:
    """What QReady keeps about people and firms, where, for how long, and how to take it away."""
    return render_template(
        "privacy/privacy.html", audit_retention_days=current_app.config["AUDIT_RETENTION_DAYS"]
    )


@access.authed
def export_personal() -> ResponseReturnValue:
    """The signed-in person's own data as one JSON file."""
    user = access.signed_in()
    now = utcnow()
    data = services.personal_data(user, now=now)
    audit.record("export.personal_data", target=user)
    return send_download(
        services.to_json(data),
        f"qready-personal-data-{now.date().isoformat()}.json",
        "application/json",
        max_age=0,
    )


@access.firm("owner")
def export_firm(firm_id: int) -> ResponseReturnValue:
    """Everything of the firm as one zip: JSON, the answers as XLSX, the evidence files."""
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(404)
    now = utcnow()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response sends it and closes it
    try:
        missing = services.write_firm_export(firm, storage.store(), out, now=now)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    audit.record("export.firm_data", firm_id=firm.id, target=firm, detail={"missing_files": len(missing)})
    response = send_download(out, f"{firm.name}-{now.date().isoformat()}.zip", "application/zip", max_age=0)  # type: ignore[arg-type]
    response.headers["Cache-Control"] = "private, no-store"
    return response


@access.authed
def delete_account() -> ResponseReturnValue:
    """Delete the signed-in person's account, after their password; not while a firm or consultancy
    would be left without an owner."""
    user = access.signed_in()
    back = redirect(url_for("auth.settings") + "#delete-account")
    if not check_password(user, request.form.get("password", "")):
        flash(_("The password is not right. Your account is not deleted."), "error")
        return back
    sole = services.organisations_only_owned_by(user)
    if sole:
        flash(
            _(
                "You are the only owner of %(names)s. Make someone else owner first (or delete the firm), "
                "then delete your account.",
                names="、".join(sole),
            ),
            "error",
        )
        return back
    audit.record("account.deleted", target=user, actor=user)
    services.delete_account(user, now=utcnow())
    logout_user()
    session.clear()
    flash(
        _("Your account is deleted. What you wrote in firms stays theirs, shown as by a former member."), "ok"
    )
    return redirect(url_for("core.index"))


def _owned_firm(firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)  # tenant-scoped, and admitted for its owner
    if firm is None:
        abort(404)
    return firm


@access.firm("owner")
def delete_firm(firm_id: int) -> ResponseReturnValue:
    """An owner deletes the firm, after typing its name: it is kept 30 days, restorable, then
    purged with everything (`flask privacy purge-firms`)."""
    firm = _owned_firm(firm_id)
    error = None
    if request.method == "POST" and firm.deletion_due_at is None:
        if request.form.get("name", "").strip() == firm.name:
            due = services.schedule_firm_deletion(firm, now=utcnow())
            audit.record("firm.deletion_scheduled", firm_id=firm.id, target=firm, detail={"due": due})
            flash(
                _(
                    "%(name)s will be deleted on %(date)s. Until then any owner can restore it.",
                    name=firm.name,
                    date=format_date(due),
                ),
                "ok",
            )
            return redirect(url_for("orgs.profile", firm_id=firm.id))
        error = _("Type the firm's name exactly as shown to confirm.")
    counts = services.firm_counts(firm.id)
    return render_template(
        "privacy/delete_firm.html", firm=firm, counts=counts, error=error, grace_days=services.GRACE.days
    ), 422 if error else 200


@access.firm("owner")
def restore_firm(firm_id: int) -> ResponseReturnValue:
    firm = _owned_firm(firm_id)
    if firm.deletion_due_at is not None:
        services.restore_firm(firm)
        audit.record("firm.restored", firm_id=firm.id, target=firm)
        flash(_("%(name)s is restored and will not be deleted.", name=firm.name), "ok")
    return redirect(url_for("orgs.profile", firm_id=firm.id))
