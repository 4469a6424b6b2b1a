from flask import Blueprint

from webapp.orgs import controllers as c

bp = Blueprint("orgs", __name__)

bp.add_url_rule("/firms/new", "new_firm", c.new_firm, methods=["GET", "POST"])
bp.add_url_rule("/firms/<int:firm_id>/profile", "profile", c.profile)
bp.add_url_rule("/firms/<int:firm_id>/profile/edit", "edit_profile", c.edit_profile, methods=["GET", "POST"])
bp.add_url_rule("/firms/<int:firm_id>/members", "members", c.members)
bp.add_url_rule("/firms/<int:firm_id>/members/invite", "invite", c.invite, methods=["POST"])
bp.add_url_rule(
    "/firms/<int:firm_id>/members/<int:membership_id>/remove",
    "remove_member",
    c.remove_member,
    methods=["POST"],
)
bp.add_url_rule(
    "/firms/<int:firm_id>/members/<int:membership_id>/role", "change_role", c.change_role, methods=["POST"]
)
bp.add_url_rule(
    "/firms/<int:firm_id>/members/invitations/<int:invitation_id>/revoke",
    "revoke_invitation",
    c.revoke_invitation,
    methods=["POST"],
)
bp.add_url_rule("/firms/<int:firm_id>/consultants", "consultants", c.consultants, methods=["GET", "POST"])
bp.add_url_rule(
    "/firms/<int:firm_id>/consultants/<int:grant_id>/revoke", "revoke_grant", c.revoke_grant, methods=["POST"]
)
bp.add_url_rule("/invitations/<token>", "invitation", c.invitation, methods=["GET", "POST"])
bp.add_url_rule("/orgs/switch", "switch", c.switch, methods=["POST"])
