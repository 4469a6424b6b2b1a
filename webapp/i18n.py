"""Languages: Chinese (zh) by default, English complete.

The locale comes from the signed-in user's setting, then the `lang` cookie, then the browser's
Accept-Language, then Chinese. Questionnaire text is data (bilingual in the framework files);
the gettext catalogs hold only the UI's own strings.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale

from webapp.access import signed_in
from webapp.extensions import babel

LANG_COOKIE = "lang"
TRANSLATIONS_DIR = "translations"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if request.path.startswith("/api/") and request.accept_languages:
        # An API caller says its language per request; the token's user setting is the fallback.
        best = request.accept_languages.best_match(languages)
        if best:
            return str(best)
    user = signed_in()
    if user is not None and user.is_authenticated and user.locale in languages:
        return str(user.locale)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        return str(cookie)
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_lang() -> str:
    """'zh' or 'en': the language to pick from bilingual data."""
    loc = get_locale()
    return "en" if loc is not None and loc.language == "en" else "zh"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=TRANSLATIONS_DIR)
    app.jinja_env.globals["current_lang"] = current_lang
