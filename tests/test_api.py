"""The public API: tokens, JSON errors in the caller's language, what each caller may see and do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assessments.loader import load_framework
from webapp import db
from webapp.api import tokens as token_service
from webapp.models import ApiToken, User


@pytest.fixture
def token_for(app, dbconn):
    def make(user):
        with app.app_context():
            _row, token = token_service.create(db.session.get(User, user.id), "test")
            db.session.commit()
            return token

    return make


def auth(token, lang=None):
    headers = {"Authorization": f"Bearer {token}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers


def test_no_token_is_401_json_in_the_callers_language(client):
    r = client.get("/api/v1/firms")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert (
        "API" in client.get("/api/v1/firms", headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    )
    assert (
        "令牌"
        in client.get("/api/v1/firms", headers={"Accept-Language": "zh-CN"}).get_json()["error"]["message"]
    )
    assert client.get("/api/v1/firms", headers={"Authorization": "Bearer qr_forged"}).status_code == 401


def test_the_session_cookie_does_not_open_the_api(client, create_user, login):
    login(client, create_user())
    assert client.get("/api/v1/firms").status_code == 401


def test_cli_creates_a_token_printed_alone_on_the_last_line(app, client, create_user):
    user = create_user(email="cli@example.cn")
    r = app.test_cli_runner().invoke(args=["tokens", "create", "cli@example.cn", "--name", "ERP"])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("qr_") and " " not in token
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert row.name == "ERP" and token not in row.token_hash  # stored hashed
    assert client.get("/api/v1/firms", headers=auth(token)).status_code == 200
    assert app.test_cli_runner().invoke(args=["tokens", "create", "nobody@example.cn"]).exit_code == 2


def test_tokens_in_settings_are_shown_once_and_revocable(app, client, create_user, login):
    login(client, create_user())
    r = client.post("/account/tokens", data={"tk-name": "MES"})
    page = r.get_data(as_text=True)
    token = page.split('id="new-token" class="token" type="text" readonly value="')[1].split('"')[0]
    api = app.test_client()
    assert api.get("/api/v1/firms", headers=auth(token)).status_code == 200
    assert token not in client.get("/account/settings").get_data(as_text=True)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    client.post(f"/account/tokens/{token_id}/revoke")
    assert api.get("/api/v1/firms", headers=auth(token)).status_code == 401


def test_firms_lists_only_what_the_caller_may_see(client, create_user, create_firm, token_for):
    owner = create_user()
    mine = create_firm("我的企业", owner=owner)
    create_firm("别人的企业", owner=create_user())
    firms = client.get("/api/v1/firms", headers=auth(token_for(owner))).get_json()
    assert [f["name"] for f in firms] == ["我的企业"]
    assert set(firms[0]) >= {"id", "name", "credit_code", "region", "industry"}
    assert firms[0]["id"] == mine.id


def test_frameworks_and_export(client, create_user, token_for):
    h = auth(token_for(create_user()))
    listed = client.get("/api/v1/frameworks", headers=h).get_json()
    assert {f["id"] for f in listed} >= {
        "pinzibiao",
        "performance-excellence",
        "chief-quality-officer",
        "labelling-four-100",
        "standards-adoption",
    }
    fw = client.get("/api/v1/frameworks/pinzibiao", headers=h).get_json()
    assert fw["id"] == "pinzibiao" and "ideal_answer" in fw["sections"][0]["items"][0]
    assert client.get("/api/v1/frameworks/nope", headers=h).status_code == 404


def test_declared_zero_answers_earn_nothing(client, create_user, create_firm, token_for):
    """Issue 14: a new user answered every item of pinzibiao with the framework's declared zero answer
    and got a point: the date item's zero answer ("adopted on the day the answers are declared as of")
    was declared as of a fixed past date, while a draft is scored as of today. The API declares its
    reference answers as of the day it scores drafts."""
    owner = create_user()
    firm = create_firm(owner=owner)
    h = auth(token_for(owner), "en")
    fw = client.get("/api/v1/frameworks/pinzibiao", headers=h).get_json()
    answers = {i["id"]: i["zero_answer"] for s in fw["sections"] for i in s["items"] if i["type"] != "text"}
    aid = client.post(f"/api/v1/firms/{firm.id}/assessments", json={"framework": "pinzibiao"}, headers=h)
    aid = aid.get_json()["id"]
    saved = client.patch(f"/api/v1/assessments/{aid}/answers", json={"answers": answers}, headers=h)
    assert saved.status_code == 200, saved.get_json()
    result = client.get(f"/api/v1/assessments/{aid}/result", headers=h).get_json()
    assert {i["id"]: i["points"] for i in result["items"] if i["points"]} == {}
    assert result["points"] == 0 and result["as_of"] == fw["as_of"]


def test_assessment_lifecycle(client, create_user, create_firm, token_for):
    owner = create_user()
    firm = create_firm(owner=owner)
    h = auth(token_for(owner), "en")
    r = client.post(
        f"/api/v1/firms/{firm.id}/assessments", json={"framework": "chief-quality-officer"}, headers=h
    )
    assert r.status_code == 201, r.get_json()
    a = r.get_json()
    assert {"id", "framework", "version", "status", "updated_at"} <= set(a) and a["status"] == "draft"
    listed = client.get(f"/api/v1/firms/{firm.id}/assessments", headers=h).get_json()
    assert [x["id"] for x in listed] == [a["id"]]

    fw = load_framework("chief-quality-officer")
    first, second = fw.items[0], fw.items[1]
    bad = client.patch(
        f"/api/v1/assessments/{a['id']}/answers",
        json={"answers": {first.id: True, second.id: "not-a-valid-value-%%"}},
        headers=h,
    )
    assert bad.status_code == 422
    err = bad.get_json()["error"]
    assert err["code"] == "invalid" and [e["item"] for e in err["items"]] == [second.id]
    detail = client.get(f"/api/v1/assessments/{a['id']}", headers=h).get_json()
    assert first.id not in detail["answers"]  # nothing from the refused request was saved

    ok = client.patch(f"/api/v1/assessments/{a['id']}/answers", json={"answers": {first.id: True}}, headers=h)
    assert ok.status_code == 200 and ok.get_json()["saved"][first.id]["version"] == 1
    stale = client.patch(
        f"/api/v1/assessments/{a['id']}/answers",
        json={"answers": {first.id: False}, "versions": {first.id: 0}},
        headers=h,
    )
    assert stale.status_code == 409 and stale.get_json()["error"]["items"][0]["current"]["value"] is True

    incomplete = client.post(f"/api/v1/assessments/{a['id']}/submit", headers=h)
    assert incomplete.status_code == 422 and incomplete.get_json()["error"]["items"]
    result = client.get(f"/api/v1/assessments/{a['id']}/result", headers=h).get_json()
    assert result["framework"] == "chief-quality-officer" and "path_to_ready" in result


def test_viewer_reads_but_cannot_write(client, create_user, create_firm, token_for):
    owner, viewer = create_user(), create_user()
    firm = create_firm(owner=owner, members={"viewer": viewer})
    r = client.post(
        f"/api/v1/firms/{firm.id}/assessments",
        json={"framework": "pinzibiao"},
        headers=auth(token_for(owner)),
    )
    aid = r.get_json()["id"]
    hv = auth(token_for(viewer))
    assert client.get(f"/api/v1/assessments/{aid}", headers=hv).status_code == 200
    assert (
        client.patch(f"/api/v1/assessments/{aid}/answers", json={"answers": {}}, headers=hv).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/firms/{firm.id}/assessments", json={"framework": "pinzibiao"}, headers=hv
        ).status_code
        == 403
    )


def test_another_firms_objects_are_404(client, create_user, create_firm, token_for):
    owner = create_user()
    firm = create_firm(owner=owner)
    aid = client.post(
        f"/api/v1/firms/{firm.id}/assessments",
        json={"framework": "pinzibiao"},
        headers=auth(token_for(owner)),
    ).get_json()["id"]
    stranger = auth(token_for(create_user()))
    for method, url in (
        ("GET", f"/api/v1/firms/{firm.id}/assessments"),
        ("POST", f"/api/v1/firms/{firm.id}/assessments"),
        ("GET", f"/api/v1/assessments/{aid}"),
        ("PATCH", f"/api/v1/assessments/{aid}/answers"),
        ("POST", f"/api/v1/assessments/{aid}/submit"),
        ("GET", f"/api/v1/assessments/{aid}/result"),
    ):
        r = client.open(url, method=method, json={"framework": "pinzibiao", "answers": {}}, headers=stranger)
        assert r.status_code == 404, (method, url, r.status_code)
        assert r.get_json()["error"]["code"] == "not_found"


def test_every_api_route_is_documented(app, client, dbconn):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {
        (path, method) for path, ops in doc["paths"].items() for method in ops if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_report_by_api(client, create_user, create_firm, token_for):
    owner = create_user()
    firm = create_firm(owner=owner)
    h = auth(token_for(owner))
    aid = client.post(
        f"/api/v1/firms/{firm.id}/assessments", json={"framework": "chief-quality-officer"}, headers=h
    ).get_json()["id"]
    html = client.get(f"/api/v1/assessments/{aid}/report?format=html&lang=en", headers=h)
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert firm.name in html.get_data(as_text=True)
    pdf = client.get(f"/api/v1/assessments/{aid}/report?lang=zh", headers=h)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/assessments/{aid}/report?format=docx", headers=h).status_code == 422
