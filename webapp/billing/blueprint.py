from flask import Blueprint

from webapp.billing import controllers as c

bp = Blueprint("billing", __name__)

bp.add_url_rule("/pricing", "pricing", c.pricing)
bp.add_url_rule("/billing", "settings", c.settings)
bp.add_url_rule("/billing/invoice-title", "invoice_title", c.invoice_title, methods=["POST"])
bp.add_url_rule("/billing/checkout", "checkout", c.checkout, methods=["POST"])
bp.add_url_rule("/billing/portal", "portal", c.portal, methods=["POST"])
bp.add_url_rule("/billing/webhook", "webhook", c.webhook, methods=["POST"])
bp.add_url_rule("/admin/billing", "admin", c.admin)
bp.add_url_rule("/admin/billing/grant", "admin_grant", c.admin_grant, methods=["POST"])
