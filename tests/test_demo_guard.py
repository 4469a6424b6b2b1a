"""`flask demo`: never in production, and safe to run again after its firms were edited."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp import create_app, db, tenancy
from webapp.models import Firm, User


def test_demo_refuses_to_run_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("QREADY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-for-the-test")
    app = create_app({"DATABASE_URL": "sqlite:///" + str(tmp_path / "prod.sqlite3")})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "QREADY_ENV=production" in result.output and "demo-pass-2026" in result.output
    assert "Demo data ready" not in result.output
    assert not (tmp_path / "prod.sqlite3").exists() or (tmp_path / "prod.sqlite3").stat().st_size == 0


def test_demo_runs_again_after_its_firms_were_renamed(app, dbconn):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context(), tenancy.bypass():
        demo_firm = db.session.scalar(select(Firm).where(Firm.name == "杭州精工阀门有限公司"))
        synthetic = db.session.scalars(select(Firm).where(Firm.synthetic.is_(True)).order_by(Firm.id)).first()
        demo_firm.name = "杭州精工阀门股份有限公司"  # the owner edits the profile
        synthetic.name = "改名后的合成企业有限公司"
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(Firm))

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context(), tenancy.bypass():
        assert db.session.scalar(select(func.count()).select_from(Firm)) == before
        names = set(db.session.scalars(select(Firm.name)))
        assert {"杭州精工阀门股份有限公司", "改名后的合成企业有限公司"} <= names
        assert "杭州精工阀门有限公司" not in names
        owner = db.session.scalar(select(User).where(User.email == "firm@demo.qready.cn"))
        assert owner is not None
