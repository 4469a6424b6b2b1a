"""Input the database cannot store, or that broke a page later, is refused with a clear 4xx in the
reader's language, and nothing saved before is lost: NUL characters (PostgreSQL refuses them in text),
lone UTF-16 surrogates, JSON nested thousands deep, versions beyond PostgreSQL's integer, and numbers of
10^15 or more (a stored 1e26 made the report answer 500). Runs on SQLite and on PostgreSQL (`-m db`)."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD
from tests.test_api import auth
from tests.test_orgs import firm_form
from tests.test_questionnaire import english, rows, save, start
from webapp import db, tenancy
from webapp.api import tokens as token_service
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Answer, AnswerHistory, Comment, Evidence, Firm, User

NUMBER = "std-stricter-standards"  # a number of at least 0, no upper bound, in "enterprise-standards"
ZH_TEXT = "无法保存的字符"
EN_TEXT = "cannot be saved"


@pytest.fixture
def draft(owner_client) -> tuple[Any, Any, int, str]:
    """(client, firm, assessment id, its URL) of a standards-adoption draft with one saved answer."""
    client, firm, _owner = owner_client
    aid = start(client, firm.id, "standards-adoption")
    assert save(client, firm.id, aid, NUMBER, 0, value=4).status_code == 200
    return client, firm, aid, f"/firms/{firm.id}/assessments/{aid}"


@pytest.fixture
def token_for(app, dbconn):
    def make(user):
        with app.app_context():
            _row, token = token_service.create(db.session.get(User, user.id), "test")
            db.session.commit()
            return token

    return make


def kept(app, aid: int) -> tuple[Any, int]:
    """The saved answer and the number of history rows: what a refused request must leave alone."""
    (answer,) = rows(app, Answer, assessment_id=aid, item_id=NUMBER)
    return (answer.value, answer.version), len(rows(app, AnswerHistory, assessment_id=aid))


def raw_json(client, url: str, body: str, **headers: str):
    return client.post(url, data=body, content_type="application/json", headers=headers)


# ---- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1e26, 10**26, 1e15, -(10**20)])
def test_a_huge_number_is_an_invalid_answer_with_a_message(app, draft, value):
    client, firm, aid, _url = draft
    before = kept(app, aid)
    r = save(client, firm.id, aid, NUMBER, 1, value=value)
    assert r.status_code == 422 and r.json["errors"][0]["code"] in ("number_too_large", "out_of_range")
    if value > 0:
        assert r.json["errors"][0]["code"] == "number_too_large"
        assert r.json["message"] == "数字过大：请填写绝对值小于 1,000,000,000,000,000 的数字。"
    assert kept(app, aid) == before


def test_a_huge_number_in_the_section_form_is_refused_with_the_fields_message(app, draft, owner_client):
    client, _firm, aid, url = draft
    before = kept(app, aid)
    english(app, owner_client[2])
    for text in ("1e26", "1e999999999", "-99999999999999999999"):
        r = client.post(
            f"{url}/sections/enterprise-standards", data={f"value-{NUMBER}": text, f"version-{NUMBER}": "1"}
        )
        assert r.status_code == 422, text
        page = r.get_data(as_text=True)
        assert (
            "This number is too large: enter a number less than 1,000,000,000,000,000 in size." in page
            or (text.startswith("-") and "Enter a number of at least 0." in page)
        )
    assert kept(app, aid) == before
    ok = client.post(f"{url}/sections/enterprise-standards", data={f"value-{NUMBER}": "999999999999999"})
    assert (
        ok.status_code == 303
        and rows(app, Answer, assessment_id=aid, item_id=NUMBER)[0].value == 999999999999999
    )


def test_a_huge_number_through_the_api_is_422_in_the_callers_language(app, draft, owner_client, token_for):
    _client, _firm, aid, _url = draft
    api = app.test_client()
    h = auth(token_for(owner_client[2]), "en")
    r = api.patch(f"/api/v1/assessments/{aid}/answers", json={"answers": {NUMBER: 1e26}}, headers=h)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid"
    (problem,) = r.json["error"]["items"]
    assert problem["code"] == "number_too_large" and "too large" in problem["message"]
    assert kept(app, aid)[0] == (4, 1)


def test_a_huge_number_stored_before_answers_were_bounded_no_longer_breaks_the_report(
    app, draft, owner_client, token_for
):
    client, firm, aid, url = draft
    with app.app_context(), tenancy.bypass():  # old data, written past today's checks
        db.session.execute(
            update(Answer).where(Answer.assessment_id == aid, Answer.item_id == NUMBER).values(value=1e26)
        )
        db.session.commit()
    report = client.get(f"{url}/report")
    assert report.status_code == 200
    assert "100,000,000,000,000,000,000,000,000" in report.get_data(as_text=True)  # shown, every digit
    assert client.get(f"{url}/report.pdf").status_code == 200
    for page in (f"{url}/sections/enterprise-standards", url, f"{url}/verdict", "/home"):
        assert client.get(page, follow_redirects=True).status_code == 200, page
    assert client.get(f"{url}/progress?section=enterprise-standards").status_code == 200
    h = auth(token_for(owner_client[2]))
    api = app.test_client()
    for path in ("", "/result", "/report?format=html"):
        assert api.get(f"/api/v1/assessments/{aid}{path}", headers=h).status_code == 200, path
    # the answer can be corrected
    assert save(client, firm.id, aid, NUMBER, 1, value=5).status_code == 200


# ---- NUL and lone surrogates --------------------------------------------------------------------


def assert_refused_page(r, text: str = ZH_TEXT) -> None:
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert text in page and "<h1>" in page


def test_nul_in_an_autosaved_answer_is_refused_in_the_users_language(app, draft, owner_client):
    client, firm, aid, _url = draft
    before = kept(app, aid)
    r = save(client, firm.id, aid, NUMBER, 1, value="4\x00")
    assert r.status_code == 400 and r.json["error"] == "bad_text" and ZH_TEXT in r.json["message"]
    english(app, owner_client[2])
    r = save(client, firm.id, aid, "std-benchmarking", 0, na="不\x00适用")
    assert r.status_code == 400 and EN_TEXT in r.json["message"]
    assert kept(app, aid) == before
    assert rows(app, Answer, assessment_id=aid, item_id="std-benchmarking") == []


@pytest.mark.parametrize(
    "body",
    [
        '{"item": "std-stricter-standards", "version": 1, "value": "\\ud800"}',
        '{"item": "std-benchmarking", "version": 0, "na": "x\\udfff"}',
        '{"item": "std-benchmarking", "version": 0, "na": "NUL \\u0000 here"}',
        '{"item": "std-benchmarking", "\\ud83d": 1, "version": 0, "value": true}',
    ],
)
def test_lone_surrogates_and_nul_in_an_autosave_body_are_refused(app, draft, body):
    client, _firm, aid, url = draft
    before = kept(app, aid)
    r = raw_json(client, f"{url}/autosave", body)
    assert r.status_code == 400 and r.json == {"ok": False, "error": "bad_text", "message": r.json["message"]}
    assert ZH_TEXT in r.json["message"]
    assert kept(app, aid) == before


def test_a_surrogate_sent_as_raw_bytes_or_in_utf16_is_refused_too(app, draft):
    """Python reads JSON bytes with "surrogatepass": a surrogate's own UTF-8 bytes become one."""
    client, _firm, aid, url = draft
    before = kept(app, aid)
    for body in (
        b'{"item": "std-benchmarking", "version": 0, "na": "\xed\xa0\x80"}',
        '{"item": "std-benchmarking", "version": 0, "na": "\ud800"}'.encode("utf-16", "surrogatepass"),
    ):
        r = client.post(f"{url}/autosave", data=body, content_type="application/json")
        assert r.status_code == 400 and r.json["error"] == "bad_text", body
    assert kept(app, aid) == before
    assert rows(app, Answer, assessment_id=aid, item_id="std-benchmarking") == []


