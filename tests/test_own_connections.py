"""The statements that stand alone run, as served, on each worker thread's own autocommit connection
(`webapp.db.OwnConnections`): the signed-in user, a kept section page's stamp, the one-statement
autosave. The other tests run every statement inside one transaction per test, on its connection;
these commit for real (and remove what they made), so that the own connections are the ones used."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from tests.conftest import PASSWORD
from webapp import db, tenancy
from webapp.auth.util import hash_password
from webapp.models import Answer, AnswerHistory, Firm, Membership, User
from webapp.refdata import credit_code

pytestmark = pytest.mark.db


def _user(email: str, name: str) -> User:
    return User(
        email=email,
        name=name,
        password_hash=hash_password(PASSWORD),
        email_verified_at=db.utcnow(),
        locale="zh",
    )


@pytest.fixture
def served(app: Any) -> Iterator[tuple[Any, int, int]]:
    """A signed-in owner of a firm with a draft `pinzibiao`, all committed: (client, firm id, assessment
    id). Removed afterwards, with everything that hangs off the firm and the user."""
    from webapp.questionnaire import services

    with app.app_context(), tenancy.bypass():
        user = _user("own-connection@example.cn", "自有连接 Owner")
        firm = Firm(
            name="杭州自有连接有限公司",
            credit_code=credit_code.generate(random.Random(11), "330106"),
            region_code="330106",
            industry_division="34",
            employees=80,
            size_class="small",
        )
        db.session.add_all([user, firm])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
        a, _ = services.start(firm.id, "pinzibiao", None, user)
        db.session.commit()
        ids = (user.id, firm.id, a.id)
    client = app.test_client()
    try:
        r = client.post("/account/signin", data={"email": "own-connection@example.cn", "password": PASSWORD})
        assert r.status_code == 302
        yield client, ids[1], ids[2]
    finally:
        with app.app_context(), tenancy.bypass():
            db.session.execute(delete(Firm).where(Firm.id == ids[1]))
            db.session.execute(delete(User).where(User.id == ids[0]))
            db.session.commit()


def _own(app: Any) -> Any:
    return app.extensions["qready.db"]["own"]


def test_autosave_and_pages_run_on_the_workers_own_connection(app, served):
    client, firm_id, aid = served
    url = f"/firms/{firm_id}/assessments/{aid}"
    postgres = app.extensions["qready.db"]["engine"].dialect.name == "postgresql"
    # PostgreSQL has them; SQLite runs the same statements through the session
    assert (_own(app) is not None) == postgres
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 0, "value": True})
    assert r.status_code == 200 and r.json["version"] == 1
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 1, "value": False})
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["saved"]
    if postgres:
        # the database drops the connection (a restart): the next statement opens another, once
        (conn,) = _own(app)._idle  # the one the last request gave back
        with app.app_context():
            other = db.make_engine(app.config["DATABASE_URL"])
            with other.begin() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": conn.info.backend_pid})
            other.dispose()
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 2, "value": True})
    assert r.status_code == 200 and r.json["version"] == 3
    if postgres:
        (now,) = _own(app)._idle
        assert now is not conn and conn.closed and not now.closed
    page = client.get(f"{url}/sections/management")
    assert page.status_code == 200 and 'data-version="3"' in page.get_data(as_text=True)
    again = client.get(f"{url}/sections/management", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304  # the kept page, its stamp read with the user in one round trip
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 3, "value": False})
    assert r.status_code == 200 and r.json["version"] == 4
    changed = client.get(f"{url}/sections/management", headers={"If-None-Match": page.headers["ETag"]})
    assert changed.status_code == 200 and 'data-version="4"' in changed.get_data(as_text=True)
    with app.app_context(), tenancy.bypass():
        (answer,) = db.session.scalars(select(Answer).where(Answer.assessment_id == aid)).all()
        assert answer.value is False and answer.version == 4
        history = db.session.scalars(
            select(AnswerHistory).where(AnswerHistory.assessment_id == aid).order_by(AnswerHistory.version)
        ).all()
        assert [(h.old_value, h.new_value, h.version) for h in history] == [
            (None, True, 1),
            (True, False, 2),
            (False, True, 3),
            (True, False, 4),
        ]


def test_a_page_read_with_the_user_is_still_only_for_those_who_may_see_it(app, served):
    """The section page's stamp is read with the signed-in user, before the access rule runs: another
    firm's user still gets 404, and the owner's page is not changed by their request."""
    client, firm_id, aid = served
    page = f"/firms/{firm_id}/assessments/{aid}/sections/management"
    with app.app_context(), tenancy.bypass():
        stranger = _user("own-connection-other@example.cn", "别家 Owner")
        db.session.add(stranger)
        db.session.commit()
        stranger_id = stranger.id
    try:
        other = app.test_client()
        r = other.post(
            "/account/signin", data={"email": "own-connection-other@example.cn", "password": PASSWORD}
        )
        assert r.status_code == 302
        assert other.get(page).status_code == 404
        assert other.head(page).status_code == 404
        assert client.get(page).status_code == 200
        # the owner's own firm, an assessment it does not have: the stamp found no row, and it says so
        missing = f"/firms/{firm_id}/assessments/{aid + 100000}/sections/management"
        assert client.get(missing).status_code == 404
        assert client.head(missing).status_code == 404
    finally:
        with app.app_context():
            db.session.execute(delete(User).where(User.id == stranger_id))
            db.session.commit()


def test_a_request_whose_statements_stood_alone_ends_no_transaction(app, served):
    """The one-statement autosave holds no pooled connection: nothing is left to commit."""
    client, firm_id, aid = served
    url = f"/firms/{firm_id}/assessments/{aid}/autosave"
    assert client.post(url, json={"item": "pzb-rd-intensity", "version": 0, "value": True}).status_code == 200
    pool = app.extensions["qready.db"]["engine"].pool
    before = pool.checkedout()
    checkouts = []
    from sqlalchemy import event

    def count(*_args: Any) -> None:
        checkouts.append(1)

    event.listen(pool, "checkout", count)
    try:
        r = client.post(url, json={"item": "pzb-rd-intensity", "version": 1, "value": False})
        assert r.status_code == 200 and r.json["version"] == 2
    finally:
        event.remove(pool, "checkout", count)
    assert pool.checkedout() == before
    if _own(app) is not None:
        assert checkouts == []  # user and write on the own connection
    else:
        assert checkouts  # SQLite: the session's connection, as always


def test_a_save_racing_an_uncommitted_change_becomes_a_conflict(app, served):
    """Another editor's change is being written (not committed yet) when the autosave arrives with
    the version both started from: the autosave waits for it and, once it lands, answers with a
    conflict showing it — never writing over it."""
    import threading

    client, firm_id, aid = served
    url = f"/firms/{firm_id}/assessments/{aid}/autosave"
    assert client.post(url, json={"item": "pzb-rd-intensity", "version": 0, "value": True}).status_code == 200
    assert (
        client.post(url, json={"item": "pzb-rd-intensity", "version": 1, "value": False}).status_code == 200
    )
    other = db.make_engine(app.config["DATABASE_URL"])
    replies: list[Any] = []
    try:
        with other.connect() as conn:
            tx = conn.begin()
            conn.execute(
                text(
                    "UPDATE answers SET value = 'true', version = 3 WHERE assessment_id = :a"
                    " AND item_id = 'pzb-rd-intensity'"
                ),
                {"a": aid},
            )
            racer = threading.Thread(
                target=lambda: replies.append(
                    client.post(url, json={"item": "pzb-rd-intensity", "version": 2, "value": None})
                )
            )
            racer.start()
            racer.join(0.5)  # the autosave is waiting for the other change's row lock
            tx.commit()
            racer.join(10)
    finally:
        other.dispose()
    (r,) = replies
    assert r.status_code == 409 and r.json["error"] == "conflict"
    assert r.json["theirs"]["value"] is True and r.json["theirs"]["version"] == 3
    with app.app_context(), tenancy.bypass():
        (answer,) = db.session.scalars(select(Answer).where(Answer.assessment_id == aid)).all()
        assert answer.value is True and answer.version == 3
