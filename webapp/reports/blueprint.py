from flask import Blueprint

from webapp.reports import controllers as c

bp = Blueprint("reports", __name__)

bp.add_url_rule("/firms/<int:firm_id>/assessments/<int:assessment_id>/report", "view", c.view)
bp.add_url_rule("/firms/<int:firm_id>/assessments/<int:assessment_id>/report.pdf", "pdf", c.pdf)
bp.add_url_rule("/consultant/reports", "bulk", c.bulk, methods=["GET", "POST"])
bp.add_url_rule("/consultant/reports/jobs/<job_id>", "bulk_job", c.bulk_job)
bp.add_url_rule("/consultant/reports/jobs/<job_id>/status", "bulk_status", c.bulk_status)
bp.add_url_rule("/consultant/reports/jobs/<job_id>/download", "bulk_download", c.bulk_download)
