from flask import Blueprint

from webapp.billing import controllers as c

bp = Blueprint("billing", __name__)

bp.add_url_rule("/pricing", "pricing", c.pricing)
bp.add_url_rule("/billing", "settings", c.settings)
bp.add_url_rule("/firms/<int:firm_id>/billing", "firm_settings", c.firm_settings)
bp.add_url_rule("/firms/<int:firm_id>/billing/checkout", "firm_checkout", c.firm_checkout, methods=["POST"])
bp.add_url_rule("/firms/<int:firm_id>/billing/portal", "firm_portal", c.firm_portal, methods=["POST"])
bp.add_url_rule(
    "/firms/<int:firm_id>/billing/invoice-title", "firm_invoice_title", c.firm_invoice_title, methods=["POST"]
)
bp.add_url_rule("/consultant/billing", "consultancy_settings", c.consultancy_settings)
bp.add_url_rule(
    "/consultant/billing/checkout", "consultancy_checkout", c.consultancy_checkout, methods=["POST"]
)
bp.add_url_rule("/consultant/billing/portal", "consultancy_portal", c.consultancy_portal, methods=["POST"])
bp.add_url_rule(
    "/consultant/billing/invoice-title",
    "consultancy_invoice_title",
    c.consultancy_invoice_title,
    methods=["POST"],
)
bp.add_url_rule("/regulator/billing", "regulator_settings", c.regulator_settings)
bp.add_url_rule("/billing/webhook", "webhook", c.webhook, methods=["POST"])
bp.add_url_rule("/admin/billing", "admin", c.admin)
bp.add_url_rule("/admin/billing/grant", "admin_grant", c.admin_grant, methods=["POST"])
