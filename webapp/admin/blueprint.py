from flask import Blueprint

from webapp.admin import controllers as c

bp = Blueprint("admin", __name__, url_prefix="/admin")

bp.add_url_rule("/", "home", c.home)
bp.add_url_rule("/users/<int:user_id>/signout", "signout_user", c.signout_user, methods=["POST"])
bp.add_url_rule("/agencies", "create_agency", c.create_agency, methods=["POST"])
