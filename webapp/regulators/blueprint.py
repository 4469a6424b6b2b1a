from flask import Blueprint

from webapp.regulators import controllers as c

bp = Blueprint("regulators", __name__, url_prefix="/regulator")

bp.add_url_rule("/", "home", c.home)