def test_nul_in_the_section_form_comment_and_evidence_name_is_refused(app, draft):
    client, _firm, aid, url = draft
    before = kept(app, aid)
    section = f"{url}/sections/enterprise-standards"
    posted = {f"value-{NUMBER}": "", "na-std-forerunner": "1", "na_reason-std-forerunner": "本企业\x00不生产"}
    assert_refused_page(client.post(section, data=posted, headers={"Referer": f"http://localhost{section}"}))
    assert_refused_page(client.post(section, data={f"value-{NUMBER}": "5\x00"}))
    assert_refused_page(client.post(f"{url}/comments", data={"item": NUMBER, "body": "看这里\x00"}))
    upload = {"item": NUMBER, "file": (io.BytesIO(pdf_bytes("standard")), "标准\x00.pdf")}
    assert_refused_page(client.post(f"{url}/evidence", data=upload, content_type="multipart/form-data"))
    assert kept(app, aid) == before
    assert rows(app, Comment, assessment_id=aid) == [] and rows(app, Evidence, assessment_id=aid) == []
    # the same requests without the NUL go through
    assert client.post(f"{url}/comments", data={"item": NUMBER, "body": "看这里"}).status_code == 303


def test_the_refusal_page_links_back_to_the_page_it_came_from(draft):
    client, _firm, _aid, url = draft
    section = f"{url}/sections/enterprise-standards"
    r = client.post(
        section, data={f"value-{NUMBER}": "\x00"}, headers={"Referer": f"http://localhost{section}"}
    )
    assert_refused_page(r)
    assert f'href="{section}"' in r.get_data(as_text=True)
    elsewhere = client.post(
        section, data={f"value-{NUMBER}": "\x00"}, headers={"Referer": "https://evil.example/x"}
    )
    assert "evil.example" not in elsewhere.get_data(as_text=True)


