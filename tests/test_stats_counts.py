"""The regulator statistics' counts added up ahead (`webapp.stats.counts`): they give the figures the
kept results give, after every kind of change made to a firm in the same transaction as that change;
a dashboard view costs the same few statements however many firms there are; and
`STATS_DATABASE_URL` sends the statistics' reads to another database (a read replica)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from tests.test_regstats import TODAY, _regulator, population  # noqa: F401 - the fixture
from webapp import create_app, db, tenancy
from webapp.models import Assessment, Firm, Membership, StatsCount, User
from webapp.orgs import services as org_services
from webapp.privacy import services as privacy
from webapp.questionnaire import storage
from webapp.questionnaire.engine_bridge import framework_of, submission
from webapp.stats import counts, results
from webapp.stats import service as stats

JURISDICTIONS = ("330000", "330100", "330106", "330600")


def _approx(raw: stats.Raw) -> dict[Any, Any]:
    """The figures, averages to within a millionth (summed in another order)."""
    return {
        view: {
            table: {
                key: {
                    col: pytest.approx(v, abs=1e-6) if isinstance(v, float) else v for col, v in cells.items()
                }
                for key, cells in rows.items()
            }
            for table, rows in tables.items()
        }
        for view, tables in raw.items()
    }


def _table() -> list[tuple[Any, ...]]:
    rows = db.session.execute(select(StatsCount.__table__).where(StatsCount.firms != 0)).all()
    return sorted((*r[:-2], round(float(r[-2]), 2), r[-1]) for r in rows)


def _check() -> None:
    """The counts as kept equal the counts written again from scratch, and every jurisdiction's
    figures from them equal the figures read straight from the kept results."""
    with tenancy.bypass():
        kept = _table()
        counts.rebuild()
        assert _table() == kept
    for j in JURISDICTIONS:
        got, want = stats.raw_figures(j), _approx(stats.raw_from_results(j))
        diff = [
            (view, table, key, (got.get(view, {}).get(table, {}).get(key), rows.get(key)))
            for view in got.keys() | want.keys()
            for table in got.get(view, {}).keys() | want.get(view, {}).keys()
            for rows in [want.get(view, {}).get(table, {})]
            for key in got.get(view, {}).get(table, {}).keys() | rows.keys()
            if got.get(view, {}).get(table, {}).get(key) != rows.get(key)
        ]
        assert not diff, (j, diff[:5])


def _firm_profile(firm: Firm, **changes: Any) -> org_services.FirmData:
    data = {
        "name": firm.name,
        "credit_code": firm.credit_code,
        "region_code": firm.region_code,
        "industry_division": firm.industry_division,
        "employees": firm.employees,
        "revenue_10k": firm.revenue_10k,
        "total_assets_10k": firm.total_assets_10k,
        "above_scale": firm.above_scale,
        "founded_on": firm.founded_on,
        "share_statistics": firm.share_statistics,
    }
    return org_services.FirmData(**{**data, **changes})


def test_the_counts_follow_every_change_to_a_firm_in_its_transaction(app, create_user, population):  # noqa: F811
    from webapp.commands.demo import assessments as questionnaire_demo

    with app.app_context(), tenancy.bypass():
        _check()
        assert db.session.scalar(select(StatsCount.firms).where(StatsCount.figure == "overview").limit(1))

        # a firm submits (through the questionnaire's submit): its rounds are counted
        owner = db.session.get(User, create_user().id)
        firm = db.session.get(Firm, population[0])
        fresh = Firm(
            name="统计新提交企业",
            credit_code="91330106MA2NEW0001",
            region_code="330106",
            industry_division="34",
            size_class="small",
            above_scale=False,
            share_statistics=True,
        )
        db.session.add(fresh)
        db.session.flush()
        db.session.add(Membership(user_id=owner.id, firm_id=fresh.id, role="owner"))
        before = stats.raw_figures("330106")[stats.ALL]["overview"][()]["firms"]
        questionnaire_demo.load(fresh, owner, today=TODAY)
        db.session.flush()
        kept = select(results.AssessmentResult).where(results.AssessmentResult.firm_id == fresh.id)
        assert len(db.session.scalars(kept).all()) == 4  # its submitted rounds
        assert stats.raw_figures("330106")[stats.ALL]["overview"][()]["firms"] == before + 1
        _check()

        # a firm moves to another county and industry, then one of its results is kept again: its
        # results no longer share one place, and it still counts once in the jurisdiction
        org_services.update_firm(firm, _firm_profile(firm, region_code="330110", industry_division="17"))
        a = db.session.scalars(
            select(Assessment).where(Assessment.firm_id == firm.id, Assessment.status == "submitted")
        ).first()
        assert a is not None
        fw = framework_of(a.framework_id, a.framework_version)
        from webapp.models import Answer, Evidence

        rows = db.session.execute(
            select(Answer.item_id, Answer.value, Answer.na_reason).where(Answer.assessment_id == a.id)
        ).all()
        ev = set(db.session.scalars(select(Evidence.item_id).where(Evidence.assessment_id == a.id)))
        import scoring

        result = scoring.score(
            fw, submission(rows, ev, org_services.profile_facts(firm, a.as_of), a.mode, a.as_of)
        )
        results.record(a, result)
        places = db.session.scalars(
            select(results.AssessmentResult.region_code).where(results.AssessmentResult.firm_id == firm.id)
        ).all()
        assert len(set(places)) == 2
        _check()

        # consent withdrawn, then given again
        org_services.update_firm(firm, _firm_profile(firm, share_statistics=False))
        db.session.flush()
        _check()
        org_services.update_firm(firm, _firm_profile(firm, share_statistics=True))
        db.session.flush()
        _check()

        # a firm deleted
        gone = db.session.get(Firm, population[-1])
        privacy.purge_firm(gone, storage.store(app))
        db.session.flush()
        _check()
        db.session.rollback()


def _statements(app: Any, client: Any, path: str) -> list[str]:
    seen: list[str] = []
    engine = app.extensions["qready.db"]["engine"]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_a_dashboard_view_costs_the_same_statements_however_many_firms(
    app,
    client,
    create_user,
    create_firm,
    login,
    population,  # noqa: F811
):
    analyst = _regulator(app, create_user, jurisdiction="330000", name="浙江省市场监督管理局")
    login(client, analyst)
    few = _statements(app, client, "/regulator/?cut=region:330100")
    # as many firms again, with their rounds
    from webapp.commands.demo import statistics as stats_demo

    for n in range(40):
        create_firm(
            f"统计加倍企业{n}",
            region=("330106", "330602", "330212")[n % 3],
            division="34",
            size_class="small",
            above_scale=False,
            synthetic=True,
            share_statistics=True,
            founded_on=dt.date(2012, 1, 1),
        )
    with app.app_context(), tenancy.bypass():
        assert stats_demo.load(today=TODAY) >= 40
        db.session.commit()
    many = _statements(app, client, "/regulator/?cut=region:330100")
    assert len(many) == len(few)
    read = [s for s in many if "stats_counts" in s]
    assert len(read) == 1  # every figure of every view of the jurisdiction in one statement
    assert not [s for s in many if "assessment_result" in s]  # never the kept results themselves


def test_stats_database_url_sends_the_statistics_reads_there(app, database_url, tmp_path):
    replica = "sqlite:///" + str(tmp_path / "replica.sqlite3")
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "STATS_DATABASE_URL": replica,
            "SECRET_KEY": "test-secret-key",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        ext = other.extensions["qready.db"]
        assert str(ext["stats_engine"].url) == replica
        StatsCount.__table__.create(ext["stats_engine"])
        with ext["stats_engine"].begin() as conn:
            conn.execute(
                insert(StatsCount.__table__),
                [
                    {
                        "region": "3301",
                        "figure": "overview",
                        "k1": "",
                        "k2": "",
                        "k3": "",
                        "k4": "",
                        "dim": "all",
                        "value": "",
                        "firms": 4321,
                        "assessments": 8765,
                        "total": 0,
                        "scored": 0,
                    }
                ],
            )
        with other.app_context():
            over = stats.raw_figures("330100")[stats.ALL]["overview"][()]
            assert over == {"firms": 4321, "assessments": 8765}  # what only the replica holds
            shown = stats.compute("330100")
            assert shown.rows("overview")[()]["firms"].value == 4321
        with app.app_context():  # the main database's own counts say otherwise
            assert stats.raw_figures("330100").get(stats.ALL, {}).get("overview", {}).get(()) != over
    finally:
        db.dispose(other)


@pytest.mark.parametrize("url", ["", None])
def test_without_stats_database_url_the_statistics_read_the_main_database(app, url):
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "STATS_DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with other.app_context():
        assert db.stats_engine() is None
    db.dispose(other)
