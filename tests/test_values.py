"""One formatter of answers and numbers: the questionnaire's pages and the report print the same text
for the same values, in Chinese and in English, and a fall reads with the real minus sign."""

from __future__ import annotations

import html
import re

from test_questionnaire import fill, rows, save, start

from webapp import db, tenancy
from webapp.models import Answer, Assessment, User
from webapp.results.values import MINUS

# (item, value, how it reads in zh, in en): a grouped decimal with its unit, a percent, a date
ANSWERS = (
    ("pzb-invention-patents", 1234.5, "1,234.5 件", "1,234.5 patents"),
    ("pzb-zhejiang-suppliers", 12.25, "12.25%", "12.25%"),
    ("pzb-pe-since", "2019-03-01", "2019年3月1日", "March 1, 2019"),
)


def _locale(app, user, lang: str) -> None:
    with app.app_context():
        db.session.get(User, user.id).locale = lang
        db.session.commit()


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def test_pages_and_report_print_the_same_answers_and_changes(app, owner_client):
    client, firm, owner = owner_client
    first = start(client, firm.id)
    fill(client, firm.id, first, "pinzibiao")
    with app.app_context(), tenancy.bypass():
        db.session.get(Assessment, first).status = "submitted"
        db.session.commit()
    r = client.post(f"/firms/{firm.id}/assessments/{first}/rounds", data={"confirm": "1"})
    aid = int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))
    for item, value, _zh, _en in ANSWERS:  # the second round falls: fewer points for some of these
        (answer,) = rows(app, Answer, assessment_id=aid, item_id=item)
        assert save(client, firm.id, aid, item, answer.version, value=value).status_code == 200

    base = f"/firms/{firm.id}/assessments/{aid}"
    for lang in ("zh", "en"):
        _locale(app, owner, lang)
        verdict = client.get(f"{base}/verdict").get_data(as_text=True)
        page_delta = re.search(r'class="qn-delta s-1">([^<]*)<', verdict).group(1)
        report = _text(client.get(f"{base}/report?lang={lang}").get_data(as_text=True))
        report_delta = re.search(r'<strong class="delta down">([^<]*)</strong>', report).group(1)
        assert page_delta == report_delta and page_delta.startswith(MINUS), (page_delta, report_delta)
        assert "-" not in page_delta
        for item, _value, zh, en in ANSWERS:
            shown = zh if lang == "zh" else en
            history = _text(client.get(f"{base}/items/{item}/history").get_data(as_text=True))
            assert shown in history, (lang, item, shown)
            assert shown in report, (lang, item, shown)


def test_the_page_script_knows_kinds_of_input_not_answer_types():
    """A new answer type is one module and one template: the section page's script reads an input by
    the kind its widget declares (`data-read`), never by the item's answer type."""
    from webapp import ROOT
    from webapp.results.values import WIDGETS

    script = (ROOT / "webapp/static/js/questionnaire.js").read_text(encoding="utf-8")
    kinds = set(re.findall(r'(?:it\.read|t) === "(\w+)"', script)) | {"text"}  # text: the field as typed
    assert {w.reads for w in WIDGETS.values()} <= kinds
    assert "it.type" not in script and "data-type" not in script
    item = (ROOT / "templates/questionnaire/_item.html").read_text(encoding="utf-8")
    assert 'data-read="{{ it.reads }}"' in item
