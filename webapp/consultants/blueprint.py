from flask import Blueprint

from webapp.consultants import controllers as c

bp = Blueprint("consultants", __name__, url_prefix="/consultant")

bp.add_url_rule("/", "home", c.home)
bp.add_url_rule("/invite", "invite", c.invite, methods=["POST"])
bp.add_url_rule(
    "/invitations/<int:invitation_id>/revoke", "revoke_invitation", c.revoke_invitation, methods=["POST"]
)
bp.add_url_rule("/clients/open", "open_client", c.open_client)
bp.add_url_rule("/new", "new_consultancy", c.new_consultancy, methods=["GET", "POST"])
