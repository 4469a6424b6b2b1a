"""The consultant's desk: clients compared on one framework and one client across its rounds (page and
XLSX, the engine's figures, only granted clients, statements that do not grow with the clients, the
billing gate), a client's whole record exported, and answers imported from the framework's template."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import event, func, select

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
    from webapp.questionnaire import answers

    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        return answers.score_states(
            a,
            answers.framework(a),
            answers.answer_states(a.firm_id, a.id),
            answers.evidence_items(a.firm_id, a.id),
            a.firm,
            answers.scoring_date(a),
        ), answers.framework(a)


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
    assert "Comparing clients and rounds needs the Consultant plan" in text
    r = client.get(f"/firms/{a.id}/export.json")
    assert r.status_code == 402 and "/pricing#plan-consultant" in r.get_data(as_text=True)
    assert client.get(f"/firms/{a.id}/import").status_code == 402
    set_plan(app, Org("consultancy", cid), "consultant", consultant.id)
    assert client.get(url).status_code == 200
    # the client's own owner: its consultancy pays for its features
    assert login(app.test_client(), owner).get(f"/firms/{a.id}/compare").status_code == 200


# ---- export ----------------------------------------------------------------------------------------------


def test_export_the_whole_record_as_json_and_xlsx(app, client, create_user, create_firm, login):
    consultant, cid = _consultancy(app, create_user)
    firm, owner, (s1, d2) = _client(
        app,
        create_user,
        create_firm,
        cid,
        "甲机械有限公司",
        rounds=[("pinzibiao", "submitted", 0.6), ("pinzibiao", "draft", 0.7)],
    )
    oc = login(app.test_client(), owner)
    r = oc.post(
        f"/firms/{firm.id}/plan/new",
        data={"title": "=SUM(A1) 完善计量体系", "status": "open", "owner": owner.id, "due_on": "2027-01-15"},
    )
    assert r.status_code in (302, 303)
    from tests.test_questionnaire import upload
    from webapp.commands.demo.assessments import pdf_bytes

    assert upload(oc, firm.id, d2, "pzb-iso9001", "证书.pdf", pdf_bytes("证书")).status_code in (302, 303)
    login(client, consultant)
    r = client.get(f"/firms/{firm.id}/export.json")
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["Content-Disposition"]
    data = r.json
    assert data["firm"]["name"] == "甲机械有限公司" and data["firm"]["credit_code"] == firm.credit_code
    assert [a["id"] for a in data["assessments"]] == [s1, d2]
    for a in data["assessments"]:
        result, _fw = _engine(app, a["id"])
        assert a["result"]["score"] == float(round(result.score, 2))
        assert a["result"]["targets"] == {
            t.id: {
                "readiness": t.readiness,
                "score": float(round(t.score, 2)),
                "threshold": float(round(t.threshold, 2)),
            }
            for t in result.targets
        }
        assert [g["item"] for g in a["result"]["gaps"]] == [g.item for g in result.gaps[:10]]
        with app.app_context(), tenancy.bypass():
            from webapp.questionnaire import answers

            assert {x["item"]: x["value"] for x in a["answers"]} == {
                k: v.value for k, v in answers.answer_states(firm.id, a["id"]).items()
            }
    assert [x["title"] for x in data["actions"]] == ["=SUM(A1) 完善计量体系"]
    assert data["actions"][0]["due_on"] == "2027-01-15" and data["actions"][0]["owner"]
    assert ("pzb-iso9001", "证书.pdf") in [(e["item"], e["filename"]) for e in data["evidence"]]
    with app.app_context(), tenancy.bypass():
        from webapp.models import Evidence

        stored = db.session.scalars(select(Evidence.id).where(Evidence.firm_id == firm.id)).all()
    assert sorted(e["id"] for e in data["evidence"]) == sorted(stored)
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/firms/{firm.id}/export.xlsx").data))
    assert wb.sheetnames == ["firm", "assessments", "results", "answers", "actions", "evidence"]
    title = wb["actions"]["D2"]
    assert title.value == "=SUM(A1) 完善计量体系" and title.data_type == "s"  # text, never a formula
    answers = list(wb["answers"].iter_rows(min_row=2, values_only=True))
    assert len(answers) == sum(len(a["answers"]) for a in data["assessments"])
    # another firm's record: not found; a viewer of the firm: not allowed
    other = create_firm("别家企业", owner=create_user())
    assert client.get(f"/firms/{other.id}/export.json").status_code == 404
    viewer = create_user()
    with app.app_context():
        db.session.add(Membership(user_id=viewer.id, firm_id=firm.id, role="viewer"))
        db.session.commit()
    assert login(app.test_client(), viewer).get(f"/firms/{firm.id}/export.xlsx").status_code == 403


# ---- import ----------------------------------------------------------------------------------------------


def _filled(template: bytes, answers: dict[str, tuple]) -> tuple[bytes, dict[str, int]]:
    """The template with (answer, not_applicable_because) written into the rows of `answers`."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb["answers"]
    header = [c.value for c in ws[1]]
    rows = {}
    for row in ws.iter_rows(min_row=2):
        item = row[header.index("item")].value
        if item in answers:
            answer, na = answers[item]
            row[header.index("answer")].value = answer
            row[header.index("not_applicable_because")].value = na
            rows[item] = row[0].row
    extra = [k for k in answers if k not in rows]
    for k in extra:  # a question the framework does not have
        ws.append([None, k, None, None, None, None, answers[k][0], answers[k][1], None])
        rows[k] = ws.max_row
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), rows


