from flask import Blueprint

from webapp.questionnaire import controllers as c

bp = Blueprint("questionnaire", __name__, url_prefix="/firms/<int:firm_id>/assessments")

bp.add_url_rule("", "start", c.start, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/", "overview", c.overview)
bp.add_url_rule("/<int:assessment_id>/sections/<section_id>", "section", c.section, methods=["GET", "POST"])
bp.add_url_rule("/<int:assessment_id>/autosave", "autosave", c.autosave, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/progress", "progress", c.progress)
bp.add_url_rule("/<int:assessment_id>/items/<item_id>/history", "history", c.history)
bp.add_url_rule("/<int:assessment_id>/evidence", "upload", c.upload, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/evidence/<int:evidence_id>", "download", c.download)
bp.add_url_rule(
    "/<int:assessment_id>/evidence/<int:evidence_id>/delete",
    "delete_evidence",
    c.delete_evidence,
    methods=["POST"],
)
bp.add_url_rule("/<int:assessment_id>/comments", "comment", c.comment, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/assignments", "assign", c.assign, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/submit", "submit", c.submit, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/rounds", "new_round", c.new_round, methods=["POST"])
bp.add_url_rule("/<int:assessment_id>/rounds/new", "confirm_round", c.confirm_round)
bp.add_url_rule("/<int:assessment_id>/discard", "discard", c.discard, methods=["GET", "POST"])
bp.add_url_rule("/<int:assessment_id>/verdict", "verdict", c.verdict)
bp.register_error_handler(413, c.too_large)
