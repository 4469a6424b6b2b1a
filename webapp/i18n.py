"""Languages: Chinese (zh) by default, English complete.

The locale comes from the signed-in user's setting, then the `lang` cookie, then the browser's
Accept-Language, then Chinese. Questionnaire text is data (bilingual in the framework files);
the gettext catalogs hold only the UI's own strings.

A "%" in a UI string: placeholders are `%(name)s` (or `%(name)d`, `%(name).1f`), and a literal
percent sign is written `%%`. A bare "%" that starts no placeholder is a literal percent sign too, so
"100%" can never break a page. Both languages, templates and Python's `_()` follow the same rule
(`fill`): the string, translated or not, is formatted whenever its placeholders are given; when none
are given and it has some, it stays a format string (stray "%" escaped) for a later `|format(...)`
or `% {...}`. Flask-Babel alone formats Python strings only when given variables and Jinja's always,
so "100%%" read differently in the two, and a msgid without a translation broke where its
translation did not.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Domain, get_domain, get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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


# ---- "%" in UI strings -----------------------------------------------------------------------------

PERCENT = re.compile(r"%%|%\((?P<name>\w+)\)(?:\.\d+)?[sdf]|(?P<stray>%)")
"""Each "%" of a UI string: an escaped "%%", a placeholder, or a stray (literal) percent sign."""


def as_format(text: str) -> str:
    """The string as a format string for `%`: each stray "%" escaped as "%%"."""
    if "%" not in text:
        return text
    escaped = PERCENT.sub(lambda m: "%%" if m.group("stray") else m.group(0), text)
    return Markup(escaped) if isinstance(text, Markup) else escaped  # noqa: S704 - was markup already


def fill(text: str, variables: dict[str, Any]) -> str:
    """A translated string made final: placeholders filled, "%%" and stray "%" as one "%".

    With no variables a string that has placeholders stays a format string, to be filled later."""
    if "%" not in text:
        return text  # most strings: nothing to fill and nothing to escape
    fmt = as_format(text)
    if not variables and any(m.group("name") for m in PERCENT.finditer(fmt)):
        return fmt
    return fmt % variables if "%" in fmt else fmt


class PercentSafeDomain(Domain):
    """Flask-Babel's domain with `fill` for every gettext call made in Python."""

    def get_translations(self) -> Any:
        """Flask-Babel's catalog for the request's locale, looked up once per request: kept on
        Flask-Babel's own request context beside the locale it was chosen for (`babel_locale`, which
        `force_locale` and `refresh` change), as Flask-Babel keeps the locale itself. A page asks
        for a hundred strings; each lookup otherwise walks `g` three times."""
        try:
            ctx = g._flask_babel
        except (AttributeError, RuntimeError):  # no request yet asked Flask-Babel, or none at all
            return super().get_translations()
        held = getattr(ctx, "qready_translations", None)
        locale = getattr(ctx, "babel_locale", None)
        if held is not None and locale is not None and held[0] is locale and held[1] is self:
            return held[2]
        translations = super().get_translations()
        ctx.qready_translations = (getattr(ctx, "babel_locale", None), self, translations)
        return translations

    def gettext(self, string: str, **variables: Any) -> str:
        return fill(self.get_translations().ugettext(string), variables)

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return fill(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        return fill(self.get_translations().upgettext(context, string), variables)

    def npgettext(self, context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return fill(self.get_translations().unpgettext(context, singular, plural, num), variables)


def _in_template(context: Context, text: str, variables: dict[str, Any]) -> str:
    # Like Jinja's "newstyle" gettext: with autoescape the string is markup, its variables are escaped.
    return fill(Markup(text) if context.eval_ctx.autoescape else text, variables)  # noqa: S704 - the UI's own msgid/msgstr


@pass_context
def _jinja_gettext(context: Context, string: str, **variables: Any) -> str:
    return _in_template(context, get_domain().get_translations().ugettext(string), variables)


@pass_context
def _jinja_ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _in_template(context, get_domain().get_translations().ungettext(singular, plural, num), variables)


@pass_context
def _jinja_pgettext(context: Context, ctx: str, string: str, **variables: Any) -> str:
    variables.setdefault("context", ctx)
    return _in_template(context, get_domain().get_translations().upgettext(ctx, string), variables)


@pass_context
def _jinja_npgettext(
    context: Context, ctx: str, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("context", ctx)
    variables.setdefault("num", num)
    text = get_domain().get_translations().unpgettext(ctx, singular, plural, num)
    return _in_template(context, text, variables)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=TRANSLATIONS_DIR)
    babel.domain_instance = PercentSafeDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    # Flask-Babel installed Jinja's i18n extension in "newstyle" (`{% trans %}` and `_()` take
    # keyword variables); its callables are replaced by ones that fill strings by the same rule.
    app.jinja_env.globals.update(
        gettext=_jinja_gettext, ngettext=_jinja_ngettext, pgettext=_jinja_pgettext, npgettext=_jinja_npgettext
    )
    app.jinja_env.globals["current_lang"] = current_lang