def _answers(app, aid):
    from webapp.questionnaire import answers

    with app.app_context(), tenancy.bypass():
        firm_id = db.session.get(Assessment, aid).firm_id
        return {k: (v.value, v.na_reason, v.version) for k, v in answers.answer_states(firm_id, aid).items()}


def _history(app, aid):
    from webapp.models import AnswerHistory

    with app.app_context(), tenancy.bypass():
        return db.session.scalar(
            select(func.count()).select_from(AnswerHistory).where(AnswerHistory.assessment_id == aid)
        )


def test_import_answers_from_the_frameworks_template_through_the_one_save_path(
    app, client, create_user, create_firm, login
):
    consultant, cid = _consultancy(app, create_user)
    firm, owner, _ids = _client(app, create_user, create_firm, cid, "甲机械有限公司")
    oc = login(app.test_client(), owner)
    from tests.test_questionnaire import save, start

    aid = start(oc, firm.id)
    save(oc, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    login(client, consultant)
    page = client.get(f"/firms/{firm.id}/import")
    assert page.status_code == 200 and f"/assessments/{aid}/answers.xlsx" in page.get_data(as_text=True)
    r = client.get(f"/firms/{firm.id}/assessments/{aid}/answers.xlsx")
    template = r.data
    wb = openpyxl.load_workbook(io.BytesIO(template))
    # the framework's own workbook, with the answers sheet first and the answer given so far
    assert wb.sheetnames[0] == "answers" and {"items", "options", "sections", "targets"} <= set(wb.sheetnames)
    header = [c.value for c in wb["answers"][1]]
    row = next(r for r in wb["answers"].iter_rows(min_row=2, values_only=True) if r[1] == "pzb-zj-standard")
    assert row[header.index("answer")] == "drafting"
    data, _rows = _filled(
        template,
        {
            "pzb-zj-standard": ("published", None),
            "pzb-iso9001": ("是", None),
            "pzb-instruments-verified": (95, None),
            "pzb-invention-patents": ("12", None),
            "pzb-measurement-system": ("certified", None),
            "pzb-pe-since": (dt.date(2020, 5, 1), None),
            "pzb-rd-intensity": (None, "本企业为贸易型企业，不设研发"),
        },
    )
    before = _history(app, aid)
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(data), "答案.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303, r.get_data(as_text=True)[-2000:]
    assert r.headers["Location"].endswith(f"/firms/{firm.id}/assessments/{aid}/")
    got = _answers(app, aid)
    assert got["pzb-zj-standard"][:2] == ("published", None) and got["pzb-zj-standard"][2] == 2
    assert got["pzb-iso9001"][0] is True
    assert got["pzb-instruments-verified"][0] == 95 and got["pzb-invention-patents"][0] == 12
    assert got["pzb-pe-since"][0] == "2020-05-01"
    assert got["pzb-rd-intensity"][:2] == (None, "本企业为贸易型企业，不设研发")
    assert _history(app, aid) == before + 7  # each change with its history row, as every save
    assert "已将 7 个答案导入" in client.get(f"/firms/{firm.id}/assessments/{aid}/").get_data(as_text=True)
    # the shared fact went where every save sends it: the firm's other drafts start with it
    with app.app_context(), tenancy.bypass():
        from webapp.models import FactAnswer

        fact = db.session.scalar(
            select(FactAnswer).where(FactAnswer.firm_id == firm.id, FactAnswer.fact == "zj_standard_status")
        )
        assert fact.value == "published"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_an_import_with_a_bad_row_saves_nothing_and_names_each_row(
    app, client, create_user, create_firm, login, locale
):
    owner = create_user(locale=locale)
    firm = create_firm("乙机械有限公司", owner=owner)
    login(client, owner)
    from tests.test_questionnaire import save, start

    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    template = client.get(f"/firms/{firm.id}/assessments/{aid}/answers.xlsx").data
    before, history = _answers(app, aid), _history(app, aid)
    # rows the reader refuses (an unknown question), and rows only the engine refuses
    data, rows = _filled(
        template,
        {
            "pzb-iso9001": ("是", None),
            "pzb-zj-standard": ("published", None),
            "no-such-question": ("yes", None),
        },
    )
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(data), "a.xlsx")},
        content_type="multipart/form-data",
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 422
    assert f'<td class="num">{rows["no-such-question"]}</td>' in text and "no-such-question" in text
    assert (
        "There is no such question in this assessment." if locale == "en" else "本评估中没有这道题。"
    ) in text
    assert _answers(app, aid) == before and _history(app, aid) == history
    # one upload lists every row to correct: those the reader refuses and those the engine would
    data, rows = _filled(
        template,
        {"no-such-question": ("yes", None), "pzb-iso14001": ("maybe", None), "pzb-iso9001": ("是", None)},
    )
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(data), "a.xlsx")},
        content_type="multipart/form-data",
    )
    listed = r.get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    assert r.status_code == 422 and "no-such-question" in listed and "pzb-iso14001" in listed
    assert f'<td class="num">{rows["pzb-iso14001"]}</td>' in listed and "pzb-iso9001" not in listed
    assert _answers(app, aid) == before and _history(app, aid) == history
    data, rows = _filled(
        template,
        {
            "pzb-iso9001": ("是", None),
            "pzb-zj-standard": ("published", None),
            "pzb-measurement-system": ("perfect", None),
            "pzb-instruments-verified": (140, None),
            "pzb-iso14001": ("maybe", None),
        },
    )
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(data), "a.xlsx")},
        content_type="multipart/form-data",
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 422
    expected = {
        "pzb-measurement-system": ("Choose one of the options.", "请选择一个选项。"),
        "pzb-instruments-verified": ("Enter a number from 0 to 100.", "请填写 0 到 100 之间的数字。"),
        "pzb-iso14001": ("Answer yes or no.", "请选择“是”或“否”。"),
    }
    for item, (en, zh) in expected.items():
        cell = text[text.index(f'<td class="num">{rows[item]}</td>') :]
        cell = cell[: cell.index("</tr>")]
        assert item in cell and (en if locale == "en" else zh) in cell, (item, cell)
    assert "pzb-iso9001" not in text.split("<tbody>")[1].split("</tbody>")[0]  # good rows are not listed
    assert _answers(app, aid) == before and _history(app, aid) == history
    # not a workbook at all
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(b"%PDF-1.7"), "a.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and (
        "not an Excel workbook" if locale == "en" else "不是 Excel 工作簿"
    ) in r.get_data(as_text=True)
    assert _answers(app, aid) == before


