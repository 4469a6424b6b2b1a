"""The improvement plan: actions, "make a plan from this path", progress as a re-score, my actions,
the calendar feed (RFC 5545) and the weekly digest; access only through grants."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.test_questionnaire import english, fill, rows, save, start
from webapp import db, tenancy
from webapp.models import Action, Answer, Consultancy, ConsultancyGrant, Membership
from webapp.plan import ical


def _consultant(app, create_user, firm, grant=True, access="edit", name="陈顾问 Consultant", code="PL"):
    """A consultant of a consultancy the firm granted access."""
    user = create_user(name=name)
    with app.app_context():
        c = Consultancy(name="测试咨询", code=f"{code}{firm.id:05d}")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, consultancy_id=c.id, role="consultant"))
        if grant:
            db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id, access=access))
        db.session.commit()
    return user


def _actions(app, firm_id):
    return rows(app, Action, firm_id=firm_id)


def test_make_a_plan_from_the_path_spreads_dates_by_effort(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    verdict = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    assert "Make a plan from this path" in verdict
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/firms/{firm.id}/plan")
    actions = sorted(_actions(app, firm.id), key=lambda a: a.id)
    assert len(actions) >= 3
    # one owner (the creator: nobody is assigned a section), dates one after the other by effort
    from webapp.plan.services import today as plan_today

    today = plan_today()  # the firms' day (China Standard Time), not the machine's
    weeks = {"low": 2, "medium": 4, "high": 8}
    due = today
    for a in actions:
        assert a.owner_id == owner.id and a.status == "open" and a.assessment_id == aid
        due += dt.timedelta(weeks=weeks[a.effort])
        assert a.due_on == due
        assert a.items and a.targets and a.framework_id == "pinzibiao"
    # the verdict's path shows each step's action
    verdict = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    assert verdict.count("In the plan: Open") >= len(actions)
    # again: every step already has an open action, nothing is added twice
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    assert len(_actions(app, firm.id)) == len(actions)
    page = client.get(f"/firms/{firm.id}/plan").get_data(as_text=True)
    assert "Improvement plan" in page and "Progress toward the targets" in page
    # a step reads as its item's action in the reader's language
    from assessments.loader import load_framework

    item = load_framework("pinzibiao").item(actions[0].items[0])
    assert actions[0].title == "" and item.action.en in page and item.action.zh not in page
    from webapp.models import User

    with app.app_context():
        db.session.get(User, owner.id).locale = "zh"
        db.session.commit()
    page = client.get(f"/firms/{firm.id}/plan").get_data(as_text=True)
    assert item.action.zh in page and "改进计划" in page


def test_section_assignees_own_their_steps(app, client, create_user, create_firm, login):
    owner, editor = create_user(), create_user(name="李工 Editor")
    firm = create_firm(owner=owner, members={"editor": editor})
    login(client, owner)
    aid = start(client, firm.id)
    fw_section = None
    from webapp.questionnaire.engine_bridge import framework_of
    from webapp.questionnaire.present import section_of_item

    with app.app_context(), tenancy.bypass():
        from webapp.models import Assessment

        a = db.session.get(Assessment, aid)
        fw = framework_of(a.framework_id, a.framework_version)
    fw_section = section_of_item(fw, "pzb-zj-standard")
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/assignments", data={"section": fw_section, "user_id": editor.id}
    )
    assert r.status_code in (302, 303), r.data
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    by_item = {a.items[0]: a for a in _actions(app, firm.id)}
    assert by_item["pzb-zj-standard"].owner_id == editor.id
    others = [a for i, a in by_item.items() if section_of_item(fw, i) != fw_section]
    assert others and all(a.owner_id == owner.id for a in others)


def test_the_form_keeps_the_input_and_speaks_the_users_language(app, owner_client):
    client, firm, owner = owner_client
    start(client, firm.id)
    # zh: a missing title is refused in Chinese, the rest of the form stays as typed, nothing saved
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={"title": "", "notes": "先和供应商开会", "status": "open", "due_on": "2027-01-15"},
    )
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "先和供应商开会" in text and "2027-01-15" in text
    assert "请改正" in text
    assert _actions(app, firm.id) == []
    # one framework per action
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={
            "title": "两个框架",
            "status": "open",
            "items": ["pinzibiao:pzb-zj-standard"],
            "targets": ["chief-quality-officer:cqo-ready"],
        },
    )
    assert r.status_code == 422 and _actions(app, firm.id) == []
    english(app, owner)
    r = client.post(f"/firms/{firm.id}/plan/new", data={"title": "", "status": "open"})
    assert r.status_code == 422 and "Please correct the fields" in r.get_data(as_text=True)
    # saved: items and targets of one framework, an owner, a due date
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={
            "title": "Publish the Zhejiang Made standard",
            "status": "in_progress",
            "items": ["pinzibiao:pzb-zj-standard"],
            "owner": str(owner.id),
            "due_on": "2027-01-15",
            "notes": "with the association",
        },
    )
    assert r.status_code == 303, r.data
    (a,) = _actions(app, firm.id)
    assert a.items == ["pzb-zj-standard"] and a.framework_id == "pinzibiao" and a.status == "in_progress"
    assert a.due_on == dt.date(2027, 1, 15) and a.owner_id == owner.id
    # edited to done: done_at set; the plan links it to the answer's history
    r = client.post(
        f"/firms/{firm.id}/plan/{a.id}",
        data={"title": a.title, "status": "done", "items": ["pinzibiao:pzb-zj-standard"]},
    )
    assert r.status_code == 303
    (a,) = _actions(app, firm.id)
    assert a.status == "done" and a.done_at is not None and a.owner_id is None
    page = client.get(f"/firms/{firm.id}/plan").get_data(as_text=True)
    assert "/items/pzb-zj-standard/history" in page


def test_an_owner_must_be_a_member_or_a_granted_consultant(app, owner_client, create_user):
    client, firm, _owner = owner_client
    stranger = create_user(name="外人")
    consultant = _consultant(app, create_user, firm)
    data = {"title": "x", "status": "open"}
    assert client.post(f"/firms/{firm.id}/plan/new", data={**data, "owner": stranger.id}).status_code == 422
    assert client.post(f"/firms/{firm.id}/plan/new", data={**data, "owner": consultant.id}).status_code == 303


def test_an_owner_must_be_someone_who_can_edit_the_firm(app, owner_client, create_user):
    """Members who only view and consultants whose grant is read-only are neither offered nor taken."""
    client, firm, _owner = owner_client
    people = {}
    for role in ("editor", "viewer"):
        people[role] = create_user(name=f"成员 {role}")
        with app.app_context():
            db.session.add(Membership(user_id=people[role].id, firm_id=firm.id, role=role))
            db.session.commit()
    people["edit"] = _consultant(app, create_user, firm, name="顾问 edit")
    people["read"] = _consultant(app, create_user, firm, access="read", name="顾问 read", code="RD")
    form = client.get(f"/firms/{firm.id}/plan/new").get_data(as_text=True)
    owner_select = form[form.index('name="owner"') : form.index("</select>", form.index('name="owner"'))]
    data = {"title": "x", "status": "open"}
    for who, can in (("editor", True), ("edit", True), ("viewer", False), ("read", False)):
        assert (f'value="{people[who].id}"' in owner_select) is can, who
        r = client.post(f"/firms/{firm.id}/plan/new", data={**data, "owner": people[who].id})
        assert r.status_code == (303 if can else 422), who
    # the edit grant becomes read-only: the action's page says its owner can no longer edit the firm
    with app.app_context(), tenancy.bypass():
        for g in db.session.scalars(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == firm.id)):
            g.access = "read"
        db.session.commit()
    action = next(a for a in _actions(app, firm.id) if a.owner_id == people["edit"].id)
    page = client.get(f"/firms/{firm.id}/plan/{action.id}").get_data(as_text=True)
    assert "负责人 顾问 edit 已无权编辑本企业的内容" in page


def test_done_actions_count_the_answer_changes_since(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    act = next(a for a in _actions(app, firm.id) if a.items == ["pzb-zj-standard"])
    version = rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")[0].version
    save(client, firm.id, aid, "pzb-zj-standard", version, value="published")
    r = client.post(
        f"/firms/{firm.id}/plan/{act.id}",
        data={"title": "Standard published", "status": "done", "items": ["pinzibiao:pzb-zj-standard"]},
    )
    assert r.status_code == 303
    page = client.get(f"/firms/{firm.id}/plan").get_data(as_text=True)
    assert "1 answer change since the action was made" in page


def test_progress_equals_a_rescore_of_the_current_answers(app, owner_client):
    from webapp.models import Assessment
    from webapp.questionnaire import answers

    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    fill(client, firm.id, aid, "pinzibiao", skip={"pzb-zj-standard"})  # answers improve after the plan

    def rescored():
        with app.app_context(), tenancy.bypass():
            a = db.session.get(Assessment, aid)
            fw = answers.framework(a)
            r = answers.score_states(
                a,
                fw,
                answers.answer_states(a.firm_id, a.id),
                answers.evidence_items(a.firm_id, a.id),
                a.firm,
                answers.scoring_date(a),
            )
            return {tr.id: tr for tr in r.targets}, {p.target: p for p in r.paths}, fw

    targets, paths, fw = rescored()
    page = client.get(f"/firms/{firm.id}/plan").get_data(as_text=True)
    progress = page[page.index("Progress toward the targets") : page.index('id="actions-title"')]
    served = {t for a in _actions(app, firm.id) for t in a.targets}
    assert served
    from webapp.questionnaire.present import num

    for tid in served:
        tr = targets[tid]
        title = next(x.title.en for x in fw.targets if x.id == tid)
        card = progress[progress.index(title) :]
        card = card[: card.index("The current verdict")]
        import decimal

        assert (
            f"score now {num(tr.score.quantize(decimal.Decimal('0.1')))}, threshold {num(tr.threshold)}"
            in card
        )
        steps = paths[tid].items if tr.readiness not in ("ready", "not_applicable") else ()
        assert card.count("<li>") == len(steps)


def test_another_firms_actions_are_never_visible(app, client, owner_client, create_user, create_firm, login):
    client_a, firm_a, owner_a = owner_client
    start(client_a, firm_a.id)
    client_a.post(
        f"/firms/{firm_a.id}/plan/new", data={"title": "甲的行动", "status": "open", "owner": owner_a.id}
    )
    (act,) = _actions(app, firm_a.id)
    owner_b = create_user()
    firm_b = create_firm("乙企业", owner=owner_b)
    other = login(app.test_client(), owner_b)
    assert other.get(f"/firms/{firm_a.id}/plan").status_code == 404
    assert other.get(f"/firms/{firm_a.id}/plan/{act.id}").status_code == 404
    assert other.get(f"/firms/{firm_b.id}/plan/{act.id}").status_code == 404
    assert (
        other.post(f"/firms/{firm_b.id}/plan/{act.id}", data={"title": "x", "status": "done"}).status_code
        == 404
    )
    assert "甲的行动" not in other.get("/actions/mine").get_data(as_text=True)


def test_a_consultant_works_through_the_grant_only(app, owner_client, create_user, login):
    client, firm, _owner = owner_client
    consultant = _consultant(app, create_user, firm)
    cons = login(app.test_client(), consultant)
    start(client, firm.id)
    r = cons.post(
        f"/firms/{firm.id}/plan/new",
        data={"title": "顾问的行动", "status": "open", "owner": consultant.id, "due_on": "2027-02-01"},
    )
    assert r.status_code == 303
    assert "顾问的行动" in cons.get("/actions/mine").get_data(as_text=True)
    cons.post("/actions/calendar", data={"do": "new"})
    page = cons.post("/actions/calendar", data={"do": "new"}).get_data(as_text=True)
    feed = re.search(r"http://[^/]+(/calendar/[^<\"]+\.ics)", page).group(1)
    assert "顾问的行动" in "".join(ical.unfold(app.test_client().get(feed).get_data(as_text=True)))
    # the firm revokes: at once, the plan is 404, my actions and the calendar forget the firm
    with app.app_context():
        grant = db.session.scalar(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == firm.id))
    assert client.post(f"/firms/{firm.id}/consultants/{grant.id}/revoke").status_code == 302
    assert cons.get(f"/firms/{firm.id}/plan").status_code == 404
    (act,) = _actions(app, firm.id)
    form = client.get(f"/firms/{firm.id}/plan/{act.id}").get_data(as_text=True)
    assert "陈顾问 Consultant 已无权编辑本企业的内容" in form
    assert "顾问的行动" not in cons.get("/actions/mine").get_data(as_text=True)
    text = app.test_client().get(feed)
    assert text.status_code == 200 and "顾问的行动" not in text.get_data(as_text=True)


def test_the_calendar_feed_is_rfc5545_and_revocable(app, owner_client):
    client, firm, owner = owner_client
    start(client, firm.id)
    long_title = "发布“浙江制造”标准; 联合行业协会, 起草 \\ 评审 " + "以及后续的宣贯与培训" * 4
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={
            "title": long_title,
            "status": "open",
            "owner": owner.id,
            "due_on": "2027-03-05",
            "notes": "第一行\n第二行",
        },
    )
    assert r.status_code == 303
    page = client.post("/actions/calendar", data={"do": "new"}).get_data(as_text=True)
    path = re.search(r"http://[^/]+(/calendar/[^<\"]+\.ics)", page).group(1)
    r = app.test_client().get(path)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    raw = r.get_data()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # never folded inside a character
    lines = ical.unfold(raw.decode("utf-8"))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "VERSION:2.0" in lines
    summary = next(x for x in lines if x.startswith("SUMMARY:"))
    assert summary == "SUMMARY:" + ical.escape(f"{long_title} · {firm.name}")
    assert "\\;" in summary and "\\," in summary and "\\\\" in summary
    assert "DESCRIPTION:第一行\\n第二行" in lines and "DTSTART;VALUE=DATE:20270305" in lines
    assert any(x.startswith("UID:action-") for x in lines) and any(x.startswith("DTSTAMP:") for x in lines)
    # the token is stored hashed; turning it off ends the address at once
    from webapp.models import CalendarFeed

    token = path.rsplit("/", 1)[1][: -len(".ics")]
    (feed_row,) = rows(app, CalendarFeed, user_id=owner.id, revoked_at=None)
    assert token not in feed_row.token_hash
    client.post("/actions/calendar", data={"do": "revoke"})
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get("/calendar/nonsense.ics").status_code == 404


def test_fold_and_escape():
    assert ical.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "质" * 40
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts) and all(p.startswith(" ") for p in parts[1:])
    assert ical.unfold(folded + "\r\n") == [line]
    assert ical.fold("X" * 75) == "X" * 75 and ical.fold("X" * 76) == "X" * 75 + "\r\n X"


def test_my_actions_in_zh_and_en(app, owner_client):
    client, firm, owner = owner_client
    start(client, firm.id)
    client.post(
        f"/firms/{firm.id}/plan/new",
        data={"title": "过期的行动", "status": "open", "owner": owner.id, "due_on": "2020-01-01"},
    )
    zh = client.get("/actions/mine").get_data(as_text=True)
    assert "我的行动" in zh and "过期的行动" in zh and "已逾期" in zh
    english(app, owner)
    en = client.get("/actions/mine").get_data(as_text=True)
    assert "My actions" in en and "overdue" in en and "pl-action overdue" in en


def test_the_weekly_digest_mails_overdue_and_upcoming_in_the_owners_language(
    app, owner_client, outbox, create_user, login
):
    from webapp.plan.services import today as plan_today

    client, firm, owner = owner_client
    start(client, firm.id)
    consultant = _consultant(app, create_user, firm)
    english(app, consultant)
    today = plan_today()
    for title, who, days in (
        ("逾期的整改", owner, -3),
        ("下周的整改", owner, 3),
        ("明年的整改", owner, 300),
        ("Consultant's review", consultant, 2),
    ):
        r = client.post(
            f"/firms/{firm.id}/plan/new",
            data={
                "title": title,
                "status": "open",
                "owner": who.id,
                "due_on": str(today + dt.timedelta(days=days)),
            },
        )
        assert r.status_code == 303, r.data
    result = app.test_cli_runner().invoke(args=["digest"])
    assert result.exit_code == 0 and "2 digest mails sent" in result.output, result.output
    mine = next(m for m in outbox if m.to == owner.email)
    assert "逾期的整改" in mine.body and "下周的整改" in mine.body and "明年的整改" not in mine.body
    assert f"逾期的整改 · {firm.name}" in mine.body
    assert (
        "已逾期" in mine.body
        and "1 项逾期" in mine.subject
        and "http://qready.test/actions/mine" in mine.body
    )
    theirs = next(m for m in outbox if m.to == consultant.email)
    assert (
        "Consultant's review" in theirs.body
        and "Overdue" not in theirs.body
        and "0 overdue" in theirs.subject
    )
    # the firm revokes the consultancy's grant: no more mail about its actions
    outbox.clear()
    with app.app_context():
        grant = db.session.scalar(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == firm.id))
    client.post(f"/firms/{firm.id}/consultants/{grant.id}/revoke")
    result = app.test_cli_runner().invoke(args=["digest"])
    assert "1 digest mails sent" in result.output and [m.to for m in outbox] == [owner.email]


def test_the_plan_is_in_the_report_with_owner_due_and_status(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={
            "title": "起草浙江制造团体标准",
            "status": "in_progress",
            "owner": owner.id,
            "due_on": "2027-04-30",
            "items": ["pinzibiao:pzb-zj-standard"],
        },
    )
    assert r.status_code == 303
    zh = client.get(f"/firms/{firm.id}/assessments/{aid}/report").get_data(as_text=True)
    part = zh[zh.index('id="actions"') :]
    part = part[: part.index("</section>")]
    assert "起草浙江制造团体标准" in part and "王丽 Owner" in part and "进行中" in part and "2027" in part
    en = client.get(f"/firms/{firm.id}/assessments/{aid}/report?lang=en").get_data(as_text=True)
    part = en[en.index('id="actions"') :]
    assert "Actions agreed" in part and "Status: In progress" in part and "Owner: 王丽 Owner" in part
    # a status change is a new report (the cache key names the actions)
    (act,) = _actions(app, firm.id)
    client.post(
        f"/firms/{firm.id}/plan/{act.id}",
        data={
            "title": act.title,
            "status": "done",
            "owner": owner.id,
            "items": ["pinzibiao:pzb-zj-standard"],
        },
    )
    en = client.get(f"/firms/{firm.id}/assessments/{aid}/report?lang=en").get_data(as_text=True)
    assert "Status: Done" in en[en.index('id="actions"') :]


def test_the_plan_in_the_api_only_for_the_firms_in_the_tokens_context(
    app, owner_client, create_user, create_firm
):
    from webapp.api import tokens as token_service
    from webapp.models import User

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    client.post(
        f"/firms/{firm.id}/plan/new",
        data={
            "title": "API 行动",
            "status": "open",
            "owner": owner.id,
            "due_on": "2027-01-02",
            "items": ["pinzibiao:pzb-zj-standard"],
        },
    )
    outsider = create_user()
    create_firm("别家", owner=outsider)
    with app.app_context():
        _r, mine = token_service.create(db.session.get(User, owner.id), "t")
        _r, theirs = token_service.create(db.session.get(User, outsider.id), "t")
        db.session.commit()
    api = app.test_client()
    for url in (f"/api/v1/firms/{firm.id}/actions", f"/api/v1/assessments/{aid}/actions"):
        r = api.get(url, headers={"Authorization": f"Bearer {mine}"})
        assert r.status_code == 200, r.json
        (a,) = r.json
        assert a["title"] == "API 行动" and a["owner"] == "王丽 Owner" and a["due_on"] == "2027-01-02"
        assert a["items"] == ["pzb-zj-standard"] and a["status"] == "open" and a["framework"] == "pinzibiao"
        assert api.get(url, headers={"Authorization": f"Bearer {theirs}"}).status_code == 404
    doc = api.get("/api/v1/openapi.json").json
    assert (
        "/firms/{firm_id}/actions" in doc["paths"] and "/assessments/{assessment_id}/actions" in doc["paths"]
    )


def test_the_plan_page_only_reads(app, owner_client):
    """Showing the progress scores the draft again but writes nothing (a GET)."""
    from webapp.models import Assessment

    client, firm, _owner = owner_client
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan")
    version = rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")[0].version
    save(client, firm.id, aid, "pzb-zj-standard", version, value="published")  # the kept numbers are stale
    (before,) = rows(app, Assessment, id=aid)
    assert before.scored_at is None
    assert client.get(f"/firms/{firm.id}/plan").status_code == 200
    (after,) = rows(app, Assessment, id=aid)
    assert after.scored_at is None and after.summary == before.summary


def test_a_gap_becomes_an_action_one_by_one(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    verdict = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    links = re.findall(r'href="(/firms/\d+/plan/new\?[^"]+)">Add to the plan<', verdict)
    assert links
    link = next(x for x in links if "pzb-zj-standard" in x).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert re.search(
        r'<option selected value="pinzibiao:pzb-zj-standard"|<option value="pinzibiao:pzb-zj-standard" selected',
        form,
    )
    from assessments.loader import load_framework

    action = load_framework("pinzibiao").item("pzb-zj-standard").action.en
    assert action[:40] in form
    r = client.post(
        f"/firms/{firm.id}/plan/new",
        data={"title": action, "status": "open", "items": ["pinzibiao:pzb-zj-standard"], "owner": owner.id},
    )
    assert r.status_code == 303
    verdict = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    assert "In the plan: Open" in verdict


def test_a_plan_for_a_second_target_reuses_the_open_actions(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "standards-adoption")
    with app.app_context():
        from webapp.models import Assessment
        from webapp.plan.services import score_now

        with tenancy.bypass():
            result = score_now(db.session.get(Assessment, aid))
    paths = {p.target: set(p.items) for p in result.paths}
    shared = [(x, y, paths[x] & paths[y]) for x in paths for y in paths if x < y and paths[x] & paths[y]]
    assert shared, paths  # two targets share a step
    first, second, common = shared[0]
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan", data={"target": first})
    n = len(_actions(app, firm.id))
    client.post(f"/firms/{firm.id}/assessments/{aid}/plan", data={"target": second})
    actions = _actions(app, firm.id)
    assert len(actions) == n + len(paths[second] - paths[first])
    for a in actions:
        if a.items[0] in common:
            assert set(a.targets) == {first, second}
