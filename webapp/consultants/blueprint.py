from flask import Blueprint

from webapp.consultants import controllers as c

bp = Blueprint("consultants", __name__, url_prefix="/consultant")

bp.add_url_rule("/", "home", c.home)
bp.add_url_rule("/invite", "invite", c.invite, methods=["POST"])
