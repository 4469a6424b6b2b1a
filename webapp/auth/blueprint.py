from flask import Blueprint

from webapp.auth import controllers as c

bp = Blueprint("auth", __name__, url_prefix="/account")

bp.add_url_rule("/register", "register", c.register, methods=["GET", "POST"])
bp.add_url_rule("/verify/<token>", "verify", c.verify)
bp.add_url_rule("/verify/resend", "resend_verification", c.resend_verification, methods=["POST"])
bp.add_url_rule("/signin", "signin", c.signin, methods=["GET", "POST"])
bp.add_url_rule("/signout", "signout", c.signout, methods=["POST"])
bp.add_url_rule("/forgot", "forgot", c.forgot, methods=["GET", "POST"])
bp.add_url_rule("/reset/<token>", "reset", c.reset, methods=["GET", "POST"])
bp.add_url_rule("/settings", "settings", c.settings, methods=["GET", "POST"])
bp.add_url_rule("/password", "change_password", c.change_password, methods=["POST"])
bp.add_url_rule("/tokens", "create_token", c.create_token, methods=["POST"])
bp.add_url_rule("/tokens/<int:token_id>/revoke", "revoke_token", c.revoke_token, methods=["POST"])
