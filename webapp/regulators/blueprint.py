from flask import Blueprint

from webapp.regulators import controllers as c

bp = Blueprint("regulators", __name__, url_prefix="/regulator")

bp.add_url_rule("/", "home", c.home)
bp.add_url_rule("/export.csv", "export_csv", c.export_csv)
bp.add_url_rule("/export.xlsx", "export_xlsx", c.export_xlsx)
bp.add_url_rule("/team", "team", c.team)
bp.add_url_rule("/invite", "invite", c.invite, methods=["POST"])
bp.add_url_rule(
    "/invitations/<int:invitation_id>/revoke", "revoke_invitation", c.revoke_invitation, methods=["POST"]
)
