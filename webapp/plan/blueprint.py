from flask import Blueprint

from webapp.plan import controllers as c

bp = Blueprint("plan", __name__)

bp.add_url_rule("/firms/<int:firm_id>/plan", "plan", c.plan)
bp.add_url_rule("/firms/<int:firm_id>/plan/new", "new_action", c.new_action, methods=["GET", "POST"])
bp.add_url_rule(
    "/firms/<int:firm_id>/plan/<int:action_id>", "edit_action", c.edit_action, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/firms/<int:firm_id>/assessments/<int:assessment_id>/plan", "from_path", c.from_path, methods=["POST"]
)
bp.add_url_rule("/actions/mine", "mine", c.mine)
bp.add_url_rule("/actions/calendar", "calendar", c.calendar, methods=["GET", "POST"])
bp.add_url_rule("/calendar/<token>.ics", "feed", c.feed)
