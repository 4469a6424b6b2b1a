"""Issue 16 as a user sees it: the quick mode of the award framework is a screening on the verdict
page, in the report and in the API; every line and condition says where it comes from; a new round
moves to the newest framework version."""

from __future__ import annotations

import re

from test_questionnaire import english, fill, start

from webapp import db
from webapp.api import tokens as token_service
from webapp.models import User

HANGZHOU = "award-hangzhou-municipal"


def cards(page: str) -> dict[str, tuple[str, str]]:
    found = re.findall(
        r'<article class="card qn-target ([^"]*)" id="target-([^"]+)">(.*?)</article>', page, re.S
    )
    return {tid: (cls, html) for cls, tid, html in found}


def test_quick_mode_screens_and_never_says_ready(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "quick")
    fill(client, firm.id, aid, "performance-excellence", "quick")  # "throughout" everywhere, eligible
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    cls, html = cards(page)[HANGZHOU]
    assert "worth_full_evaluation" in cls.split() and "值得开展完整自评" in html
    assert "已达标" not in page  # "Ready": no verdict in a screening
    assert "各目标的初筛结果" in page and "快速自评只是初筛" in page
    assert "自评分数不是评审员的评分" in page
    # provenance: the document of the rules, the assumption of a line
    assert "杭政办函〔2022〕48号" in page and "〔2023〕48号" not in page
    assert "质评通估计，非官方分数线" in cards(page)["award-zhejiang-provincial"][1]
    assert "未经确认" in page  # Shaoxing's and the province's rules are not confirmed


def test_full_mode_gives_the_verdict_in_english(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "performance-excellence", "full")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    assert "Readiness per target" in page and "Quick mode is a screening" not in page
    assert "A self-assessed score is not a reviewer&#39;s score" in page
    assert "QReady estimate — not an official line" in page
    assert "市场监管总局令第36号（中国质量奖管理办法）, 2021 · in force from 2021-05-01" in page


def test_report_and_api_say_it_is_a_screening(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "quick")
    report = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    assert "快速自评只是初筛" in report and "自评分数不是评审员的评分" in report
    assert "尚未达到" in report and "已达标" not in report[: report.index('id="scores"')]
    assert "分数线： 质评通估计，非官方分数线" in report
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, owner.id), "test")
        db.session.commit()
    data = client.get(
        f"/api/v1/assessments/{aid}/result", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert data["version"] == "1.1.1" and data["screening"] is True
    assert "not a reviewer's score" in data["self_assessed"]["en"]
    targets = {t["id"]: t for t in data["targets"]}
    assert targets[HANGZHOU]["readiness"] == "not_yet"
    assert targets["award-zhejiang-provincial"]["rule"]["assumption"]["zh"].startswith("公开资料中没有")
    gates = {g["id"]: g for g in data["gates"]}
    assert gates["hz-pe-3-years"]["rule"]["document"].startswith("杭政办函〔2022〕48号")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert (
        "worth_full_evaluation"
        in spec["components"]["schemas"]["TargetResult"]["properties"]["readiness"]["enum"]
    )


def test_question_numbers_are_the_standards_clauses_or_none(app, owner_client):
    """Questions of "4.1 领导" were numbered 3.1, 3.2 (positions); numbers shown are GB/T 19580's or none."""
    client, firm, _owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "full")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/leadership").get_data(as_text=True)
    numbers = re.findall(r'<span class="qn-num" aria-hidden="true">([^<]*)</span>', page)
    assert numbers[:3] == ["4.1.2", "4.1.3", "4.1.4"]
    aid = start(client, firm.id, "pinzibiao")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert 'class="qn-num"' not in page
