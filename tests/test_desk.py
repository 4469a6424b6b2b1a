"""The consultant's desk: clients compared on one framework and one client across its rounds (page and
XLSX, the engine's figures, only granted clients, statements that do not grow with the clients, the
billing gate), a client's whole record exported, and answers imported from the framework's template."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import event, select

from tests.test_billing import fake_server, set_plan, stripe_on  # noqa: F401 - fixtures
from webapp import db, tenancy
from webapp.billing.services import Org
from webapp.models import Assessment, Consultancy, ConsultancyGrant, Membership
from webapp.reports import sample


def _consultancy(app, create_user, name="比较咨询", code="CMP001", locale="zh"):
    user = create_user(name="陈顾问", locale=locale)
    with app.app_context():
        c = Consultancy(name=name, code=code)
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, consultancy_id=c.id, role="owner"))
        db.session.commit()
        return user, c.id


def _client(app, create_user, create_firm, cid, name, *, rounds=(), grant=True):
    """A client firm with sample assessments: `rounds` of (framework, status, level)."""
    owner = create_user()
    firm = create_firm(name, owner=owner)
    ids = []
    with app.app_context(), tenancy.bypass():
        if grant:
            db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=cid))
        previous = None
        for n, (fid, status, level) in enumerate(rounds, start=1):
            a = sample.create_assessment(
                firm.id,
                fid,
                mode="default" if fid == "pinzibiao" else "full",
                status=status,
                round=n,
                previous_id=previous,
                seed=firm.id * 10 + n,
                level=level,
                user_id=owner.id,
            )
            previous = a.id
            ids.append(a.id)
        db.session.commit()
    return firm, owner, ids


def _engine(app, aid):
    from webapp.questionnaire import services as q

    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        return q.score_states(
            a,
            q.framework(a),
            q.answer_states(a.id),
            q.evidence_items(a.id),
            q.firm_of(a.firm_id),
            q.scoring_date(a),
        ), q.framework(a)


def _statements(app, client, url):
    engine = app.extensions["qready.db"]["engine"]
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.status_code
    return len(seen)


def _num(x):
    from webapp.questionnaire.present import num

    return num(round(x, 1))


# ---- compare -------------------------------------------------------------------------------------------


def test_compare_clients_shows_the_engines_figures_on_the_page_and_in_the_xlsx(
    app, client, create_user, create_firm, login
):
    consultant, cid = _consultancy(app, create_user)
    a, _o, (aid_a,) = _client(
        app, create_user, create_firm, cid, "甲机械有限公司", rounds=[("pinzibiao", "submitted", 0.8)]
    )
    b, _o, (aid_b,) = _client(
        app, create_user, create_firm, cid, "乙机械有限公司", rounds=[("pinzibiao", "draft", 0.3)]
    )
    outsider, _o, _ids = _client(
        app,
        create_user,
        create_firm,
        cid,
        "丙不相干有限公司",
        rounds=[("pinzibiao", "submitted", 0.5)],
        grant=False,
    )
    login(client, consultant)
    url = f"/consultant/compare?framework=pinzibiao&firm={a.id}&firm={b.id}&firm={outsider.id}"
    page = client.get(url).get_data(as_text=True)
    assert "甲机械有限公司" in page and "乙机械有限公司" in page and "丙不相干有限公司" not in page
    assert "1 家企业未纳入" in page  # the firm that granted nothing is left out, and the page says so
    assert "草稿（暂定）" in page  # 乙's latest is a draft: provisional
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url.replace("/compare?", "/compare.xlsx?")).data))
    ws = wb.worksheets[0]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert sorted(rows[1][1:]) == sorted(["甲机械有限公司", "乙机械有限公司"])
    by_label = {r[0]: r[1:] for r in rows if r[0]}
    for name, aid in (("甲机械有限公司", aid_a), ("乙机械有限公司", aid_b)):
        col = rows[1].index(name) - 1
        result, fw = _engine(app, aid)
        assert by_label["得分"][col] == float(round(result.score, 1))
        assert f'<td class="num">{_num(result.score)}</td>' in page
        for s in fw.sections:
            percent = result.section(s.id).percent
            assert by_label[s.title.zh][col] == (None if percent is None else float(round(percent, 1)))
        for tg in fw.targets:
            label = next(k for k in by_label if k.startswith(tg.title.zh + " (≥"))
            from webapp.questionnaire.present import readiness_label

            with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
                assert by_label[label][col] == str(readiness_label(result.target(tg.id).readiness))
        gaps = [
            r for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True) if r[0] == rows[1][1 + col]
        ]
        assert [(g[1], g[3]) for g in gaps] == [
            (g.item, float(round(g.points_recoverable, 1))) for g in result.gaps[:5]
        ]
    # the text typed by nobody but the framework; the firm names are data, kept as text
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_compare_reaches_only_granted_clients_and_a_revoke_is_at_once(
    app, client, create_user, create_firm, login
):
    consultant, cid = _consultancy(app, create_user)
    a, _o, _ids = _client(
        app, create_user, create_firm, cid, "甲机械有限公司", rounds=[("pinzibiao", "submitted", 0.8)]
    )
    login(client, consultant)
    url = f"/consultant/compare?framework=pinzibiao&firm={a.id}"
    assert "甲机械有限公司" in client.get(url).get_data(as_text=True)
    with app.app_context():
        grant = db.session.scalar(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == a.id))
        grant.revoked_at = grant.granted_at
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "甲机械有限公司" not in page and "您现在的客户中没有这些企业" in page
    assert client.get(f"/firms/{a.id}/compare").status_code == 404
    # a firm's own people may not use the consultant's page
    owner = create_user()
    create_firm("自家企业", owner=owner)
    assert login(app.test_client(), owner).get(url).status_code == 403


def test_compare_statements_do_not_grow_with_the_clients(app, client, create_user, create_firm, login):
    consultant, cid = _consultancy(app, create_user)
    firms = [
        _client(
            app,
            create_user,
            create_firm,
            cid,
            f"客户{i:02d}有限公司",
            rounds=[("pinzibiao", "submitted", 0.5), ("pinzibiao", "draft", 0.6)],
        )[0]
        for i in range(6)
    ]
    login(client, consultant)

    def url(n):
        return "/consultant/compare?framework=pinzibiao&" + "&".join(f"firm={f.id}" for f in firms[:n])

    few = _statements(app, client, url(2))
    many = _statements(app, client, url(6))
    assert many == few, (few, many)
    assert len(re.findall(r"客户\d\d有限公司</a>", client.get(url(6)).get_data(as_text=True))) == 6


def test_one_client_across_its_rounds(app, client, create_user, create_firm, login):
    consultant, cid = _consultancy(app, create_user, locale="en")
    firm, owner, ids = _client(
        app,
        create_user,
        create_firm,
        cid,
        "甲机械有限公司",
        rounds=[
            ("pinzibiao", "submitted", 0.3),
            ("pinzibiao", "submitted", 0.9),
            ("pinzibiao", "draft", 0.95),
        ],
    )
    for who in (consultant, owner):  # the consultant, and the firm's own owner
        c = login(app.test_client(), who)
        page = c.get(f"/firms/{firm.id}/compare?framework=pinzibiao").get_data(as_text=True)
        assert page.count("Round ") >= 3 or page.count("第") >= 3
        wb = openpyxl.load_workbook(
            io.BytesIO(c.get(f"/firms/{firm.id}/compare.xlsx?framework=pinzibiao").data)
        )
        rows = [[x.value for x in r] for r in wb.worksheets[0].iter_rows()]
        score_row = next(r for r in rows if r[0] in ("Score", "得分"))
        assert score_row[1:] == [float(round(_engine(app, aid)[0].score, 1)) for aid in ids]
    # the frameworks offered are the ones the firm assessed; nothing else
    c = login(app.test_client(), owner)
    assert c.get(f"/firms/{firm.id}/compare?framework=no-such").status_code == 200


def test_compare_is_gated_by_the_plan(app, stripe_on, client, create_user, create_firm, login):  # noqa: F811
    consultant, cid = _consultancy(app, create_user, locale="en")
    a, owner, _ids = _client(
        app, create_user, create_firm, cid, "甲机械有限公司", rounds=[("pinzibiao", "submitted", 0.8)]
    )
    login(client, consultant)
    url = f"/consultant/compare?framework=pinzibiao&firm={a.id}"
    r = client.get(url)
    assert r.status_code == 402
    text = r.get_data(as_text=True)
    assert "Consultant" in text and "/pricing#plan-consultant" in text
    set_plan(app, Org("consultancy", cid), "consultant", consultant.id)
    assert client.get(url).status_code == 200
    # the client's own owner: its consultancy pays for its features
    assert login(app.test_client(), owner).get(f"/firms/{a.id}/compare").status_code == 200
