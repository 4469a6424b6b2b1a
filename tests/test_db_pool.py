"""Pooled connections are checked before use when they sat idle (webapp.db._ping_when_idle): a
connection the database dropped meanwhile is replaced instead of failing the request."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from webapp import db

pytestmark = pytest.mark.db


def _kill(engine) -> None:
    """Drop the pooled connection behind the pool's back: PostgreSQL ends the backend; SQLite closes it."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        raw = conn.connection.dbapi_connection
        pid = (
            conn.execute(text("SELECT pg_backend_pid()")).scalar()
            if engine.dialect.name == "postgresql"
            else None
        )
    if pid is None:
        raw.close()
        return
    other = db.make_engine(engine.url.render_as_string(hide_password=False))
    with other.begin() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_an_idle_connection_the_database_dropped_is_replaced(database_url, monkeypatch):
    engine = db.make_engine(database_url)
    engine.pool.dispose()
    try:
        _kill(engine)
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url, monkeypatch):
    engine = db.make_engine(database_url)
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_a_read_only_session_refuses_to_write(app, dbconn):
    from sqlalchemy.orm import Session

    from webapp.models import Consultancy

    with Session(bind=dbconn, info={"read_only": True}) as session:
        session.add(Consultancy(name="只读", code="RO-1"))
        with pytest.raises(RuntimeError, match="read-only"):
            session.flush()


def test_hot_statements_read_and_write_what_sqlalchemy_would(app, owner_client):
    """On PostgreSQL `db.HotStatement` hands SQL to psycopg directly: the values it reads (JSON answers,
    zoned timestamps) and writes (JSON, UTC times) must be the ones SQLAlchemy itself gives and takes."""
    from tests.test_questionnaire import save, start
    from webapp import tenancy
    from webapp.questionnaire import services

    client, firm, _ = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    assert save(client, firm.id, aid, "pzb-type-test", 0, value="third-party-pass").status_code == 200
    assert save(client, firm.id, aid, "pzb-certified", 1, value=False).status_code == 200
    with app.test_request_context(), tenancy.bypass():
        hot = services.answer_states(aid)
        through_sqlalchemy = {
            r[0]: services.AnswerState(*r)
            for r in db.session.connection().execute(services._statement("answers"), {"assessment_id": aid})
        }
        assert hot == through_sqlalchemy
        assert hot["pzb-certified"].value is False and hot["pzb-certified"].version == 2
        assert hot["pzb-certified"].updated_at.tzinfo is not None
        row = services.assessment_row(firm.id, aid)
        assert row is not None and row.status == "draft" and row.firm.region_code == firm.region_code
        assert row.scored_at is None  # the autosave only wrote
        draft, state = services.draft_item(firm.id, aid, "pzb-certified")
        assert draft == row._replace(firm=None, evidence=None)
        assert state == hot["pzb-certified"]
        assert services.draft_item(firm.id, aid, "pzb-iso9001")[1] == services.AnswerState("pzb-iso9001")
        services.progress(row)  # scores it, and keeps the figures with the hot UPDATE
        from webapp.models import Assessment

        summary = (
            db.session.connection().execute(select(Assessment.summary).where(Assessment.id == aid)).scalar()
        )
        assert summary["answered"] == 2  # written as JSON by the hot UPDATE, read back by SQLAlchemy
