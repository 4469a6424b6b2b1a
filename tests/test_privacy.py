"""Data rights (PIPL): the privacy page, a person's own data as JSON, and everything of a firm as one zip
(JSON, the answers in XLSX, the evidence files), each for the right people only and each in the log."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from test_questionnaire import start, upload

from tests.conftest import PASSWORD
from webapp import db, tenancy
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Answer, AuditEvent, Comment, Membership
from webapp.reports import sample


def test_the_privacy_page_in_both_languages_and_in_every_footer(client):
    zh = client.get("/privacy")
    assert zh.status_code == 200
    html = zh.get_data(as_text=True)
    assert "隐私说明" in html and "保存多久" in html and "《网络安全法》第二十一条" in html
    en = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "What is kept" in en and "How long" in en and "Your rights" in en
    signin = client.get("/account/signin").get_data(as_text=True)
    assert 'href="/privacy"' in signin


def _comment(app, firm_id: int, assessment_id: int, author_id: int, body: str) -> None:
    with app.app_context(), tenancy.bypass():
        db.session.add(
            Comment(firm_id=firm_id, assessment_id=assessment_id, item_id="x", body=body, author_id=author_id)
        )
        db.session.commit()


def test_a_person_downloads_their_own_data(app, client, create_user, create_firm, login):
    me = create_user(email="me@privacy.cn", name="李娜")
    colleague = create_user(email="colleague@privacy.cn")
    firm = create_firm("杭州隐私科技有限公司", owner=colleague, members={"editor": me})
    left = create_firm("宁波旧东家有限公司", owner=colleague, region="330203")
    with app.app_context(), tenancy.bypass():
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default")
        old = sample.create_assessment(left.id, "chief-quality-officer", mode="default", seed=3)
        db.session.commit()
        aid, old_id = a.id, old.id
    _comment(app, firm.id, aid, me.id, "请补充质量手册 §3")
    _comment(app, left.id, old_id, me.id, "我离职前写的评论")  # a firm I no longer belong to
    _comment(app, firm.id, aid, colleague.id, "同事的评论")
    login(client, me)
    client.post("/account/tokens", data={"tk-name": "ERP"})

    r = client.post("/account/export")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    body = r.get_data(as_text=True)
    data = json.loads(body)
    assert data["account"]["email"] == "me@privacy.cn" and data["account"]["name"] == "李娜"
    assert "argon2" not in body and "password_hash" not in body
    assert data["memberships"] == [
        {
            "organisation_kind": "firm",
            "organisation_id": firm.id,
            "organisation": "杭州隐私科技有限公司",
            "role": "editor",
            "since": data["memberships"][0]["since"],
        }
    ]
    texts = {(c["firm"], c["text"]) for c in data["comments"]}
    assert texts == {
        ("杭州隐私科技有限公司", "请补充质量手册 §3"),
        ("宁波旧东家有限公司", "我离职前写的评论"),
    }
    (token,) = data["api_tokens"]
    assert token["name"] == "ERP" and token["starts_with"].startswith("qr_") and token["revoked_at"] is None
    with app.app_context():
        from webapp.models import ApiToken

        assert db.session.scalar(select(ApiToken.token_hash)) not in body
    assert [e["action"] for e in data["activity"]] == ["auth.signin", "token.created"]
    assert data["activity"][0]["address"] == "127.0.0.1"
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.personal_data")
        ).all()
    assert [(e.actor_id, e.target_id) for e in exported] == [(me.id, me.id)]


def test_a_person_sees_which_answers_they_changed(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id)
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/autosave",
        json={"item": "pzb-certified", "value": False},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.data
    data = json.loads(client.post("/account/export").get_data(as_text=True))
    (changed,) = data["answers_changed"]
    assert changed["item"] == "pzb-certified" and changed["assessment_id"] == aid
    assert changed["firm"] == firm.name and changed["framework"] == "pinzibiao"
    assert "value" not in json.dumps(changed)  # the firm's answer is the firm's data


def test_a_firm_owner_downloads_everything_of_the_firm(app, owner_client, create_user, create_firm):
    client, firm, owner = owner_client
    other = create_firm("别家企业", owner=create_user(email="other@privacy.cn"), region="330203")
    aid = start(client, firm.id)
    cert = pdf_bytes("certificate")
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", cert).status_code == 303
    with app.app_context(), tenancy.bypass():
        done = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        theirs = sample.create_assessment(other.id, "chief-quality-officer", mode="default", seed=5)
        db.session.flush()
        first = db.session.scalar(select(Answer).where(Answer.assessment_id == done.id).order_by(Answer.id))
        # text a firm typed that a spreadsheet would run as a formula
        db.session.execute(
            update(Answer).where(Answer.id == first.id).values(narrative='=HYPERLINK("http://x")')
        )
        db.session.commit()
        done_id, theirs_id, first_item = done.id, theirs.id, first.item_id

    with client.post(f"/firms/{firm.id}/export") as r:
        assert r.status_code == 200 and r.mimetype == "application/zip"
        assert "filename*=UTF-8''" in r.headers["Content-Disposition"]  # the firm's Chinese name
        zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    assert "firm.json" in names and "answers.xlsx" in names
    (evidence_path,) = [n for n in names if n.startswith("evidence/")]
    assert evidence_path.endswith("/pzb-certified/证书.pdf") and zf.read(evidence_path) == cert

    data = json.loads(zf.read("firm.json"))
    assert data["firm"]["name"] == firm.name and data["firm"]["credit_code"] == firm.credit_code
    assert [m["email"] for m in data["members"]] == [owner.email]
    assert {a["id"] for a in data["assessments"]} == {aid, done_id}  # never another firm's
    draft = next(a for a in data["assessments"] if a["id"] == aid)
    assert draft["evidence"][0]["in_this_zip"] == evidence_path
    assert [h["evidence"] for h in draft["history"]] == ["added"]
    assert draft["history"][0]["changed_by"] == owner.email
    submitted = next(a for a in data["assessments"] if a["id"] == done_id)
    assert len(submitted["answers"]) > 10 and submitted["created_by"] == owner.email
    assert str(theirs_id) not in {str(a["id"]) for a in data["assessments"]}

    ws = load_workbook(io.BytesIO(zf.read("answers.xlsx"))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "assessment_id" and len(rows) == 1 + len(submitted["answers"])
    (hostile,) = [row for row in rows[1:] if row[5] == first_item]
    assert hostile[10] == '=HYPERLINK("http://x")'
    cell = next(c for c in ws[rows.index(hostile) + 1] if c.column == 11)
    assert cell.data_type == "s"  # text, not a formula
    assert hostile[6] and hostile[7]  # the question in Chinese and in English

    with app.app_context():
        (e,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.firm_data")).all()
    # the sample assessment's evidence rows name no stored file: listed as missing, the rest exported
    assert "missing-files.txt" in names
    assert (e.firm_id, e.actor_id, e.detail) == (
        firm.id,
        owner.id,
        {"missing_files": len(submitted["evidence"])},
    )


def test_only_a_firms_owners_download_the_firm(app, client, create_user, create_firm, login):
    owner = create_user(email="boss@privacy.cn")
    editor = create_user(email="editor@privacy.cn")
    outsider = create_user(email="outsider@privacy.cn")
    firm = create_firm(owner=owner, members={"editor": editor})
    create_firm("别家", owner=outsider, region="330203")
    login(client, editor)
    assert client.post(f"/firms/{firm.id}/export").status_code == 403
    assert "/export" not in client.get(f"/firms/{firm.id}/profile").get_data(as_text=True)
    client.post("/account/signout")
    login(client, outsider)
    assert client.post(f"/firms/{firm.id}/export").status_code == 404
    with app.app_context():
        assert (
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.firm_data")).all() == []
        )


def test_a_missing_evidence_file_is_listed_not_fatal(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id)
    upload(client, firm.id, aid, "pzb-certified", "gone.pdf", pdf_bytes("gone"))
    from webapp.models import Evidence
    from webapp.questionnaire import storage

    with app.app_context(), tenancy.bypass():
        key = db.session.scalar(select(Evidence.storage_key))
        storage.store(app).delete(key)
    with client.post(f"/firms/{firm.id}/export") as r:
        zf = zipfile.ZipFile(io.BytesIO(r.data))
    assert not [n for n in zf.namelist() if n.startswith("evidence/")]
    assert re.search(r"gone\.pdf", zf.read("missing-files.txt").decode())
    data = json.loads(zf.read("firm.json"))
    assert data["assessments"][0]["evidence"][0]["in_this_zip"] is None
    with app.app_context():
        assert db.session.scalar(select(Membership.role).where(Membership.firm_id == firm.id)) == "owner"


# ---- deleting an account --------------------------------------------------------------------------


def test_a_person_deletes_their_account_and_what_they_wrote_stays_the_firms(
    app, client, create_user, create_firm, login
):
    owner = create_user(email="owner@leaving.cn", name="王丽")
    leaver = create_user(email="leaver@leaving.cn", name="张伟")
    firm = create_firm(owner=owner, members={"editor": leaver})
    login(client, leaver)
    aid = start(client, firm.id)
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/comments", data={"item": "pzb-certified", "body": "证书下月到期"}
    )
    assert r.status_code in (302, 303)
    client.post("/account/tokens", data={"tk-name": "ERP"})

    r = client.post("/account/delete", data={"password": "not-my-password"}, follow_redirects=True)
    assert "密码不正确，账号未删除。" in r.get_data(as_text=True)
    r = client.post("/account/delete", data={"password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert client.get("/account/settings").status_code == 302  # signed out
    r = client.post("/account/signin", data={"email": "leaver@leaving.cn", "password": PASSWORD})
    assert r.status_code == 401

    with app.app_context(), tenancy.bypass():
        from webapp.models import ApiToken, User

        row = db.session.get(User, leaver.id)
        assert (row.name, row.is_active_account) == ("", False)
        assert "leaver" not in row.email and row.email.endswith("@deleted.invalid")
        assert db.session.scalars(select(Membership).where(Membership.user_id == leaver.id)).all() == []
        assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == leaver.id)).all() == []
        assert db.session.scalar(select(Comment.body).where(Comment.author_id == leaver.id)) == "证书下月到期"
        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.deleted")).all()
        assert (event.actor_id, event.target_label) == (leaver.id, "leaver@leaving.cn")

    other = app.test_client()
    login(other, owner)
    page = other.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "证书下月到期" in page and "一位前成员" in page and "张伟" not in page


def test_the_only_owner_cannot_leave_a_firm_without_an_owner(app, client, create_user, create_firm, login):
    owner = create_user(email="sole@leaving.cn")
    create_firm("杭州唯一所有者有限公司", owner=owner)
    login(client, owner)
    r = client.post("/account/delete", data={"password": PASSWORD}, follow_redirects=True)
    assert "您是杭州唯一所有者有限公司唯一的所有者" in r.get_data(as_text=True)
    with app.app_context():
        from webapp.models import User

        assert db.session.get(User, owner.id).is_active_account is True
    assert client.get("/account/settings").status_code == 200
    # once the firm is on its way out, the owner may go
    with app.app_context():
        firm_id = db.session.scalar(select(Membership.firm_id).where(Membership.user_id == owner.id))
    client.post(f"/firms/{firm_id}/delete", data={"name": "杭州唯一所有者有限公司"})
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    assert client.get("/account/settings").status_code == 302


# ---- deleting a firm ------------------------------------------------------------------------------


def test_an_owner_deletes_the_firm_and_may_restore_it_for_30_days(app, owner_client):
    client, firm, _owner = owner_client
    page = client.get(f"/firms/{firm.id}/delete").get_data(as_text=True)
    assert "删除杭州测试机械有限公司" in page and "30 天" in page
    r = client.post(f"/firms/{firm.id}/delete", data={"name": "杭州测试"})
    assert r.status_code == 422 and "请按显示的内容准确输入企业名称以确认。" in r.get_data(as_text=True)
    with app.app_context(), tenancy.bypass():
        from webapp.models import Firm

        assert db.session.get(Firm, firm.id).deletion_due_at is None

    before = db.utcnow()
    r = client.post(f"/firms/{firm.id}/delete", data={"name": " 杭州测试机械有限公司 "})
    assert r.status_code == 302
    with app.app_context(), tenancy.bypass():
        due = db.session.get(Firm, firm.id).deletion_due_at
    assert 29.9 < (due - before).total_seconds() / 86400 < 30.1
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    assert "本企业将于" in home and "恢复企业" in home  # the firm still works, with a notice
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    local_day = format_date(due.astimezone(ZoneInfo("Asia/Shanghai")).date(), "medium", locale="zh")
    assert f"删除日期 {local_day}" in client.get(f"/firms/{firm.id}/activity").get_data(as_text=True)
    assert client.post(f"/firms/{firm.id}/restore").status_code == 302
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Firm, firm.id).deletion_due_at is None
        got = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.firm_id == firm.id).order_by(AuditEvent.id)
        ).all()
    assert got == ["firm.deletion_scheduled", "firm.restored"]
    assert "本企业将于" not in client.get(f"/firms/{firm.id}/").get_data(as_text=True)


def test_only_owners_delete_a_firm(client, create_user, create_firm, login):
    owner = create_user(email="o@del.cn")
    editor = create_user(email="e@del.cn")
    outsider = create_user(email="x@del.cn")
    firm = create_firm(owner=owner, members={"editor": editor})
    create_firm("别家", owner=outsider, region="330203")
    login(client, editor)
    assert client.post(f"/firms/{firm.id}/delete", data={"name": firm.name}).status_code == 403
    assert client.post(f"/firms/{firm.id}/restore").status_code == 403
    client.post("/account/signout")
    login(client, outsider)
    assert client.post(f"/firms/{firm.id}/delete", data={"name": firm.name}).status_code == 404


def test_the_purge_deletes_due_firms_with_their_files_and_keeps_the_rest(app, owner_client, create_firm):
    import datetime as dt

    from webapp.models import Assessment, Evidence, Firm
    from webapp.questionnaire import storage

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("cert"))
    kept = create_firm("宁波保留有限公司", owner=owner, region="330203")
    with app.app_context(), tenancy.bypass():
        key = db.session.scalar(select(Evidence.storage_key).where(Evidence.firm_id == firm.id))
        assert storage.store(app).get(key) == pdf_bytes("cert")
        db.session.get(Firm, firm.id).deletion_due_at = db.utcnow() - dt.timedelta(minutes=1)
        db.session.get(Firm, kept.id).deletion_due_at = db.utcnow() + dt.timedelta(days=3)
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["privacy", "purge-firms"])
    assert result.exit_code == 0, result.output
    assert f"Deleted firm {firm.id}" in result.output and "1 evidence files" in result.output
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Firm, firm.id) is None
        assert db.session.get(Firm, kept.id) is not None
        assert db.session.scalars(select(Assessment).where(Assessment.firm_id == firm.id)).all() == []
        assert db.session.scalars(select(Membership).where(Membership.firm_id == firm.id)).all() == []
        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "firm.deleted")).all()
        assert (event.firm_id, event.actor_id, event.via, event.target_label) == (
            firm.id,
            None,
            "cli",
            "杭州测试机械有限公司",
        )
    with pytest.raises(FileNotFoundError):
        storage.store(app).get(key)
    assert "No firm is due" in app.test_cli_runner().invoke(args=["privacy", "purge-firms"]).output


def test_the_firm_export_names_outsiders_as_the_firms_pages_do(app, owner_client, create_user):
    """Members by their address (the members page shows it); a consultant who commented by name only."""
    client, firm, owner = owner_client
    adviser = create_user(email="adviser@consulting.cn", name="陈顾问")
    aid = start(client, firm.id)
    _comment(app, firm.id, aid, adviser.id, "建议补充计量器具检定记录")
    _comment(app, firm.id, aid, owner.id, "收到")
    with client.post(f"/firms/{firm.id}/export") as r:
        data = json.loads(zipfile.ZipFile(io.BytesIO(r.data)).read("firm.json"))
    by = {c["text"]: c["by"] for c in data["assessments"][0]["comments"]}
    assert by == {"建议补充计量器具检定记录": "陈顾问", "收到": owner.email}
    assert "adviser@consulting.cn" not in json.dumps(data, ensure_ascii=False)
