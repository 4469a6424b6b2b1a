"""Regulator analytics (issue 18): results kept per assessment, scope and consent, the figures against
a direct computation from the engine, suppression and differencing, exports and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

import scoring
from webapp import db, tenancy
from webapp.api import tokens as token_service
from webapp.commands.demo import statistics as stats_demo
from webapp.models import (
    Answer,
    Assessment,
    AssessmentResult,
    AssessmentResultLine,
    Evidence,
    Firm,
    Membership,
    Regulator,
    User,
)
from webapp.orgs.services import profile_facts
from webapp.questionnaire.engine_bridge import framework_of, submission
from webapp.refdata import industries, regions
from webapp.stats import plans, results
from webapp.stats import service as stats

TODAY = dt.date(2026, 12, 1)
SEEDS = Path("/work/shared/seeds")
# (county, division, size class, 规上, how many): Hangzhou's districts, one of them small, and Shaoxing
POPULATION = (
    ("330106", "34", "small", False, 9),
    ("330106", "38", "medium", True, 6),
    ("330110", "39", "small", False, 7),
    ("330110", "34", "large", True, 5),
    ("330109", "17", "micro", False, 2),
    ("330602", "17", "medium", True, 12),
    ("330603", "34", "small", False, 6),
)


@pytest.fixture
def population(app, create_firm):
    """Synthetic firms that agreed to share, with the demo's submitted rounds; returns their ids."""
    ids = []
    n = 0
    for region, division, size, above, count in POPULATION:
        for _ in range(count):
            n += 1
            firm = create_firm(
                f"统计测试企业{n}",
                region=region,
                division=division,
                size_class=size,
                above_scale=above,
                synthetic=True,
                share_statistics=True,
                founded_on=dt.date(2010, 1, 1),
            )
            ids.append(firm.id)
    with app.app_context(), tenancy.bypass():
        made = stats_demo.load(today=TODAY)
        db.session.commit()
    assert made >= len(ids)
    return ids


def _regulator(app, create_user, jurisdiction="330100", name="杭州市市场监督管理局"):
    user = create_user(locale="zh")
    with app.app_context():
        r = Regulator(name=name, jurisdiction_code=jurisdiction)
        db.session.add(r)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, regulator_id=r.id, role="analyst"))
        db.session.commit()
    return user


# ---- a direct computation from the engine's results ------------------------------------------------


def _engine_results() -> list[dict[str, Any]]:
    """Every submitted assessment of a sharing firm, scored again by the engine from its stored rows."""
    out = []
    with tenancy.bypass():
        firms = {f.id: f for f in db.session.scalars(select(Firm))}
        for a in db.session.scalars(select(Assessment).where(Assessment.status == "submitted")):
            firm = firms[a.firm_id]
            rows = db.session.execute(
                select(Answer.item_id, Answer.value, Answer.na_reason).where(Answer.assessment_id == a.id)
            ).all()
            ev = set(db.session.scalars(select(Evidence.item_id).where(Evidence.assessment_id == a.id)))
            fw = framework_of(a.framework_id, a.framework_version)
            result = scoring.score(fw, submission(rows, ev, profile_facts(firm, a.as_of), a.mode, a.as_of))
            out.append({"a": a, "firm": firm, "result": result})
    return out


def _view_of(firm: Firm, jurisdiction: str) -> set[stats.View]:
    views = {stats.ALL}
    level = stats.region_level(jurisdiction)
    if level == "province":
        views.add(("region", regions.city_of(firm.region_code)))
    elif level == "city":
        views.add(("region", firm.region_code))
    views.add(("industry", industries.section_of(firm.industry_division) or "?"))
    views.add(("size", firm.size_class or "unknown"))
    views.add(("scale", "yes" if firm.above_scale else "no"))
    return views