def test_an_import_refused_by_a_conflict_writes_nothing(
    app, client, create_user, create_firm, login, monkeypatch
):
    """A race inside the save (another editor's write between the read and the write): the request
    answers 422 and rolls back what it had written already."""
    owner = create_user(locale="en")
    firm = create_firm("丙机械有限公司", owner=owner)
    login(client, owner)
    from tests.test_questionnaire import start
    from webapp.questionnaire import answers

    aid = start(client, firm.id)
    template = client.get(f"/firms/{firm.id}/assessments/{aid}/answers.xlsx").data
    data, _rows = _filled(template, {"pzb-iso9001": ("yes", None), "pzb-iso14001": ("no", None)})
    real = answers.write_answer
    calls = []

    def second_loses(a, item, cur, target, **kw):
        calls.append(item.id)
        return real(a, item, cur, target, **kw) if len(calls) == 1 else None

    monkeypatch.setattr(answers, "write_answer", second_loses)
    r = client.post(
        f"/firms/{firm.id}/import",
        data={"assessment": aid, "file": (io.BytesIO(data), "a.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "import it again" in r.get_data(as_text=True)
    assert len(calls) == 2 and _answers(app, aid) == {}


def test_the_portfolio_pages_its_clients_and_keeps_filters_and_sort(
    app, client, create_user, create_firm, login, monkeypatch
):
    from webapp.consultants import controllers

    monkeypatch.setattr(controllers, "PAGE_SIZE", 2)
    consultant, cid = _consultancy(app, create_user)
    for i in range(5):
        _client(app, create_user, create_firm, cid, f"客户{i:02d}有限公司")
    login(client, consultant)
    first = client.get("/consultant/?sort=name&dir=desc").get_data(as_text=True)
    assert re.findall(r"客户\d\d有限公司</a>", first) == ["客户04有限公司</a>", "客户03有限公司</a>"]
    assert "共 5 家客户，本页 2 家" in first and "page=3" in first and "dir=desc" in first
    last = client.get("/consultant/?sort=name&dir=desc&page=3").get_data(as_text=True)
    assert re.findall(r"客户\d\d有限公司</a>", last) == ["客户00有限公司</a>"]
    # a page past the end, or no number at all, shows a page that exists
    assert "客户00有限公司</a>" in client.get("/consultant/?sort=name&dir=desc&page=99").get_data(
        as_text=True
    )
    assert "客户04有限公司</a>" in client.get("/consultant/?sort=name&dir=desc&page=x").get_data(as_text=True)


def test_the_compare_form_defaults_to_the_framework_most_clients_have_assessed(
    app, client, create_user, create_firm, login
):
    consultant, cid = _consultancy(app, create_user)
    rounds = {
        "甲机械有限公司": [("performance-excellence", "submitted", 0.6)],
        "乙机械有限公司": [("performance-excellence", "submitted", 0.4), ("pinzibiao", "draft", 0.3)],
        "丙机械有限公司": [("pinzibiao", "submitted", 0.7)],
    }
    firms = {
        name: _client(app, create_user, create_firm, cid, name, rounds=r)[0] for name, r in rounds.items()
    }
    login(client, consultant)
    page = client.get("/consultant/").get_data(as_text=True)
    form = page[page.index('id="compare-form"') :]
    selected = re.findall(r'<option value="([^"]+)" selected>', form)
    assert selected == ["performance-excellence"]  # two clients have it, one has pinzibiao
    # the compare page asked without a framework: the one the chosen clients have, and it compares
    page = client.get(f"/consultant/compare?firm={firms['丙机械有限公司'].id}").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)" selected>', page) == ["pinzibiao"]
    assert "丙机械有限公司" in page and '<td class="num">' in page


def test_compare_clients_speaks_of_the_firms_region_not_the_consultants(
    app, client, create_user, create_firm, login
):
    consultant, cid = _consultancy(app, create_user)
    a, owner, _ids = _client(
        app,
        create_user,
        create_firm,
        cid,
        "甲机械有限公司",
        rounds=[("performance-excellence", "submitted", 0.6)],
    )
    login(client, consultant)
    url = f"/consultant/compare?framework=performance-excellence&firm={a.id}"
    page = client.get(url).get_data(as_text=True)
    assert "不适用于该企业所在地区" in page and "贵企业" not in page  # another city's award
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url.replace("/compare?", "/compare.xlsx?")).data))
    cells = [c.value for r in wb.worksheets[0].iter_rows() for c in r]
    assert "不适用于该企业所在地区" in cells and "不适用于贵企业所在地区" not in cells
    # a client's rounds: the consultant reads the firm's region, the firm's own people their own
    rounds = f"/firms/{a.id}/compare?framework=performance-excellence"
    page = client.get(rounds).get_data(as_text=True)
    assert "不适用于该企业所在地区" in page and "贵企业" not in page
    page = login(app.test_client(), owner).get(rounds).get_data(as_text=True)
    assert "不适用于贵企业所在地区" in page and "不适用于该企业所在地区" not in page
