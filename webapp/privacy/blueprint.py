from flask import Blueprint

from webapp.privacy import controllers as c

bp = Blueprint("privacy", __name__)

bp.add_url_rule("/privacy", "privacy", c.privacy)
bp.add_url_rule("/account/export", "export_personal", c.export_personal, methods=["POST"])
bp.add_url_rule("/account/delete", "delete_account", c.delete_account, methods=["POST"])
bp.add_url_rule("/firms/<int:firm_id>/export", "export_firm", c.export_firm, methods=["POST"])