def test_nul_in_sign_in_registration_and_settings_is_refused(app, client, create_user, login):
    user = create_user(email="nul@example.cn")
    assert_refused_page(
        client.post("/account/signin", data={"email": "nul@example.cn\x00", "password": PASSWORD})
    )
    en = {"Accept-Language": "en"}
    r = client.post(
        "/account/register",
        data={
            "name": "你\x00好",
            "email": "new@example.cn",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
        headers=en,
    )
    assert_refused_page(r, EN_TEXT)
    assert_refused_page(client.post("/account/forgot", data={"email": "\x00@example.cn"}))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
    login(client, user)
    assert_refused_page(client.post("/account/settings", data={"name": "A\x00", "locale": "zh"}))
    assert_refused_page(client.get("/home?lang=\x00"))
    with app.app_context():
        assert db.session.get(User, user.id).name == "你好 Tester"


def test_nul_in_a_firm_form_is_refused_and_oversized_figures_are_form_errors(app, client, create_user, login):
    login(client, create_user())
    assert_refused_page(client.post("/firms/new", data=firm_form(name="杭州\x00有限公司")))
    for field, text in (
        ("revenue_10k", "1e13"),
        ("total_assets_10k", "10000000000000"),
        ("employees", "1e20"),
        ("revenue_10k", "sNaN"),
        ("total_assets_10k", "-Infinity"),
    ):
        r = client.post("/firms/new", data=firm_form(**{field: text}))
        assert r.status_code == 422, (field, r.status_code)
    with app.app_context(), tenancy.bypass():
        assert db.session.scalar(select(func.count()).select_from(Firm)) == 0
    r = client.post(
        "/firms/new", data=firm_form(revenue_10k="999999999999.99", total_assets_10k="1e-999999999")
    )
    assert r.status_code == 302
    with app.app_context(), tenancy.bypass():
        firm = db.session.scalar(select(Firm))
        assert firm.revenue_10k == Decimal("999999999999.99") and firm.total_assets_10k == 0


def test_nul_and_surrogates_in_api_bodies_are_400_json_in_the_callers_language(
    app, draft, owner_client, token_for
):
    _client, _firm, aid, _url = draft
    api = app.test_client()
    token = token_for(owner_client[2])
    url = f"/api/v1/assessments/{aid}/answers"
    for body in ('{"answers": {"std-benchmarking": "\\ud800"}}', '{"na": {"std-benchmarking": "\\u0000"}}'):
        r = api.patch(url, data=body, content_type="application/json", headers=auth(token, "en"))
        assert r.status_code == 400 and r.json["error"]["code"] == "bad_text"
        assert EN_TEXT in r.json["error"]["message"]
    r = api.patch(url, data=body, content_type="application/json", headers=auth(token, "zh-CN"))
    assert ZH_TEXT in r.json["error"]["message"]
    r = api.post(
        f"/api/v1/firms/{owner_client[1].id}/assessments",
        json={"framework": "pinzibiao\x00"},
        headers=auth(token),
    )
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_text"
    assert api.get("/api/v1/frameworks/pinzibiao%00", headers=auth(token)).status_code == 400
    assert kept(app, aid)[0] == (4, 1)


# ---- deep JSON, versions ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [5000, 40])
def test_json_nested_too_deep_is_refused(app, draft, owner_client, token_for, depth):
    client, _firm, aid, url = draft
    before = kept(app, aid)
    deep = "[" * depth + "]" * depth
    r = raw_json(client, f"{url}/autosave", f'{{"item": "{NUMBER}", "version": 1, "value": {deep}}}')
    assert r.status_code == 400 and r.json["error"] == "too_deep" and "嵌套" in r.json["message"]
    api = app.test_client()
    h = auth(token_for(owner_client[2]), "en")
    r = api.patch(f"/api/v1/assessments/{aid}/answers", data=deep, content_type="application/json", headers=h)
    assert r.status_code == 400 and r.json["error"]["code"] == "too_deep"
    assert "nested too deeply" in r.json["error"]["message"]
    assert kept(app, aid) == before
    # a body of a sensible depth is read as before
    assert (
        raw_json(
            client, f"{url}/autosave", json.dumps({"item": NUMBER, "version": 1, "value": 6})
        ).status_code
        == 200
    )


@pytest.mark.parametrize("version", [10**20, 1e20, -1, 2**31, "1", True])
def test_an_autosave_version_outside_the_databases_integer_is_refused(app, draft, version):
    client, firm, aid, _url = draft
    before = kept(app, aid)
    r = save(client, firm.id, aid, NUMBER, version, value=7)
    assert r.status_code == 400 and r.json["error"] == "bad_version" and "2147483647" in r.json["message"]
    assert kept(app, aid) == before
    # the largest integer is a version like any other: someone else's answer is newer
    assert save(client, firm.id, aid, NUMBER, 2**31 - 1, value=7).status_code == 409


def test_api_versions_outside_the_databases_integer_are_refused(app, draft, owner_client, token_for):
    _client, _firm, aid, _url = draft
    api = app.test_client()
    h = auth(token_for(owner_client[2]), "en")
    url = f"/api/v1/assessments/{aid}/answers"
    r = api.patch(url, json={"answers": {NUMBER: 7}, "versions": {NUMBER: 10**20}}, headers=h)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_version"
    assert kept(app, aid)[0] == (4, 1)
    assert (
        api.patch(url, json={"answers": {NUMBER: 7}, "versions": {NUMBER: 1}}, headers=h).status_code == 200
    )
