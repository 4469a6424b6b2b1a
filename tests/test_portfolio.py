"""The consultant's portfolio: figures equal the engine's, filters, sorting and search, only granted
clients, and a number of statements that does not grow with the number of clients."""

from __future__ import annotations

import re

from sqlalchemy import event, select

from tests.test_plan import _consultant
from tests.test_questionnaire import save, start
from webapp import db, tenancy
from webapp.models import Assessment, Consultancy, ConsultancyGrant


def _grant(app, firm, consultancy_id):
    with app.app_context():
        db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=consultancy_id))
        db.session.commit()


def _clients(app, create_user, create_firm, consultancy_id, n, start_at=0):
    firms = []
    for i in range(start_at, start_at + n):
        owner = create_user()
        firm = create_firm(f"客户{i:02d}机械有限公司", owner=owner, region="330106" if i % 2 else "330602")
        _grant(app, firm, consultancy_id)
        firms.append((firm, owner))
    return firms


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
    assert r.status_code == 200
    return len(seen)


def test_portfolio_statements_do_not_grow_with_the_clients(app, client, create_user, create_firm, login):
    consultant = create_user()
    with app.app_context():
        from webapp.models import Membership

        c = Consultancy(name="计数咨询", code="COUNT1")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="owner"))
        db.session.commit()
        cid = c.id

    def add_clients(n, start_at):
        for firm, owner in _clients(app, create_user, create_firm, cid, n, start_at):
            oc = login(app.test_client(), owner)
            aid = start(oc, firm.id)
            save(oc, firm.id, aid, "pzb-zj-standard", 0, value="drafting")  # a draft left unscored
            oc.post(
                f"/firms/{firm.id}/plan/new",
                data={"title": "行动", "status": "open", "owner": owner.id, "due_on": "2020-01-01"},
            )

    cons = login(app.test_client(), consultant)
    add_clients(2, 0)
    few = _statements(app, cons, "/consultant/")
    add_clients(4, 2)
    many = _statements(app, cons, "/consultant/?sort=score&dir=desc")
    assert many == few, (few, many)
    text = cons.get("/consultant/").get_data(as_text=True)
    assert text.count('class="pl-due overdue">1<') == 6


def test_portfolio_figures_equal_the_engines(app, owner_client, create_user, create_firm, login):
    client, firm, _owner = owner_client
    consultant = _consultant(app, create_user, firm)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="published")
    cons = login(app.test_client(), consultant)
    from webapp.questionnaire import answers
    from webapp.questionnaire.engine_bridge import summary

    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        r = answers.score_states(
            a,
            answers.framework(a),
            answers.answer_states(a.firm_id, a.id),
            answers.evidence_items(a.firm_id, a.id),
            a.firm,
            answers.scoring_date(a),
        )
        head = summary(r)
    html = cons.get("/consultant/").get_data(as_text=True)
    html = html[html.index('<main id="main"') :]  # the header's client switcher names the firm too
    row = html[html.index(firm.name) :]
    row = row[: row.index("</tr>")]
    assert f"{round(100 * head['answered'] / head['applicable'])}%" in row
    assert f"{round(head['score'], 1)}" in row
    for readiness in head["targets"].values():
        assert f"qn-readiness {readiness}" in row


def _main(response) -> str:
    """The page below the header (whose client switcher lists every client too)."""
    html = response.get_data(as_text=True)
    return html[html.index('<main id="main"') :]


def test_portfolio_filters_sorts_and_searches(app, client, create_user, create_firm, login):
    consultant = create_user()
    with app.app_context():
        from webapp.models import Membership

        c = Consultancy(name="筛选咨询", code="FILT01")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="owner"))
        db.session.commit()
        cid = c.id
    firms = _clients(app, create_user, create_firm, cid, 3)
    other = create_firm("不相干企业", owner=create_user())
    cons = login(app.test_client(), consultant)
    page = _main(cons.get("/consultant/"))
    names = re.findall(r"客户\d\d机械有限公司", page)
    assert names == sorted(names) and len(names) == 3 and other.name not in page
    page = _main(cons.get("/consultant/?sort=name&dir=desc"))
    assert re.findall(r"客户\d\d机械有限公司", page) == sorted(names, reverse=True)
    page = _main(cons.get("/consultant/?q=客户01"))
    assert re.findall(r"客户\d\d机械有限公司", page) == ["客户01机械有限公司"]
    page = _main(cons.get("/consultant/?city=330600"))  # 绍兴
    assert sorted(set(re.findall(r"客户\d\d机械有限公司", page))) == [
        "客户00机械有限公司",
        "客户02机械有限公司",
    ]
    # an assessed client is found by readiness; the others are "not assessed"
    firm, owner = firms[1]
    oc = login(app.test_client(), owner)
    aid = start(oc, firm.id)
    save(oc, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    page = _main(cons.get("/consultant/?target=pinzibiao:pinzibiao-application&readiness=not_ready"))
    assert set(re.findall(r"客户\d\d机械有限公司", page)) == {firm.name}
    page = _main(cons.get("/consultant/?target=pinzibiao:pinzibiao-application&readiness=none"))
    assert firm.name not in page and len(set(re.findall(r"客户\d\d机械有限公司", page))) == 2
    # revoked: gone at once
    with app.app_context():
        grant = db.session.scalar(select(ConsultancyGrant).where(ConsultancyGrant.firm_id == firm.id))
        grant.revoked_at = grant.granted_at
        db.session.commit()
    assert firm.name not in cons.get("/consultant/").get_data(as_text=True)  # header included


def test_a_new_user_signs_up_as_a_consultancy(app, client, create_user, create_firm, login):
    from webapp.models import Membership

    user = create_user(name="新顾问")
    login(client, user)
    assert "登记咨询机构" in client.get("/home").get_data(as_text=True)
    r = client.post("/consultant/new", data={"name": ""})
    assert r.status_code == 422 and "该字段是必填字段" in r.get_data(as_text=True)
    r = client.post("/consultant/new", data={"name": "新锐质量咨询"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/consultant/")
    with app.app_context():
        c = db.session.scalar(select(Consultancy).where(Consultancy.name == "新锐质量咨询"))
        m = db.session.scalar(select(Membership).where(Membership.consultancy_id == c.id))
        assert m.user_id == user.id and m.role == "owner" and len(c.code) == 8
        code = c.code
    page = client.get("/consultant/").get_data(as_text=True)
    assert "新锐质量咨询" in page and code in page
    # a firm grants access with the code: the client is in the portfolio
    owner = create_user()
    firm = create_firm("授权测试企业", owner=owner)
    oc = login(app.test_client(), owner)
    assert oc.post(f"/firms/{firm.id}/consultants", data={"code": code.lower()}).status_code == 302
    assert "授权测试企业" in client.get("/consultant/").get_data(as_text=True)
