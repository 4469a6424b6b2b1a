"""A target limited to a region is "not for your region" to a firm registered elsewhere — greyed and
listed last — never a failure: on the verdict page, in the report, on the firm home, in the API.

The firm of `owner_client` is registered in 西湖区, Hangzhou (330106); the 绍兴市市长质量奖 is for firms
registered in Shaoxing (its gate 在绍兴市注册 tests city 330600).
"""

from __future__ import annotations

import re

from test_questionnaire import english, start

from webapp import db
from webapp.api import tokens as token_service
from webapp.models import User

SHAOXING = "award-shaoxing-mayor"
HANGZHOU = "award-hangzhou-municipal"


def target_cards(page: str) -> list[tuple[str, str, str]]:
    """(target id, classes, html) of each target card of the verdict page, in page order."""
    return re.findall(
        r'<article class="card qn-target ([^"]*)" id="target-([^"]+)">(.*?)</article>', page, re.S
    )


def cards(page: str) -> dict[str, tuple[str, str]]:
    return {tid: (cls, html) for cls, tid, html in target_cards(page)}


def gate_rows(page: str) -> list[str]:
    section = page[page.index('id="gates-title"') :]
    section = section[: section.index("</table>")]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.S)[1:]  # without the header row


def verdict(client, firm_id: int, aid: int) -> str:
    r = client.get(f"/firms/{firm_id}/assessments/{aid}/verdict")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_verdict_page_shows_another_citys_award_as_not_for_the_region(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    page = verdict(client, firm.id, aid)
    order = [tid for _cls, tid, _html in target_cards(page)]
    assert order[-1] == SHAOXING  # listed last
    cls, html = cards(page)[SHAOXING]
    assert "not_applicable" in cls.split()  # greyed
    assert "不适用于贵企业所在地区" in html
    assert "该目标仅面向在绍兴市注册的企业" in html  # the place it is for
    assert "未达标" not in html and "不满足" not in html and "qn-blockers" not in html
    assert "qn-checklist" not in html  # no path to a target the firm cannot enter
    # the firm's own city award keeps its normal verdict
    cls, html = cards(page)[HANGZHOU]
    assert "not_ready" in cls.split() and "未达标" in html
    # the eligibility conditions only the Shaoxing award has are not failures either: greyed, last
    rows = gate_rows(page)
    shaoxing = [r for r in rows if "在绍兴市注册" in r]
    assert len(shaoxing) == 1 and "不满足" not in shaoxing[0] and "不适用于贵企业所在地区" in shaoxing[0]
    assert "qn-gate not_applicable" in shaoxing[0]
    first_na = next(i for i, r in enumerate(rows) if "not_applicable" in r)
    assert all("not_applicable" in r for r in rows[first_na:])
    assert not any("不满足" in r for r in rows if "ISO 14001" in r)  # a Shaoxing-only condition
    # no gap is flagged as deciding one of those conditions
    gaps = page[page.index('id="gaps-title"') :]
    assert "在绍兴市注册" not in gaps and "通过 ISO 14001 认证" not in gaps


def test_verdict_page_in_english(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    page = verdict(client, firm.id, aid)
    assert [tid for _cls, tid, _html in target_cards(page)][-1] == SHAOXING
    cls, html = cards(page)[SHAOXING]
    assert "not_applicable" in cls.split()
    assert "Not for your region" in html and "only for firms registered in Shaoxing" in html
    assert "Not ready" not in html and "Not met" not in html and "Failed" not in html
    row = next(r for r in gate_rows(page) if "Registered in Shaoxing" in r)
    assert "Not for your region" in row and "Failed" not in row


def test_a_shaoxing_firm_sees_its_award_and_not_hangzhous(app, client, create_user, create_firm, login):
    owner = create_user()
    firm = create_firm("绍兴测试纺织有限公司", owner=owner, region="330602")
    login(client, owner)
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    page = verdict(client, firm.id, aid)
    by_id = cards(page)
    assert "not_ready" in by_id[SHAOXING][0].split() and "未达标" in by_id[SHAOXING][1]
    assert "not_applicable" in by_id[HANGZHOU][0].split()
    assert [tid for _cls, tid, _html in target_cards(page)][-1] == HANGZHOU


def verdict_entries(summary: str) -> list[tuple[str, str]]:
    """(classes, html) of each entry of the report's "verdict per target", in order."""
    parts = summary.split('<div class="verdict ')[1:]
    return [(p[: p.index('"')], p) for p in parts]


def test_report_html_shows_the_award_as_not_for_the_region(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    summary = page[page.index('id="summary"') : page.index('id="scores"')]
    entries = verdict_entries(summary)
    assert "绍兴市市长质量奖" in entries[-1][1]  # listed last
    assert entries[-1][0] == "not_applicable"
    assert "不适用于贵企业所在地区" in entries[-1][1]
    assert "未达标" not in entries[-1][1] and "尚未达标" not in entries[-1][1]
    # the condition 在绍兴市注册 is not among the conditions not met
    gates = page[page.index('id="gates"') :]
    gates = gates[: gates.index("</section>")]
    open_part = gates[: gates.index("不适用于贵企业所在地区")]
    assert "在绍兴市注册" not in open_part
    assert "在绍兴市注册" in gates[gates.index("不适用于贵企业所在地区") :]
    # no path to ready for it
    if 'id="paths"' in page:
        paths = page[page.index('id="paths"') :]
        assert "绍兴市市长质量奖" not in paths[: paths.index("</section>")]
    # and in English
    english(app, owner)
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    summary = page[page.index('id="summary"') : page.index('id="scores"')]
    entries = verdict_entries(summary)
    assert entries[-1][0] == "not_applicable" and "Shaoxing" in entries[-1][1]
    assert "Not for your region" in entries[-1][1] and "not ready" not in entries[-1][1].lower()


def test_api_result_gives_not_applicable_with_a_reason(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, owner.id), "test")
        db.session.commit()
    r = client.get(f"/api/v1/assessments/{aid}/result", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    data = r.get_json()
    targets = {t["id"]: t for t in data["targets"]}
    assert targets[SHAOXING]["readiness"] == "not_applicable"
    assert targets[SHAOXING]["reason"] == "outside_region" and targets[SHAOXING]["blocking"] == []
    assert targets[HANGZHOU]["readiness"] == "not_ready" and targets[HANGZHOU]["reason"] is None
    gates = {g["id"]: g for g in data["gates"]}
    assert gates["registered-in-shaoxing"]["status"] == "not_applicable"
    assert SHAOXING not in data["path_to_ready"]
    spec = client.get("/api/v1/openapi.json").get_json()
    target = spec["components"]["schemas"]["TargetResult"]
    assert "not_applicable" in target["properties"]["readiness"]["enum"]
    assert "outside_region" in target["properties"]["reason"]["enum"]


def test_firm_home_never_shows_another_citys_award_as_a_failure(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id, "performance-excellence", "full")  # quick mode is a screening (no verdict)
    verdict(client, firm.id, aid)
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    targets = home[home.index('id="targets-title"') :]
    targets = targets[: targets.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", targets, re.S)
    hangzhou = [r for r in rows if "杭州市人民政府质量奖" in r]
    assert hangzhou and "未达标" in hangzhou[0]
    for row in rows:
        if "绍兴市市长质量奖" in row:
            assert "未达标" not in row and "不适用于贵企业所在地区" in row


# ---- the region scope as framework data (1.1.1): shown with each target's rule ---------------------

HZ_RULE = "杭州市人民政府质量奖评审管理办法（2025年修订征求意见稿）, 2025"


def shaoxing_firm(client, create_user, create_firm, login):  # type: ignore[no-untyped-def]
    owner = create_user()
    firm = create_firm("绍兴测试纺织有限公司", owner=owner, region="330602")
    login(client, owner)
    return firm, owner


def test_a_shaoxing_firm_sees_hangzhous_award_apart_with_its_scope(
    app, client, create_user, create_firm, login
):
    firm, owner = shaoxing_firm(client, create_user, create_firm, login)
    aid = start(client, firm.id, "performance-excellence", "full")
    page = verdict(client, firm.id, aid)
    by_id = cards(page)
    assert [tid for _cls, tid, _html in target_cards(page)][-1] == HANGZHOU  # apart: last, greyed
    cls, html = by_id[HANGZHOU]
    assert "not_applicable" in cls.split() and "该目标仅面向在杭州市注册的企业" in html
    assert f"杭州市 · {HZ_RULE}" in html  # the scope with the rule
    assert "未达标" not in html and "qn-checklist" not in html
    # the firm's own awards: their scope with their rule, and the national one without a place
    assert "绍兴市 · 质评通估计，非官方分数线" in by_id[SHAOXING][1]
    assert "浙江省 · 质评通估计，非官方分数线" in by_id["award-zhejiang-provincial"][1]
    cqa = by_id["award-china-quality-nomination"][1]
    assert "分数线： 质评通估计，非官方分数线" in cqa and " · 质评通估计" not in cqa
    # the report
    report = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    entries = verdict_entries(report[report.index('id="summary"') : report.index('id="scores"')])
    assert entries[-1][0] == "not_applicable" and "杭州市人民政府质量奖" in entries[-1][1]
    assert f"杭州市 · {HZ_RULE}" in entries[-1][1] and "未达标" not in entries[-1][1]
    assert any("绍兴市 · 质评通估计" in html for _cls, html in entries[:-1])
    # the firm home lists the awards open to the firm, each with where it applies
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    table = home[home.index('id="targets-title"') :]
    table = table[: table.index("</table>")]
    assert "杭州市人民政府质量奖" not in table
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S) if "绍兴市市长质量奖" in r)
    assert '· <span class="qn-scope">绍兴市</span>' in row
    # and in English
    english(app, owner)
    page = verdict(client, firm.id, aid)
    cls, html = cards(page)[HANGZHOU]
    assert "not_applicable" in cls.split() and "only for firms registered in Hangzhou" in html
    assert f"Hangzhou · {HZ_RULE}" in html and "Not ready" not in html
    assert "Shaoxing · QReady estimate — not an official line" in cards(page)[SHAOXING][1]
    report = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    entries = verdict_entries(report[report.index('id="summary"') : report.index('id="scores"')])
    assert entries[-1][0] == "not_applicable" and f"Hangzhou · {HZ_RULE}" in entries[-1][1]
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    assert (
        '· <span class="qn-scope">Shaoxing</span>' in home and '<span class="qn-scope">Hangzhou' not in home
    )


def test_the_api_gives_the_declared_scope_with_the_rule(app, client, create_user, create_firm, login):
    firm, owner = shaoxing_firm(client, create_user, create_firm, login)
    aid = start(client, firm.id, "performance-excellence", "full")
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, owner.id), "test")
        db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    data = client.get(f"/api/v1/assessments/{aid}/result", headers=auth).get_json()
    assert data["version"] == "1.1.1"
    targets = {t["id"]: t for t in data["targets"]}
    hz = targets[HANGZHOU]
    assert (hz["readiness"], hz["reason"], hz["region"]) == ("not_applicable", "outside_region", ["3301"])
    assert hz["rule"]["document"] == "杭州市人民政府质量奖评审管理办法（2025年修订征求意见稿）"
    assert targets[SHAOXING]["region"] == ["3306"] and targets[SHAOXING]["readiness"] == "not_ready"
    assert targets["award-china-quality-nomination"]["region"] == []
    # the framework as data: each target's declared scope
    fw = client.get("/api/v1/frameworks/performance-excellence", headers=auth).get_json()
    assert fw["version"] == "1.1.1"
    assert {t["id"]: t["region"] for t in fw["targets"]} == {
        HANGZHOU: ["3301"],
        SHAOXING: ["3306"],
        "award-zhejiang-provincial": ["33"],
        "award-china-quality-nomination": [],  # everywhere
    }
