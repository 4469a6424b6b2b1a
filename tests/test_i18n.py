"""Chinese is complete for every UI string, and no template hard-codes text in one language."""

from __future__ import annotations

import re

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
