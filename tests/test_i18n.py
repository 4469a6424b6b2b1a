"""Chinese is complete for every UI string, and no template hard-codes text in one language."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from webapp import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("webapp/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]


def _source_ids() -> set[str]:
    ids = set()
    for _fn, _lineno, message, _comments, _ctx in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_ui_string_has_a_chinese_translation():
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="zh")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(_source_ids() - translated)
    assert missing == [], "run `make messages` and translate: " + repr(missing[:10])


def test_no_string_is_in_the_catalog_twice():
    """One (context, msgid) one entry: of two, the compiled catalog keeps one translation for both uses
    (an invoice "open" read 未完成 like an action; the billing "Plan" read 规划 like a policy plan)."""
    seen: dict[tuple[str | None, str], int] = {}
    entry: list[str] = []
    context: str | None = None
    text = (ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    for line in [*text.splitlines(), ""]:
        if line.startswith("msgctxt "):
            context = line[8:]
        elif line.startswith("msgid "):
            entry = [line[6:]]
        elif line.startswith('"') and entry and not entry[-1].startswith("msgstr"):
            entry.append(line)
        elif line.startswith("msgstr") or line.startswith("msgid_plural"):
            if entry and not entry[-1].startswith("msgstr"):
                key = (context, "".join(entry))
                seen[key] = seen.get(key, 0) + 1
            entry, context = ["msgstr"], None
    twice = sorted(k[1] for k, n in seen.items() if n > 1 and k[1] != '""')
    assert twice == [], "give each use its own msgctxt (pgettext) or keep one entry: " + repr(twice)


ALLOWED = {"中文", "English", "质", "—", "·", "(", ")", "%"}


def test_templates_hard_code_no_words():
    offenders = []
    for path in (ROOT / "templates").rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        text = path.read_text()
        text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
        text = re.sub(r"{{.*?}}|{%.*?%}", " ", text, flags=re.S)
        text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", text, flags=re.S)
        text = re.sub(r"<[^>]*>", " ", text)
        for word in re.findall(r"[A-Za-z]{2,}|[\u4e00-\u9fff]+", text):
            if word not in ALLOWED:
                offenders.append(f"{path.relative_to(ROOT)}: {word}")
    assert offenders == []


def test_pages_render_in_both_languages(client, create_user, login):
    zh = client.get("/account/signin").get_data(as_text=True)
    en = client.get("/account/signin", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "忘记密码？" in zh and "Forgot your password?" in en
    assert 'lang="zh-CN"' in zh and 'lang="en"' in en


def test_dates_and_numbers_follow_the_locale(app, dbconn):
    import datetime as dt

    from flask_babel import force_locale

    with app.test_request_context():
        env = app.jinja_env
        with force_locale("zh"):
            assert env.filters["date"](dt.date(2026, 3, 5)) == "2026年3月5日"
            assert env.filters["number"](1234567) == "1,234,567"
        with force_locale("en"):
            assert env.filters["date"](dt.date(2026, 3, 5)) == "Mar 5, 2026"


# ---- a "%" in a UI string ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "en-GB"])
def test_the_landing_page_answers_every_english_browser(client, accept):
    r = client.get("/", headers={"Accept-Language": accept})
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-500:]
    assert 'lang="en"' in html
    assert "the “four 100%” labelling rules" in html  # one percent sign, as written


def test_the_landing_page_in_chinese(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'lang="zh-CN"' in html and "贴标亮标“四个百分百”" in html


def test_a_percent_sign_is_literal_in_both_languages_and_in_python_and_templates(app):
    """A literal "%" (bare or written "%%") shows as one "%" whether or not the string has a
    translation, in a template or through `_()`; `%(name)s` placeholders are filled either way."""
    from flask import render_template_string
    from flask_babel import force_locale, ngettext
    from flask_babel import gettext as _
    from flask_babel import lazy_gettext as _l

    with app.test_request_context():
        for lang in ("zh", "en"):
            with force_locale(lang):
                assert _("100% sure, 100%% done") == "100% sure, 100% done"
                assert _("%(n)s%% of %(m)s", n=3, m=4) == "3% of 4"
                assert str(_l("50% off")) == "50% off"
                assert ngettext("%(num)d item, 5% off", "%(num)d items, 5% off", 2) == "2 items, 5% off"
                page = render_template_string(
                    "{{ _('100% sure') }}|{{ _('100%% sure') }}|{{ _('%(n)s%% of <b>', n='<i>') }}"
                )
                assert page == "100% sure|100% sure|3% of <b>".replace("3", "&lt;i&gt;")


def _percent_problems(text: str) -> list[str]:
    """What is wrong with the "%" signs of one catalog string: each must be "%%" or a placeholder
    "%(name)s" / "%(name)d" / "%(name).1f" (webapp.i18n.PLACEHOLDER)."""
    from webapp.i18n import PERCENT

    return [m.group(0) for m in PERCENT.finditer(text) if m.group("stray")]


def _placeholders(text: str) -> list[str]:
    from webapp.i18n import PERCENT

    return sorted(m.group("name") for m in PERCENT.finditer(text) if m.group("name"))


def test_the_percent_signs_of_every_ui_string_are_placeholders_or_escaped():
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="zh")
    problems = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = [s for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
        for text in (*ids, *strings):
            if bad := _percent_problems(text):
                problems.append(f"{text!r}: a bare {bad} (write a literal percent sign as %%)")
        wanted = set(_placeholders(ids[-1])) | set(_placeholders(ids[0]))
        for text in strings:
            if set(_placeholders(text)) != wanted:
                problems.append(f"{ids[0]!r}: the translation {text!r} has other placeholders")
    for source in _source_ids():
        if bad := _percent_problems(source):
            problems.append(f"source {source!r}: a bare {bad} (write a literal percent sign as %%)")
    assert problems == []


def test_the_catalog_check_catches_a_bare_percent_and_a_mistranslated_placeholder():
    assert _percent_problems("the “four 100%” rules") == ["%"]
    assert _percent_problems("100% of %(n)s") == ["%"]
    assert _percent_problems("%(n)s%% of %(m)d, %(x).1f") == []
    assert _percent_problems("%s and %d") == ["%", "%"]
    assert _placeholders("%(n)s%% of %(m)d") == ["m", "n"]


def test_the_near_readiness_reads_the_same_on_pages_and_in_reports(app, dbconn):
    """The verdict, the firm's home and the regulator's table say what the PDF report says."""
    from flask_babel import force_locale

    from webapp.questionnaire.present import readiness_label

    report = (ROOT / "templates/reports/_report.html").read_text()
    assert "'near': _('Nearly ready')" in report
    stats = (ROOT / "templates/regulators/home.html").read_text()
    assert "_('Near')" not in stats and "'near': _('Nearly ready')" in stats
    with app.test_request_context():
        with force_locale("en"):
            assert readiness_label("near") == "Nearly ready"
        with force_locale("zh"):
            assert readiness_label("near") == "接近达标"


def test_a_message_in_another_language_within_a_page_request(app):
    """A request that writes to someone in their own language (`force_locale`, as the mail to a firm's
    owner does) gets that language inside, and the page's language before and after, in Python and
    in templates alike."""
    from flask import render_template_string
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        assert _("Sign out") == "退出"
        with force_locale("en"):
            assert _("Sign out") == "Sign out"
            assert render_template_string("{{ _('Sign out') }}") == "Sign out"
        assert _("Sign out") == "退出"
        assert render_template_string("{{ _('Sign out') }}") == "退出"
