from flask import Blueprint

from webapp.core import controllers as c

bp = Blueprint("core", __name__)

bp.add_url_rule("/", "index", c.index)
bp.add_url_rule("/home", "home", c.home)
bp.add_url_rule("/firms/<int:firm_id>/", "firm_home", c.firm_home)
bp.add_url_rule("/lang/<lang>", "set_language", c.set_language, methods=["POST"])
bp.add_url_rule("/favicon.ico", "favicon", c.favicon)
bp.add_url_rule("/healthz", "healthz", c.healthz)
