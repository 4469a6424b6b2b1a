"""Migrations match the models; the engine and the criteria library stay free of Flask and SQLAlchemy;
configuration refuses to run production without a secret; the demo data loads twice the same."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from webapp import ROOT, config, db, tenancy
from webapp.db import Base


def test_models_and_migrations_do_not_drift(app, dbconn):
    ctx = MigrationContext.configure(dbconn, opts={"compare_type": True})
    assert compare_metadata(ctx, Base.metadata) == []


def test_scoring_and_assessments_import_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, scoring, scoring.model, assessments\n"
        "import importlib, pkgutil\n"
        "for pkg in (scoring, assessments):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'webapp', 'werkzeug'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_production_refuses_to_start_without_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("QREADY_ENV", "production")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load(str(tmp_path))


def test_development_generates_a_secret_once(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("QREADY_ENV", raising=False)
    first = config.load(str(tmp_path))["SECRET_KEY"]
    assert len(first) == 64 and (tmp_path / "secret_key").exists()
    assert config.load(str(tmp_path))["SECRET_KEY"] == first


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://example/db")
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    cfg = config.load(str(tmp_path), {"SECRET_KEY": "x"})
    assert cfg["DATABASE_URL"] == "postgresql://example/db"
    assert cfg["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024


def test_every_environment_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for var in config.ENV_VARS:
        assert f"`{var}`" in readme, var


def test_demo_is_idempotent(app, dbconn):
    from webapp.models import Consultancy, ConsultancyGrant, Firm, Membership, Regulator, User

    def counts():
        with app.app_context(), tenancy.bypass():
            return {
                m.__name__: db.session.scalar(select(func.count()).select_from(m))
                for m in (User, Firm, Membership, Consultancy, ConsultancyGrant, Regulator)
            }

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "firm@demo.qready.cn" in result.output
    first = counts()
    assert first["Firm"] == 303 and first["Regulator"] == 1 and first["ConsultancyGrant"] == 2
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert counts() == first
    with app.app_context(), tenancy.bypass():
        cities = {f.region_code[:4] for f in db.session.scalars(select(Firm))}
        sizes = {f.size_class for f in db.session.scalars(select(Firm))}
    assert len(cities) == 11
    assert {"large", "medium", "small", "micro"} <= sizes
