"""The audit log: what is recorded (sign-ins, failed ones, memberships, grants, tokens, exports,
deletions, plan changes), from where, in the action's own transaction, never changed afterwards, and
who may read it (a firm's owners their firm's; platform admins everything)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from test_questionnaire import start, upload

from tests.conftest import PASSWORD, link_in
from webapp import audit, create_app, db, tenancy
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import AuditEvent, Consultancy, Invitation, Membership
from webapp.models.audit import AuditLogIsAppendOnly
from webapp.reports import sample

# Tests that commit for real (tests/test_committed_accounts.py) leave their events behind: the log is
# append-only. Each test here looks only at the events written after it started.
_SINCE = {"id": 0}


@pytest.fixture(autouse=True)
def _only_this_tests_events(app, dbconn):
    with app.app_context():
        _SINCE["id"] = db.session.scalar(select(func.max(AuditEvent.id))) or 0


def events(app, **where: Any) -> list[AuditEvent]:
    with app.app_context():
        q = select(AuditEvent).where(AuditEvent.id > _SINCE["id"]).order_by(AuditEvent.id)
        for key, value in where.items():
            q = q.where(getattr(AuditEvent, key) == value)
        return list(db.session.scalars(q))


def actions(app, **where: Any) -> list[str]:
    return [e.action for e in events(app, **where)]


def table_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>")[:-1]]


# ---- sign-ins -------------------------------------------------------------------------------------


def test_sign_ins_are_recorded_and_failed_ones_survive_their_rolled_back_request(app, client, create_user):
    user = create_user(email="li@audit.cn")
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    spoofed = {"X-Forwarded-For": "198.51.100.1"}  # no proxy is configured: anyone can send this

    r = client.post(
        "/account/signin",
        data={"email": "li@audit.cn", "password": "not-the-password"},
        environ_base=remote,
        headers=spoofed,
    )
    assert r.status_code == 401  # the request rolls back ...
    r = client.post(
        "/account/signin", data={"email": "Nobody@Audit.cn", "password": PASSWORD}, environ_base=remote
    )
    assert r.status_code == 401
    r = client.post(
        "/account/signin", data={"email": "li@audit.cn", "password": PASSWORD}, environ_base=remote
    )
    assert r.status_code == 302

    failed, unknown, ok = events(app)  # ... and the failed attempts are kept all the same
    assert failed.action == "auth.signin_failed" and failed.actor_id is None
    assert (failed.target_type, failed.target_id, failed.target_label) == ("user", user.id, "li@audit.cn")
    assert failed.ip == "203.0.113.7" and failed.via == "web"
    assert unknown.action == "auth.signin_failed" and unknown.target_label == "nobody@audit.cn"
    assert unknown.target_id is None
    assert ok.action == "auth.signin" and (ok.actor_id, ok.actor_email) == (user.id, "li@audit.cn")
    assert ok.ip == "203.0.113.7" and ok.created_at is not None


def test_the_address_comes_from_a_proxy_only_when_one_is_configured(app, dbconn, create_user):
    create_user(email="proxy@audit.cn")
    behind = create_app({**app.config, "TRUSTED_PROXIES": 1})
    behind.extensions["qready.db"]["session_options"] = {
        "bind": dbconn,
        "join_transaction_mode": "create_savepoint",
    }
    try:
        r = behind.test_client().post(
            "/account/signin",
            data={"email": "proxy@audit.cn", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
            headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.50"},  # the proxy appended the client
        )
        assert r.status_code == 302
    finally:
        db.dispose(behind)
    (e,) = events(app)
    assert e.action == "auth.signin" and e.ip == "203.0.113.50"


def test_sign_outs_and_an_admins_sign_out_everywhere_are_recorded(app, client, create_user, login):
    user = create_user(email="out@audit.cn")
    login(client, user)
    assert client.post("/account/signout").status_code == 302
    (out,) = events(app, action="auth.signout")
    assert (out.actor_id, out.target_id, out.target_label) == (user.id, user.id, "out@audit.cn")
    assert client.post("/account/signout").status_code == 302  # signed out already: nothing to record
    assert actions(app, action="auth.signout") == ["auth.signout"]

    admin = create_user(email="root@audit.cn", admin=True)
    login(client, admin)
    assert client.post(f"/admin/users/{user.id}/signout").status_code == 302
    (ended,) = events(app, action="auth.signed_out_by_admin")
    assert (ended.actor_id, ended.target_id, ended.target_label) == (admin.id, user.id, "out@audit.cn")
    page = client.get("/admin/activity").get_data(as_text=True)
    assert "被管理员在所有设备上退出登录" in page and "已在所有设备上退出登录" in page


def test_password_changes_and_tokens_are_recorded(app, client, create_user, login):
    user = create_user(email="tok@audit.cn")
    login(client, user)
    r = client.post("/account/tokens", data={"tk-name": "ERP 接口"})
    assert r.status_code == 200
    token_id = int(re.search(r"/account/tokens/(\d+)/revoke", r.get_data(as_text=True)).group(1))
    client.post(f"/account/tokens/{token_id}/revoke")
    client.post(
        "/account/password",
        data={
            "pw-current": PASSWORD,
            "pw-password": "another-long-password",
            "pw-confirm": "another-long-password",
        },
    )
    created, revoked, changed = events(app, actor_id=user.id)[1:]
    assert created.action == "token.created" and created.target_label == "ERP 接口"
    assert created.detail["prefix"].startswith("qr_") and created.target_id == token_id
    assert revoked.action == "token.revoked" and revoked.target_id == token_id
    assert changed.action == "auth.password_changed"

    result = app.test_cli_runner().invoke(args=["tokens", "create", "tok@audit.cn", "--name", "CLI"])
    assert result.exit_code == 0
    cli = events(app)[-1]
    assert (cli.action, cli.via, cli.actor_id, cli.target_label) == ("token.created", "cli", None, "CLI")


# ---- memberships and grants -----------------------------------------------------------------------


def test_membership_changes_are_recorded_with_the_firm(app, client, owner_client, create_user, login, outbox):
    client, firm, owner = owner_client
    client.post(f"/firms/{firm.id}/members/invite", data={"email": "First@Audit.cn", "role": "viewer"})
    first = events(app, action="member.invited")[0]
    client.post(f"/firms/{firm.id}/members/invitations/{first.target_id}/revoke")
    client.post(f"/firms/{firm.id}/members/invite", data={"email": "zhao@audit.cn", "role": "editor"})
    link = link_in(outbox[-1].body)

    invitee = create_user(email="zhao@audit.cn", name="赵强")
    other = app.test_client()
    login(other, invitee)
    assert other.post(link).status_code == 302
    with app.app_context():
        m = db.session.scalar(select(Membership).where(Membership.user_id == invitee.id))
    assert client.post(f"/firms/{firm.id}/members/{m.id}/role", data={"role": "viewer"}).status_code == 302
    assert client.post(f"/firms/{firm.id}/members/{m.id}/remove").status_code == 302

    got = events(app, firm_id=firm.id)
    assert [e.action for e in got] == [
        "member.invited",
        "member.invitation_revoked",
        "member.invited",
        "member.invitation_accepted",
        "member.role_changed",
        "member.removed",
    ]
    invited, revoked, _again, accepted, changed, removed = got
    assert invited.target_label == "first@audit.cn" and invited.detail == {"role": "viewer"}
    assert revoked.target_id == invited.target_id and revoked.actor_id == owner.id
    assert accepted.actor_id == invitee.id and accepted.detail == {"role": "editor"}
    assert changed.target_id == invitee.id and changed.detail == {"old": "editor", "new": "viewer"}
    assert removed.target_label == "zhao@audit.cn" and removed.detail == {"role": "viewer"}
    assert all(e.actor_email for e in got)


def test_the_last_owner_keeps_the_role_and_nothing_is_recorded(app, owner_client):
    client, firm, owner = owner_client
    with app.app_context():
        mine = db.session.scalar(select(Membership.id).where(Membership.user_id == owner.id))
    r = client.post(f"/firms/{firm.id}/members/{mine}/role", data={"role": "viewer"}, follow_redirects=True)
    assert "企业至少需要一名所有者" in r.get_data(as_text=True)
    assert actions(app, firm_id=firm.id) == []
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Membership, mine).role == "owner"


def test_consultancy_grants_and_revocations_are_recorded(app, owner_client):
    client, firm, _owner = owner_client
    with app.app_context():
        c = Consultancy(name="浙江卓越质量咨询", code="AUDIT1")
        db.session.add(c)
        db.session.commit()
    client.post(f"/firms/{firm.id}/consultants", data={"code": "audit1"})
    client.post(f"/firms/{firm.id}/consultants", data={"code": "AUDIT1"})  # already granted: no change
    with app.app_context():
        from webapp.models import ConsultancyGrant

        grant = db.session.scalar(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == firm.id))
    client.post(f"/firms/{firm.id}/consultants/{grant.id}/revoke")
    granted, revoked = events(app, firm_id=firm.id)
    assert granted.action == "consultancy.granted" and revoked.action == "consultancy.revoked"
    for e in (granted, revoked):
        assert (e.org_kind, e.org_id, e.target_label) == ("consultancy", c.id, "浙江卓越质量咨询")


def test_a_rolled_back_action_leaves_no_event(app, owner_client, monkeypatch):
    client, firm, _owner = owner_client

    def mail_down(*_args, **_kwargs):
        raise ConnectionError("the mail server is down")

    monkeypatch.setattr("webapp.mail.send", mail_down)
    with pytest.raises(ConnectionError):
        client.post(f"/firms/{firm.id}/members/invite", data={"email": "wang@audit.cn", "role": "editor"})
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []  # no earlier test committed one
    assert actions(app) == ["auth.signin"]  # the owner's sign-in, and no invitation


# ---- exports and deletions ------------------------------------------------------------------------


def test_evidence_downloads_and_deletions_and_discarded_drafts_are_recorded(app, owner_client):
    client, firm, _owner = owner_client
    aid = start(client, firm.id)
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("cert")).status_code == 303
    assert actions(app) == ["auth.signin"]  # an upload is neither an export nor a deletion
    html = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    evidence_id = int(re.search(rf"/assessments/{aid}/evidence/(\d+)\"", html).group(1))
    assert client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{evidence_id}").status_code == 200
    client.post(f"/firms/{firm.id}/assessments/{aid}/evidence/{evidence_id}/delete")
    client.post(f"/firms/{firm.id}/assessments/{aid}/discard", data={"confirm": "1"})

    downloaded, deleted, discarded = events(app, firm_id=firm.id)
    assert downloaded.action == "export.evidence" and downloaded.target_label == "证书.pdf"
    assert downloaded.detail == {"assessment": aid, "item": "pzb-certified"}
    assert deleted.action == "evidence.deleted" and deleted.target_id == evidence_id
    assert discarded.action == "assessment.draft_discarded" and discarded.target_id == aid
    assert discarded.detail == {"framework": "pinzibiao", "version": discarded.detail["version"], "round": 1}

    client.post("/lang/en")
    page = client.get(f"/firms/{firm.id}/activity").get_data(as_text=True)
    rows = table_rows(page)
    assert "Draft round discarded" in rows[0] and ", round 1" in rows[0]
    assert "Evidence file downloaded" in rows[2] and "证书.pdf" in rows[2]


def test_report_downloads_and_bulk_zips_are_recorded(
    app, client, create_user, create_firm, login, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "REPORT_CACHE_DIR", str(tmp_path / "cache"))
    owner = create_user(email="boss@audit.cn")
    consultant = create_user(email="adviser@audit.cn")
    firm = create_firm("杭州审计阀门有限公司", owner=owner)
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="审计咨询", code="AUDIT2")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        from webapp.models import ConsultancyGrant

        db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        db.session.commit()
        aid = a.id
    login(client, owner)
    r = client.get(f"/firms/{firm.id}/assessments/{aid}/report.pdf?lang=en")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    client.post("/account/signout")
    login(client, consultant)
    r = client.post("/consultant/reports", data={"assessment": [str(aid)], "format": "html", "lang": "zh"})
    assert r.status_code == 302 and "/consultant/reports/jobs/" in r.headers["Location"]  # queued

    pdf, bulk = events(app, firm_id=firm.id)
    assert (pdf.action, pdf.actor_id, pdf.target_id) == ("export.report", owner.id, aid)
    assert pdf.detail["format"] == "pdf" and pdf.detail["lang"] == "en"
    assert pdf.detail["framework"] == "chief-quality-officer"
    assert (bulk.action, bulk.actor_id, bulk.org_kind, bulk.org_id) == (
        "export.bulk_reports",
        consultant.id,
        "consultancy",
        c.id,
    )
    assert bulk.detail == {"count": 1, "assessments": [aid], "format": "html", "lang": "zh"}


def test_api_report_downloads_are_recorded_as_the_tokens_user(app, client, owner_client):
    _client, firm, owner = owner_client
    from webapp.api import tokens as token_service

    with app.app_context(), tenancy.bypass():
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        _row, token = token_service.create(db.session.get(type(owner), owner.id), "ERP")
        db.session.commit()
        aid = a.id
    api = app.test_client()
    r = api.get(
        f"/api/v1/assessments/{aid}/report?format=html&lang=zh",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    (e,) = events(app, action="export.report")
    assert (e.via, e.actor_id, e.firm_id, e.detail["format"]) == ("api", owner.id, firm.id, "html")


# ---- plan changes ---------------------------------------------------------------------------------


def test_an_admins_grant_of_a_plan_is_in_the_audit_log_with_the_firm(
    app, client, create_user, create_firm, login
):
    firm = create_firm()
    admin = create_user(email="grants@audit.cn", admin=True)
    login(client, admin)
    r = client.post(
        "/admin/billing/grant", data={"org": f"firm:{firm.id}", "plan": "firm_pro", "reason": "试点企业"}
    )
    assert r.status_code == 303
    (e,) = events(app, action="plan.changed")
    assert e.firm_id == firm.id and (e.actor_id, e.actor_email, e.via) == (admin.id, "grants@audit.cn", "web")
    assert e.detail == {"old": "free", "new": "firm_pro", "source": "grant", "reason": "试点企业"}


def test_billing_records_a_plan_change_with_the_function_it_calls(app, dbconn, create_firm):
    firm = create_firm()
    with app.app_context():
        audit.plan_changed(firm_id=firm.id, old="free", new="pro", source="webhook", actor=None)
        db.session.commit()
    (e,) = events(app, firm_id=firm.id)
    assert e.action == "plan.changed" and e.actor_id is None and e.via == "cli"
    assert e.detail == {"old": "free", "new": "pro", "source": "webhook"}


def test_an_unknown_action_or_an_oversized_detail_is_refused(app, dbconn):
    with app.app_context():
        with pytest.raises(ValueError):
            audit.record("member.hacked")
        with pytest.raises(ValueError):
            audit.record("plan.changed", detail={"blob": "x" * 5000})


# ---- append-only ----------------------------------------------------------------------------------


def _one_event(app) -> int:
    with app.app_context():
        e = audit.record("plan.changed", detail={"old": None, "new": "pro", "source": "admin"})
        db.session.commit()
        return e.id


def test_the_app_never_changes_or_deletes_an_event(app, dbconn):
    event_id = _one_event(app)
    with app.app_context():
        e = db.session.get(AuditEvent, event_id)
        e.detail = {"new": "free"}
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event_id))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(update(AuditEvent).values(action="auth.signin"))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(delete(AuditEvent))
    assert [(e.id, e.detail["new"]) for e in events(app)] == [(event_id, "pro")]


def test_the_database_refuses_to_change_or_delete_an_event(app, dbconn):
    event_id = _one_event(app)
    statements = ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]
    if dbconn.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_events")
    for sql in statements:
        nested = dbconn.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            dbconn.execute(text(sql))
        nested.rollback()
    assert [e.id for e in events(app)] == [event_id]


# ---- who reads it ---------------------------------------------------------------------------------


@pytest.fixture
def two_firms(app, client, create_user, create_firm):
    owner = create_user(email="owner@audit.cn", name="王丽")
    editor = create_user(email="editor@audit.cn")
    viewer = create_user(email="viewer@audit.cn")
    other_owner = create_user(email="other@audit.cn")
    firm = create_firm("杭州审计机械有限公司", owner=owner, members={"editor": editor, "viewer": viewer})
    other = create_firm("宁波别家审计有限公司", owner=other_owner, region="330203")
    with app.app_context():
        audit.record(
            "member.invited",
            firm_id=firm.id,
            target=("invitation", 1, "mine@audit.cn"),
            detail={"role": "editor"},
            actor=None,
        )
        audit.record(
            "member.invited",
            firm_id=other.id,
            target=("invitation", 2, "theirs@audit.cn"),
            detail={"role": "viewer"},
            actor=None,
        )
        audit.plan_changed(firm_id=firm.id, old="free", new="pro", source="admin", actor=None)
        db.session.commit()
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "other_owner": other_owner,
        "firm": firm,
        "other": other,
    }


def test_a_firm_owner_sees_the_firms_activity_in_both_languages(client, login, two_firms):
    w = two_firms
    login(client, w["owner"])
    zh = client.get(f"/firms/{w['firm'].id}/activity")
    assert zh.status_code == 200
    html = zh.get_data(as_text=True)
    assert "操作记录" in html and "发送邀请" in html and "mine@audit.cn（编辑者）" in html
    assert "theirs@audit.cn" not in html  # another firm's event
    assert f'href="/firms/{w["firm"].id}/activity"' in html  # in the owner's navigation
    client.post("/lang/en")
    en = client.get(f"/firms/{w['firm'].id}/activity").get_data(as_text=True)
    rows = table_rows(en)
    assert len(rows) == 2
    assert "Plan changed" in rows[0] and "free → pro (admin)" in rows[0]
    assert "Invitation sent" in rows[1] and "mine@audit.cn as Editor" in rows[1]
    assert "Nobody signed in" in rows[1]

    only = client.get(f"/firms/{w['firm'].id}/activity?action=plan.changed").get_data(as_text=True)
    assert len(table_rows(only)) == 1 and "Plan changed" in table_rows(only)[0]
    # the other firm's log is not there for this owner, not even its existence
    assert client.get(f"/firms/{w['other'].id}/activity").status_code == 404


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_do_not_see_the_activity(client, login, two_firms, role):
    login(client, two_firms[role])
    firm_id = two_firms["firm"].id
    assert client.get(f"/firms/{firm_id}/activity").status_code == 403
    assert f"/firms/{firm_id}/activity" not in client.get(f"/firms/{firm_id}/").get_data(as_text=True)


def test_the_activity_is_paginated(app, client, login, two_firms):
    w = two_firms
    with app.app_context():
        for n in range(55):
            audit.record(
                "export.evidence",
                firm_id=w["firm"].id,
                target=("evidence", n + 1, f"file-{n:02d}.pdf"),
                actor=None,
            )
        db.session.commit()
    login(client, w["owner"])
    first = client.get(f"/firms/{w['firm'].id}/activity?action=export.evidence").get_data(as_text=True)
    assert len(table_rows(first)) == 50 and "file-54.pdf" in table_rows(first)[0]
    assert f"/firms/{w['firm'].id}/activity?page=2&amp;action=export.evidence" in first
    second = client.get(f"/firms/{w['firm'].id}/activity?action=export.evidence&page=2").get_data(
        as_text=True
    )
    assert len(table_rows(second)) == 5 and "file-00.pdf" in table_rows(second)[-1]
    assert "page=3" not in second
    assert client.get(f"/firms/{w['firm'].id}/activity?page=99999999999").status_code == 200


def test_platform_admins_see_everything_and_filter_it(app, client, create_user, login, two_firms):
    w = two_firms
    admin = create_user(email="admin@audit.cn", admin=True)
    login(client, w["other_owner"])  # a sign-in event by the other firm's owner
    assert client.get("/admin/activity").status_code == 403
    client.post("/account/signout")
    login(client, admin)
    client.post("/lang/en")
    everything = table_rows(client.get("/admin/activity").get_data(as_text=True))
    # newest first: a sign-in, the sign-out and sign-in before it, the plan, two invitations (then what
    # earlier tests committed)
    labels = ("Signed in", "Signed out on every device", "Plan changed", "Invitation sent")
    assert [next(label for label in labels if label in row) for row in everything[:6]] == [
        "Signed in",
        "Signed out on every device",
        "Signed in",
        "Plan changed",
        "Invitation sent",
        "Invitation sent",
    ]
    assert "admin@audit.cn" in everything[0] and "other@audit.cn" in everything[1]
    assert "other@audit.cn" in everything[2]

    by_firm = table_rows(client.get(f"/admin/activity?org=firm:{w['other'].id}").get_data(as_text=True))
    assert "theirs@audit.cn" in by_firm[0] and "宁波别家审计有限公司" in by_firm[0]
    assert not any("mine@audit.cn" in row or "Plan changed" in row for row in by_firm)
    by_user = table_rows(client.get("/admin/activity?user=OTHER@audit.cn").get_data(as_text=True))
    assert len(by_user) == 2 and "Signed out on every device" in by_user[0] and "Signed in" in by_user[1]
    by_action = table_rows(client.get("/admin/activity?action=member.invited").get_data(as_text=True))
    assert "theirs@audit.cn" in by_action[0] and "mine@audit.cn" in by_action[1]
    assert all("Invitation sent" in row for row in by_action)
    client.post("/lang/zh")
    zh = client.get("/admin/activity").get_data(as_text=True)
    assert "平台操作记录" in zh and "登录" in zh


# ---- pruning past the retention ------------------------------------------------------------------


def _aged_events(app, *days_ago: int) -> dict[int, int]:
    """One event per age (days before now), inserted as they would have been written then."""
    import datetime as dt

    ids = {}
    with app.app_context():
        for days in days_ago:
            e = audit.record(
                "plan.changed", detail={"old": None, "new": "pro", "source": "admin"}, actor=None
            )
            e.created_at = db.utcnow() - dt.timedelta(days=days, minutes=1)
            db.session.flush()
            ids[days] = e.id
        db.session.commit()
    return ids


def test_prune_deletes_the_events_past_the_retention_and_records_it(app, dbconn, monkeypatch):
    ids = _aged_events(app, 400, 200, 100, 0)
    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 365)
    dry = app.test_cli_runner().invoke(args=["audit", "prune", "--dry-run"])
    assert dry.exit_code == 0 and "1 audit events are older than 365 days" in dry.output
    assert {e.id for e in events(app)} >= set(ids.values())

    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 audit events older than 365 days" in result.output
    left = {e.id for e in events(app)}
    assert ids[400] not in left and {ids[200], ids[100], ids[0]} <= left
    (pruned,) = events(app, action="audit.pruned")
    assert pruned.detail["deleted"] == 1 and pruned.detail["days"] == 365
    assert pruned.actor_id is None and pruned.via == "cli"

    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 180)  # the default
    assert "Deleted 1 audit events" in app.test_cli_runner().invoke(args=["audit", "prune"]).output
    left = {e.id for e in events(app)}
    assert ids[200] not in left and {ids[100], ids[0]} <= left


def test_the_database_deletes_no_event_younger_than_six_months_even_when_pruning(app, dbconn):
    ids = _aged_events(app, 200, 179)
    nested = dbconn.begin_nested()
    if dbconn.dialect.name == "postgresql":
        dbconn.execute(text("SELECT set_config('qready.audit_prune', 'on', true)"))
    with pytest.raises(DBAPIError, match="append-only"):
        dbconn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[179]})
    nested.rollback()
    if dbconn.dialect.name == "postgresql":
        # an old event, by a transaction that does not say it prunes (anything but `flask audit prune`)
        nested = dbconn.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            dbconn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[200]})
        nested.rollback()
    assert {ids[200], ids[179]} <= {e.id for e in events(app)}


def test_a_retention_shorter_than_six_months_is_refused():
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="AUDIT_RETENTION_DAYS must be at least 180"):
        create_app({"AUDIT_RETENTION_DAYS": 30, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
