from flask import Blueprint

from webapp import ratelimit
from webapp.api import controllers as c

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# API_RATE_LIMIT per token (per address without one), across every worker and node: 429 JSON beyond it
ratelimit.limiter.limit(ratelimit.api_limit, key_func=ratelimit.api_key, on_breach=ratelimit.api_breach)(bp)

bp.add_url_rule("/openapi.json", "openapi", c.openapi)
bp.add_url_rule("/frameworks", "frameworks", c.frameworks)
bp.add_url_rule("/frameworks/<framework_id>", "framework", c.framework)
bp.add_url_rule("/firms", "firms", c.firms)
bp.add_url_rule("/stats", "stats", c.stats)
bp.add_url_rule("/firms/<int:firm_id>/assessments", "firm_assessments", c.firm_assessments)
bp.add_url_rule(
    "/firms/<int:firm_id>/assessments", "create_assessment", c.create_assessment, methods=["POST"]
)
bp.add_url_rule("/assessments/<int:assessment_id>", "assessment", c.get_assessment)
bp.add_url_rule("/assessments/<int:assessment_id>/answers", "answers", c.patch_answers, methods=["PATCH"])
bp.add_url_rule("/assessments/<int:assessment_id>/submit", "submit", c.submit, methods=["POST"])
bp.add_url_rule("/assessments/<int:assessment_id>/result", "result", c.result)
bp.add_url_rule("/assessments/<int:assessment_id>/report", "report", c.report)
bp.add_url_rule("/firms/<int:firm_id>/actions", "firm_actions", c.firm_actions)
bp.add_url_rule("/assessments/<int:assessment_id>/actions", "assessment_actions", c.assessment_actions)