def _expected(jurisdiction: str) -> dict[stats.View, dict[str, Counter]]:
    """Counts of firms per view: readiness per target (newest result), firms and assessments per quarter."""
    prefix = scoring.model.region_prefix(jurisdiction)
    newest: dict[tuple[int, str, str], dict[str, Any]] = {}
    rows = [
        r
        for r in _engine_results()
        if r["firm"].share_statistics and r["firm"].region_code.startswith(prefix)
    ]
    for r in rows:
        a = r["a"]
        key = (a.firm_id, a.framework_id, a.mode)
        if key not in newest or (a.as_of, a.id) > (newest[key]["a"].as_of, newest[key]["a"].id):
            newest[key] = r
    exp: dict[stats.View, dict[str, dict[Any, set[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for r in newest.values():
        a = r["a"]
        for view in _view_of(r["firm"], jurisdiction):
            for t in r["result"].targets:
                if t.readiness != "not_applicable":
                    exp[view]["readiness"][(a.framework_id, a.mode, t.id, t.readiness)].add(a.firm_id)
    for r in rows:
        a = r["a"]
        q = results.quarter_of(a.as_of)
        for view in _view_of(r["firm"], jurisdiction):
            exp[view]["quarter_firms"][q].add(a.firm_id)
            exp[view]["quarter_assessments"][q].add(a.id)
    return {
        view: {name: Counter({k: len(v) for k, v in cells.items()}) for name, cells in tables.items()}
        for view, tables in exp.items()
    }


# ---- 1. results kept per assessment -----------------------------------------------------------------


def test_submit_keeps_the_engines_result_and_rescore_rebuilds_it(app, create_user, create_firm):
    from webapp.commands.demo import assessments as questionnaire_demo

    owner = create_user()
    firm = create_firm("杭州留存结果企业", owner=owner, region="330106", share_statistics=True)
    with app.app_context(), tenancy.bypass():
        user = db.session.get(User, owner.id)
        questionnaire_demo.load(db.session.get(Firm, firm.id), user, today=TODAY)
        db.session.commit()
        kept = {r.assessment_id: r for r in db.session.scalars(select(AssessmentResult))}
        submitted = list(db.session.scalars(select(Assessment).where(Assessment.status == "submitted")))
        assert {a.id for a in submitted} == set(kept) and len(kept) == 4  # through submit.submit
        for r in _engine_results():
            a, result = r["a"], r["result"]
            row = kept[a.id]
            assert (row.framework_id, row.mode, row.region_code, row.industry_section) == (
                a.framework_id,
                a.mode,
                "330106",
                "C",
            )
            assert float(row.percent) == pytest.approx(float(result.percent), abs=0.01)
            lines = db.session.execute(
                select(
                    AssessmentResultLine.kind, AssessmentResultLine.key, AssessmentResultLine.status
                ).where(AssessmentResultLine.assessment_id == a.id)
            ).all()
            assert {(k, s) for kind, k, s in lines if kind == "target"} == {
                (t.id, t.readiness) for t in result.targets
            }
            assert {(k, s) for kind, k, s in lines if kind == "gate"} == {
                (g.id, g.status) for g in result.gates
            }
            gaps = [k for kind, k, _ in lines if kind == "gap"]
            assert gaps and set(gaps) == {g.item for g in sorted(result.gaps, key=lambda g: g.priority)[:10]}
        # the newest round of each framework is the one counted
        latest = {(r.framework_id, r.mode): r.assessment_id for r in kept.values() if r.latest}
        assert latest == {(a.framework_id, a.mode): a.id for a in submitted if a.round == 2}
        before = sorted(
            db.session.execute(
                select(
                    AssessmentResultLine.assessment_id,
                    AssessmentResultLine.kind,
                    AssessmentResultLine.key,
                    AssessmentResultLine.status,
                    AssessmentResultLine.percent,
                )
            ).all()
        )
        db.session.execute(delete(AssessmentResultLine))
        db.session.execute(delete(AssessmentResult))
        assert results.rebuild() == 4
        after = sorted(
            db.session.execute(
                select(
                    AssessmentResultLine.assessment_id,
                    AssessmentResultLine.kind,
                    AssessmentResultLine.key,
                    AssessmentResultLine.status,
                    AssessmentResultLine.percent,
                )
            ).all()
        )
        assert after == before
        assert db.session.scalar(select(func.count()).where(AssessmentResult.latest.is_(True))) == 2
        db.session.rollback()


# ---- 3/4. every figure against the engine --------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["330100", "330000"])
def test_every_figure_equals_a_direct_computation_from_the_engine(app, population, jurisdiction):
    with app.app_context():
        expected = _expected(jurisdiction)
        raw = stats.raw_figures(jurisdiction)
        shown = stats.all_views(jurisdiction, k=5)
    assert set(raw) == set(expected)
    for view, exp in expected.items():
        got = raw[view]
        readiness = Counter(
            {
                (*key, status): n
                for key, cells in got["readiness"].items()
                for status, n in cells.items()
                if status != "_n"
            }
        )
        assert +readiness == +exp["readiness"], view
        assert {q: c["firms"] for (q,), c in got["quarters"].items()} == dict(exp["quarter_firms"])
        assert {q: c["assessments"] for (q,), c in got["quarters"].items()} == dict(
            exp["quarter_assessments"]
        )
        # what is shown is the same number, or hidden
        for key, cells in shown[view].rows("readiness").items():
            for status in stats.READINESS:
                cell = cells.get(status)
                if cell is not None and cell.shown:
                    assert cell.value == exp["readiness"][(*key, status)]
                    assert cell.value == 0 or cell.value >= 5


def test_the_plans_figures_quote_the_seeds_and_count_what_they_say(app, population):
    flat = {p.name: p.read_text(encoding="utf-8").replace("\n", "") for p in SEEDS.glob("0*.txt")}
    for fig in plans.FIGURES:
        assert fig.quote in flat[fig.doc], fig.id
        assert str(int(fig.value)) in fig.quote or fig.value == 100 or fig.id == "pzb-400"
    with app.app_context():
        engine = _engine_results()
        got = stats.raw_figures("330000")[stats.ALL]["plans"]
    for fig in plans.figures_for("330000"):
        newest: dict[int, Any] = {}
        for r in engine:
            a = r["a"]
            if a.framework_id != fig.framework or not r["firm"].region_code.startswith(fig.scope("330000")):
                continue
            if a.firm_id not in newest or (a.as_of, a.id) > (
                newest[a.firm_id]["a"].as_of,
                newest[a.firm_id]["a"].id,
            ):
                newest[a.firm_id] = r

        def ok(r: dict[str, Any], gates: tuple[str, ...]) -> bool:
            status = {g.id: g.status for g in r["result"].gates}
            return all(status.get(g) == "pass" for g in gates)

        pop = list(newest.values())
        if fig.population == "sme":
            pop = [r for r in pop if r["firm"].size_class in ("medium", "small", "micro")]
        elif fig.population == "above_scale":
            pop = [r for r in pop if r["firm"].above_scale]
        elif fig.population == "certified":
            pop = [r for r in pop if ok(r, ("holds-certificate",))]
        yes = [r for r in pop if ok(r, fig.gates)]
        cells = got.get((fig.id,), {"_n": 0, "yes": 0})
        assert (cells.get("_n", 0), cells.get("yes", 0)) == (len(pop), len(yes)), fig.id


# ---- 2. scope and consent --------------------------------------------------------------------------------


def test_hangzhous_regulator_never_sees_shaoxing_through_any_route(
    app, client, create_user, login, population
):
    analyst = _regulator(app, create_user)
    with app.app_context():
        before = {v: s.tables for v, s in stats.all_views("330100").items()}
        # Shaoxing's firms change completely: nothing Hangzhou sees may move
        with tenancy.bypass():
            sx = [f.id for f in db.session.scalars(select(Firm).where(Firm.region_code.like("3306%")))]
            db.session.execute(delete(AssessmentResult).where(AssessmentResult.firm_id.in_(sx[:5])))
            db.session.commit()
        after = {v: s.tables for v, s in stats.all_views("330100").items()}
    assert before == after
    login(client, analyst)
    for cut in ("region:330602", "region:330600", "region:330106x", "size:huge", "nonsense"):
        for path in ("/regulator/", "/regulator/export.csv", "/regulator/export.xlsx"):
            assert client.get(path, query_string={"cut": cut}).status_code == 404, (path, cut)
    page = client.get("/regulator/").get_data(as_text=True)
    assert "绍兴" not in page and "柯桥" not in page and "越城" not in page
    assert "统计测试企业" not in page  # never a firm's name
    text = client.get("/regulator/export.csv").get_data(as_text=True)
    assert "绍兴" not in text and "统计测试企业" not in text
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, analyst.id), "t")
        db.session.commit()
    r = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["jurisdiction"]["code"] == "330100"
    assert (
        client.get(
            "/api/v1/stats?cut=region:330602", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )


def test_shaoxings_regulator_never_counts_hangzhous_award_for_its_firms(
    app, client, create_user, login, population
):
    """The Hangzhou award is for firms registered in Hangzhou (its declared scope, 3301): for a firm in
    Shaoxing it is not applicable, so a regulator of 330600 never sees it counted, "not ready" or
    otherwise, while Shaoxing's own award and the province's are. Results kept under 1.1.0, whose scope
    comes from its location gate, are rebuilt the same."""
    analyst = _regulator(app, create_user, "330600", "绍兴市市场监督管理局")
    hz, sx = "award-hangzhou-municipal", "award-shaoxing-mayor"
    R, L = AssessmentResult.__table__, AssessmentResultLine.__table__
    target_lines = (
        select(R.c.assessment_id, R.c.framework_version, L.c.key, L.c.status)
        .join(L, L.c.assessment_id == R.c.assessment_id)
        .where(
            R.c.region_code.like("3306%"), R.c.framework_id == "performance-excellence", L.c.kind == "target"
        )
        .order_by(R.c.assessment_id, L.c.key)
    )
    with app.app_context(), tenancy.bypass():
        kept = db.session.execute(target_lines).all()
        assert kept and {v for _a, v, _k, _s in kept} == {"1.1.1"}
        assert {s for _a, _v, k, s in kept if k == hz} == {"not_applicable"}
        assert {s for _a, _v, k, s in kept if k == sx} - {"not_applicable"}  # Shaoxing's award is measured
        readiness = stats.raw_figures("330600")[stats.ALL]["readiness"]
        assert not [key for key in readiness if key[2] == hz]
        assert [key for key in readiness if key[2] == sx]
        # the province counts the Hangzhou award only for Hangzhou's firms
        counted = sum(
            sum(cells.get(c, 0) for c in stats.STATUSES)
            for key, cells in stats.raw_figures("330000")[stats.ALL]["readiness"].items()
            if key[2] == hz
        )
        hangzhou = stats.raw_figures("330100")[stats.ALL]["readiness"]
        assert counted == sum(
            sum(cells.get(c, 0) for c in stats.STATUSES) for k, cells in hangzhou.items() if k[2] == hz
        )
        # the same assessments kept under 1.1.0 (scope derived from the gate) rebuild to the same lines
        ids = sorted({a for a, _v, _k, _s in kept})
        db.session.execute(
            Assessment.__table__.update()
            .where(Assessment.__table__.c.id.in_(ids))
            .values(framework_version="1.1.0")
        )
        results.rebuild(framework_id="performance-excellence")
        db.session.commit()
        again = db.session.execute(target_lines).all()
        assert {v for _a, v, _k, _s in again} == {"1.1.0"}
        assert [(a, k, s) for a, _v, k, s in again] == [(a, k, s) for a, _v, k, s in kept]
    login(client, analyst)
    page = client.get("/regulator/").get_data(as_text=True)
    assert "绍兴市市长质量奖" in page and "杭州市人民政府质量奖" not in page


def test_a_firm_that_stops_sharing_leaves_the_statistics(app, client, create_user, login, population):
    owner = create_user()
    with app.app_context():
        firm_id = population[0]
        db.session.add(Membership(user_id=owner.id, firm_id=firm_id, role="owner"))
        db.session.commit()
        before = stats.raw_figures("330100")[stats.ALL]["overview"][()]["firms"]
    login(client, owner)
    form = client.get(f"/firms/{firm_id}/profile/edit").get_data(as_text=True)
    assert "never sees your firm’s name" in form or "不会看到贵企业的名称" in form
    with app.app_context(), tenancy.bypass():
        f = db.session.get(Firm, firm_id)
        data = {
            "name": f.name,
            "credit_code": f.credit_code,
            "region_code": f.region_code,
            "industry_division": f.industry_division,
            "employees": "120",
        }  # share_statistics left unticked
    r = client.post(f"/firms/{firm_id}/profile/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        assert stats.raw_figures("330100")[stats.ALL]["overview"][()]["firms"] == before - 1
    r = client.post(f"/firms/{firm_id}/profile/edit", data={**data, "share_statistics": "y"})
    with app.app_context():
        assert stats.raw_figures("330100")[stats.ALL]["overview"][()]["firms"] == before


def test_a_new_firm_is_asked_and_is_not_counted_until_it_agrees(app, client, create_user, login):
    login(client, create_user())
    page = client.get("/firms/new").get_data(as_text=True)
    assert (
        'name="share_statistics"' in page and "checked" not in page.split('name="share_statistics"')[1][:40]
    )


# ---- 5. suppression and differencing -------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["330100", "330000"])
def test_no_pair_of_views_reveals_a_group_smaller_than_k(app, population, jurisdiction):
    k = 5
    with app.app_context():
        views = stats.all_views(jurisdiction, k=k)
        raw = stats.raw_figures(jurisdiction)
    offered = stats.offered_views(jurisdiction)
    assert set(views) == set(offered)
    hidden_seen = 0
    for view, st in views.items():
        for table, rows in st.tables.items():
            spec = stats.TABLES[table]
            for key, cells in rows.items():
                for col in spec.counts:
                    c = cells.get(col)
                    if c is None:
                        continue
                    if c.shown:
                        assert c.value == 0 or c.value >= k, (view, table, key, col)
                    else:
                        hidden_seen += 1
                # within a breakdown: the total less the parts shown never gives 1..k-1
                if spec.parts and cells["_n"].shown:
                    rest = cells["_n"].value - sum(
                        cells[p].value for p in spec.parts if p in cells and cells[p].shown
                    )
                    assert not 0 < rest < k, (view, table, key)
    assert hidden_seen  # the population has small groups: the test means something
    # every pair of views: nested ones (the jurisdiction and a group) differ by 0 or at least k firms
    for v1, v2 in itertools.combinations(offered, 2):
        a, b = views[v1], views[v2]
        nested = v1 == stats.ALL or v2 == stats.ALL
        for table in stats.TABLES:
            for key in set(a.rows(table)) | set(b.rows(table)):
                for col in stats.TABLES[table].counts:
                    ca, cb = a.rows(table).get(key, {}).get(col), b.rows(table).get(key, {}).get(col)
                    va = ca.value if ca is not None else 0
                    vb = cb.value if cb is not None else 0
                    if va is None or vb is None:
                        continue
                    if nested:
                        assert not 0 < abs(va - vb) < k, (v1, v2, table, key, col)
    # and the groups of one cut shown, taken from the jurisdiction's figure, leave 0 or at least k
    for dim in stats.dimensions(jurisdiction):
        groups = [(dim, v) for v in stats.dimension_values(jurisdiction, dim)]
        for table in stats.TABLES:
            for key, cells in views[stats.ALL].rows(table).items():
                for col in stats.TABLES[table].counts:
                    total = cells.get(col)
                    if total is None or not total.shown:
                        continue
                    shown_sum = 0
                    for g in groups:
                        c = views[g].rows(table).get(key, {}).get(col)
                        if c is not None and c.shown:
                            shown_sum += c.value
                    assert not 0 < total.value - shown_sum < k, (dim, table, key, col)
    prefix = scoring.model.region_prefix(jurisdiction)
    assert raw[stats.ALL]["overview"][()]["firms"] == sum(
        n for r, *_, n in POPULATION if r.startswith(prefix)
    )


def test_k_comes_from_the_config(app, population):
    with app.app_context():
        app.config["STATS_MIN_GROUP"] = 12
        try:
            st = stats.compute("330100")
        finally:
            app.config["STATS_MIN_GROUP"] = 5
    assert st.k == 12
    counts = [
        cells[col]
        for table, rows in st.tables.items()
        for cells in rows.values()
        for col in stats.TABLES[table].counts
        if col in cells
    ]
    assert any(c.hidden == "small" for c in counts)
    assert all(c.value is None or c.value == 0 or c.value >= 12 for c in counts)


# ---- 6. exports and API ---------------------------------------------------------------------------------


def test_exports_and_api_hide_the_same_cells_as_the_page(app, client, create_user, login, population):
    from openpyxl import load_workbook

    analyst = _regulator(app, create_user)
    login(client, analyst)
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, analyst.id), "t")
        db.session.commit()
    for cut in ("", "size:small", "region:330109", "scale:yes"):
        page = client.get("/regulator/", query_string={"cut": cut})
        assert page.status_code == 200
        api = client.get(
            "/api/v1/stats", query_string={"cut": cut}, headers={"Authorization": f"Bearer {token}"}
        )
        data = api.get_json()
        r = client.get("/regulator/export.csv", query_string={"cut": cut})
        assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
        flat = [c for row in rows for c in row]
        x = client.get("/regulator/export.xlsx", query_string={"cut": cut})
        wb = load_workbook(io.BytesIO(x.data))
        xflat = [
            str(c)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for c in row
            if c is not None
        ]
        for q in data["quarters"]:
            for col in ("firms", "assessments"):
                assert str(q[col]) in flat and str(q[col]) in xflat
        for x_ in data["readiness"]:
            for col in ("ready", "near", "not_ready"):
                if isinstance(x_[col], int) and x_[col]:
                    assert x_[col] >= 5
        if cut == "region:330109":  # two firms there: everything is "< 5"
            assert data["overview"]["firms"] == "< 5"
            assert "< 5" in flat and "< 5" in xflat
            assert all(q["firms"] == "< 5" for q in data["quarters"])
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/stats" in doc["paths"]


# ---- 8. agencies ------------------------------------------------------------------------------------


def test_an_admin_creates_an_agency_whose_owner_invites_colleagues(app, client, create_user, login, outbox):
    from tests.conftest import link_in

    admin = create_user(admin=True)
    login(client, admin)
    r = client.post(
        "/admin/agencies",
        data={"name": "绍兴市市场监督管理局", "jurisdiction_code": "330600", "email": "Chief@SX.example.cn"},
    )
    assert r.status_code == 302
    with app.app_context():
        agency = db.session.scalar(select(Regulator).where(Regulator.name == "绍兴市市场监督管理局"))
        assert agency is not None and agency.jurisdiction_code == "330600"
    link = link_in(outbox[-1].body)
    client.post("/account/signout")
    chief = create_user("chief@sx.example.cn")
    login(client, chief)
    assert client.post(link).status_code == 302
    assert client.post(link).status_code == 410  # used once
    assert client.get("/regulator/").status_code == 200
    page = client.get("/regulator/team").get_data(as_text=True)
    assert "chief@sx.example.cn" in page and 'name="email"' in page
    # the owner invites a colleague as an analyst; a withdrawn link no longer works
    assert (
        client.post("/regulator/invite", data={"email": "gone@sx.example.cn", "role": "analyst"}).status_code
        == 302
    )
    gone = link_in(outbox[-1].body)
    assert (
        client.post("/regulator/invite", data={"email": "ana@sx.example.cn", "role": "analyst"}).status_code
        == 302
    )
    ana_link = link_in(outbox[-1].body)
    with app.app_context():
        from webapp.models import Invitation

        waiting = db.session.scalar(select(Invitation).where(Invitation.email == "gone@sx.example.cn"))
        assert waiting.regulator_id == agency.id
    assert client.post(f"/regulator/invitations/{waiting.id}/revoke").status_code == 302
    client.post("/account/signout")
    login(client, create_user("gone@sx.example.cn"))
    assert client.post(gone).status_code == 410
    client.post("/account/signout")
    login(client, create_user("ana@sx.example.cn"))
    assert client.post(ana_link).status_code == 302
    assert client.get("/regulator/").status_code == 200
    # an analyst reads the statistics but does not invite
    assert (
        client.post("/regulator/invite", data={"email": "x@sx.example.cn", "role": "analyst"}).status_code
        == 403
    )
    with app.app_context():
        roles = dict(
            db.session.execute(
                select(User.email, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.regulator_id == agency.id)
            ).all()
        )
    assert roles == {"chief@sx.example.cn": "owner", "ana@sx.example.cn": "analyst"}


def test_only_a_platform_admin_creates_agencies(app, client, create_user, login):
    login(client, create_user())
    r = client.post(
        "/admin/agencies", data={"name": "假冒监管局", "jurisdiction_code": "330100", "email": "a@b.cn"}
    )
    assert r.status_code == 403


@pytest.mark.parametrize("jurisdiction", ["330100", "330000"])
def test_where_help_would_count_repeats_what_each_cut_shows(app, population, jurisdiction):
    with app.app_context():
        st = stats.compute(jurisdiction, k=2)  # a small k: the test population shows some near cells
        views = stats.all_views(jurisdiction, k=2)
        expected = _expected(jurisdiction)
    candidates = [
        (view, key, cells["near"])
        for view, v in views.items()
        if view[0] in ("region", "industry")
        for key, cells in v.rows("readiness").items()
        if "near" in cells and cells["near"].shown and cells["near"].value
    ]
    assert len(st.near) == min(len(candidates), 10)
    assert st.near or jurisdiction == "330100"  # few firms are near a target in each district
    for view, key, cell in st.near:
        assert view[0] in ("region", "industry")
        assert views[view].rows("readiness")[key]["near"] == cell
        assert cell.value == expected[view]["readiness"][(*key, "near")] >= 2
    values = [c.value for _, _, c in st.near]
    assert values == sorted(values, reverse=True)
    with app.app_context():
        assert stats.compute(jurisdiction, ("size", "small")).near == []  # only for the whole jurisdiction


def test_the_english_exports_and_page(app, client, create_user, login, population):
    """The English XLSX once failed (a worksheet named with a colon); the English page's Chinese is
    data marked as such (the plans' quotes), never the UI's own words."""
    from openpyxl import load_workbook

    with app.app_context():
        r = Regulator(name="Zhejiang AMR", jurisdiction_code="330000")
        db.session.add(r)
        db.session.flush()
        user = create_user(locale="en")
        db.session.add(Membership(user_id=user.id, regulator_id=r.id, role="analyst"))
        db.session.commit()
    login(client, user)
    x = client.get("/regulator/export.xlsx")
    assert x.status_code == 200
    titles = load_workbook(io.BytesIO(x.data)).sheetnames
    assert any("Where help would count" in t for t in titles), titles
    page = client.get("/regulator/").get_data(as_text=True)
    assert "规上" not in page
    # a quick mode's title says it is a screening already: the page does not say it twice
    assert "Quick self-check (screening)" in page and "(screening) (screening)" not in page
    assert '<q lang="zh">到2025年，培育“品字标”品牌企业2500家</q>' in page
