from flask import Blueprint

from webapp.consultants import clients as cl
from webapp.consultants import controllers as c

bp = Blueprint("consultants", __name__, url_prefix="/consultant")

bp.add_url_rule("/", "home", c.home)
bp.add_url_rule("/invite", "invite", c.invite, methods=["POST"])
bp.add_url_rule(
    "/invitations/<int:invitation_id>/revoke", "revoke_invitation", c.revoke_invitation, methods=["POST"]
)
bp.add_url_rule("/clients/open", "open_client", c.open_client)
bp.add_url_rule("/clients/invite", "invite_client", cl.invite_client, methods=["GET", "POST"])
bp.add_url_rule(
    "/clients/invitations/<int:invitation_id>/revoke",
    "revoke_client_invitation",
    cl.revoke_client_invitation,
    methods=["POST"],
)
bp.add_url_rule("/clients/new", "new_client", cl.new_client, methods=["GET", "POST"])
bp.add_url_rule("/new", "new_consultancy", c.new_consultancy, methods=["GET", "POST"])
bp.add_url_rule("/compare", "compare", c.compare)
bp.add_url_rule("/compare.xlsx", "compare_xlsx", c.compare_xlsx)

# A client's desk: its rounds compared, its whole record exported, answers imported from a workbook.
desk = Blueprint("desk", __name__)
desk.add_url_rule("/firms/<int:firm_id>/compare", "compare_rounds", c.compare_rounds)
desk.add_url_rule("/firms/<int:firm_id>/compare.xlsx", "compare_rounds_xlsx", c.compare_rounds_xlsx)
desk.add_url_rule("/firms/<int:firm_id>/export.json", "export_json", c.export_json)
desk.add_url_rule("/firms/<int:firm_id>/export.xlsx", "export_xlsx", c.export_xlsx)
desk.add_url_rule("/firms/<int:firm_id>/import", "import_answers", c.import_answers, methods=["GET", "POST"])
desk.add_url_rule(
    "/firms/<int:firm_id>/assessments/<int:assessment_id>/answers.xlsx", "answer_template", c.answer_template
)
desk.add_url_rule("/firms/<int:firm_id>/handover", "handover", cl.handover, methods=["GET", "POST"])
desk.add_url_rule(
    "/firms/<int:firm_id>/handover/<int:invitation_id>/revoke",
    "revoke_handover",
    cl.revoke_handover,
    methods=["POST"],
)
