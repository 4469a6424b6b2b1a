from flask import Blueprint

from webapp.audit import controllers as c

bp = Blueprint("audit", __name__)

bp.add_url_rule("/firms/<int:firm_id>/activity", "firm_activity", c.firm_activity)
bp.add_url_rule("/admin/activity", "admin_activity", c.admin_activity)
