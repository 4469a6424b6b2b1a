"""Template globals and filters shared by every page."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import format_date, format_datetime, format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from webapp.consultants.context import client_view, clients
from webapp.core.services import org_choices
from webapp.i18n import current_lang
from webapp.orgs.forms import ROLE_LABELS
from webapp.refdata import industries, regions

SIZE_LABELS = {"large": _l("Large"), "medium": _l("Medium"), "small": _l("Small"), "micro": _l("Micro")}
KIND_LABELS = {"firm": _l("Firm"), "consultancy": _l("Consultancy"), "regulator": _l("Regulator")}


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "active_org": g.get("active_org"),
            "org_choices": (lambda: org_choices(g.get("memberships", []))),
            "client_view": client_view,
            "consultant_clients": clients,
            "SIZE_LABELS": SIZE_LABELS,
            "KIND_LABELS": KIND_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
        }

    app.jinja_env.filters.update(
        region_name=lambda code: regions.name(code, current_lang()) if code else "",
        industry_name=lambda code: industries.name(code, current_lang()) if code else "",
        section_name=lambda letter: industries.name(letter, current_lang()) if letter else "",
        date=lambda d, fmt="medium": format_date(d, fmt) if d else "",
        datetime=lambda d, fmt="medium": format_datetime(d, fmt) if d else "",
        number=lambda n, fmt=None: format_decimal(n, fmt) if n is not None else "",
        percent=lambda n: format_percent(n) if n is not None else "",
        bi=lambda text: text.get(current_lang()) if hasattr(text, "get") else text,
    )
