"""QReady 质评通: the Flask application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, g
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter, Map

from webapp import config as config_module
from webapp import db

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    instance = os.environ.get("QREADY_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "webapp" / "static"),
    )
    app.config.update(config_module.load(app.instance_path, test_config))
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if app.config["TRUSTED_PROXIES"]:
        # behind a load balancer: the client's address (rate limits by address, the audit log) and
        # scheme come from the headers the trusted proxies add, never from headers a client sends past them
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.url_map.converters["int"] = DatabaseId
    db.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _own_the_transaction(app)
    return app


class DatabaseId(IntegerConverter):
    """`<int:...>` in every URL: a positive id that fits the database's integer column; anything
    larger is simply not found (404), never an error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


MAX_ID = 2**31 - 1


def _init_extensions(app: Flask) -> None:
    from webapp import auth, i18n, inputs, mail, ratelimit, security, templating
    from webapp.extensions import csrf

    csrf.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    inputs.init_app(app)  # after the signed-in context (its refusal page shows the user's header)
    ratelimit.init_app(app)  # after both: a lockout page shows the header too
    mail.init_app(app)
    templating.init_app(app)
    security.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from webapp.admin.blueprint import bp as admin_bp
    from webapp.audit.blueprint import bp as audit_bp
    from webapp.auth.blueprint import bp as auth_bp
    from webapp.consultants.blueprint import bp as consultants_bp
    from webapp.consultants.blueprint import desk as desk_bp
    from webapp.core.blueprint import bp as core_bp
    from webapp.orgs.blueprint import bp as orgs_bp
    from webapp.plan.blueprint import bp as plan_bp
    from webapp.privacy.blueprint import bp as privacy_bp
    from webapp.questionnaire.blueprint import bp as questionnaire_bp
    from webapp.regulators.blueprint import bp as regulators_bp
    from webapp.reports.blueprint import bp as reports_bp

    for bp in (
        core_bp,
        auth_bp,
        orgs_bp,
        consultants_bp,
        desk_bp,
        regulators_bp,
        admin_bp,
        questionnaire_bp,
        reports_bp,
        audit_bp,
        privacy_bp,
        plan_bp,
    ):
        app.register_blueprint(bp)

    from webapp import api

    api.init_app(app)

    from webapp import billing

    billing.init_app(app)

    from webapp import errors

    errors.init_app(app)

    from webapp import dbqueue

    dbqueue.init_app(app)


def _register_commands(app: Flask) -> None:
    from webapp.commands import register

    register(app)


def _own_the_transaction(app: Flask) -> None:
    """The request owns the transaction: commit when the response succeeds, roll back otherwise.

    Services never commit. A response with status >= 400 (a form with errors, a refused request)
    saves nothing from that request.
    """

    @app.after_request
    def _commit(response: Response) -> Response:
        if not db.session.registry.has():
            return response  # no database work: nothing to end
        if g.get("_rollback_only") or response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except DBAPIError as exc:
            if not db.disconnected(exc):
                raise
            from webapp import errors

            return errors.unavailable(exc)  # the connection broke during COMMIT: send it again
        return response

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
