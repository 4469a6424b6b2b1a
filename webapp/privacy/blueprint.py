from flask import Blueprint

from webapp.privacy import controllers as c

bp = Blueprint("privacy", __name__)


@bp.app_context_processor
def _grace() -> dict[str, int]:
    from webapp.privacy.services import GRACE

    return {"FIRM_DELETION_GRACE_DAYS": GRACE.days}


bp.add_url_rule("/privacy", "privacy", c.privacy)
bp.add_url_rule("/account/export", "export_personal", c.export_personal, methods=["POST"])
bp.add_url_rule("/account/delete", "delete_account", c.delete_account, methods=["POST"])
bp.add_url_rule("/firms/<int:firm_id>/delete", "delete_firm", c.delete_firm, methods=["GET", "POST"])
bp.add_url_rule("/firms/<int:firm_id>/restore", "restore_firm", c.restore_firm, methods=["POST"])
bp.add_url_rule("/firms/<int:firm_id>/export", "export_firm", c.export_firm, methods=["POST"])
