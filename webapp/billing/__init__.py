"""Billing with Stripe: plans as data (`plans.yaml`), entitlements in one place (`entitlements.py`),
Checkout and the Customer Portal (`stripe_api.py`), the webhook (`webhooks.py`).

Without STRIPE_SECRET_KEY billing is off: no Stripe client, and every organisation has the plan named
by BILLING_DEFAULT_PLAN.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request

from webapp.api import PREFIX as API_PREFIX


def init_app(app: Flask) -> None:
    from webapp.billing import controllers, services, stripe_api
    from webapp.billing.blueprint import bp
    from webapp.billing.entitlements import PaymentRequired
    from webapp.extensions import csrf

    if app.config.get("STRIPE_SECRET_KEY"):
        app.extensions["stripe"] = stripe_api.make_client(app.config)
    from webapp.billing.cli import billing_cli

    app.cli.add_command(billing_cli)
    csrf.exempt(controllers.webhook)  # Stripe signs its requests; it has no session or CSRF token
    app.register_blueprint(bp)

    @app.errorhandler(PaymentRequired)
    def _payment_required(exc: PaymentRequired) -> Response | tuple[str, int]:
        d = exc.decision
        if request.path.startswith(API_PREFIX):
            from webapp.api.errors import respond

            return respond(
                402,
                "payment_required",
                d.message,
                plan=d.needs.id if d.needs else None,
                pricing_url=d.pricing_url,
            )
        return render_template("billing/gated.html", decision=d), 402

    @app.context_processor
    def _billing() -> dict[str, object]:
        return {
            "billing_banner": controllers.banner,
            "billing_on": services.billing_on,
            "STATUS_LABELS": controllers.STATUS_LABELS,
        }
