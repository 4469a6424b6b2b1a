"""The one save path, as served: these tests commit for real (and remove what they made), from two
threads like the server's workers, on both databases.

A save and a submission of the same assessment take turns on its row (`answers.lock`): a save that
began before a submission commits either lands before it or is refused as read-only, never written
into a submitted assessment. A save racing another editor's uncommitted change waits for it and
becomes a conflict. A pooled connection the database dropped is replaced."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from tests.conftest import PASSWORD
from tests.test_questionnaire import fill, pdf_bytes, upload
from webapp import db, tenancy
from webapp.auth.util import hash_password
from webapp.models import Answer, AnswerHistory, Assessment, Firm, Membership, User
from webapp.refdata import credit_code

pytestmark = pytest.mark.db

LAST = "pzb-traceability"  # a required yes/no question that needs no evidence and sets no fact


def _user(email: str, name: str) -> User:
    return User(
        email=email,
        name=name,
        password_hash=hash_password(PASSWORD),
        email_verified_at=db.utcnow(),
        locale="zh",
    )


@pytest.fixture
def served(app: Any) -> Iterator[tuple[Any, int, int, int]]:
    """A signed-in owner of a firm with a draft `pinzibiao`, all committed: (client, firm id, assessment
    id, user id). Removed afterwards, with everything that hangs off the firm and the user."""
    from webapp.questionnaire import rounds

    with app.app_context(), tenancy.bypass():
        user = _user("save-lock@example.cn", "锁定 Owner")
        firm = Firm(
            name="杭州保存锁有限公司",
            credit_code=credit_code.generate(random.Random(13), "330106"),
            region_code="330106",
            industry_division="34",
            employees=80,
            size_class="small",
        )
        db.session.add_all([user, firm])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
        a, _ = rounds.start(firm.id, "pinzibiao", None, user)
        db.session.commit()
        ids = (user.id, firm.id, a.id)
    client = app.test_client()
    try:
        r = client.post("/account/signin", data={"email": "save-lock@example.cn", "password": PASSWORD})
        assert r.status_code == 302
        yield client, ids[1], ids[2], ids[0]
    finally:
        with app.app_context(), tenancy.bypass():
            db.session.execute(delete(Firm).where(Firm.id == ids[1]))
            db.session.execute(delete(User).where(User.id == ids[0]))
            db.session.commit()


def _ready_but(client: Any, firm_id: int, aid: int, skip: tuple[str, ...] = ()) -> None:
    """Every answer at its best (but `skip`), and a file for each item that needs one."""
    fill(client, firm_id, aid, "pinzibiao", skip=skip)
    r = client.post(f"/firms/{firm_id}/assessments/{aid}/submit")
    assert r.status_code == 422
    for item in sorted(set(re.findall(r"#item-([a-z0-9-]+)\">", r.get_data(as_text=True))) - set(skip)):
        assert upload(client, firm_id, aid, item, f"{item}.pdf", pdf_bytes(item)).status_code == 303


def _in_thread(do: Any) -> tuple[threading.Thread, list[Any]]:
    replies: list[Any] = []
    t = threading.Thread(target=lambda: replies.append(do()))
    t.start()
    return t, replies


def _answer(app: Any, aid: int, item: str) -> tuple[Any, int] | None:
    with app.app_context(), tenancy.bypass():
        row = db.session.scalars(
            select(Answer).where(Answer.assessment_id == aid, Answer.item_id == item)
        ).first()
        return (row.value, row.version) if row is not None else None


def test_a_save_sent_while_a_submission_commits_is_refused_and_writes_nothing(app, served):
    """The submission holds the assessment (not committed yet) when an autosave arrives: the autosave
    waits, then finds it submitted — read-only, nothing written into the submitted assessment."""
    from webapp.questionnaire import submit as submitting

    client, firm_id, aid, user_id = served
    _ready_but(client, firm_id, aid)
    before = _answer(app, aid, "pzb-certified")
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        assert submitting.submit(a, db.session.get(User, user_id)) == []  # not committed yet
        url = f"/firms/{firm_id}/assessments/{aid}/autosave"
        t, replies = _in_thread(
            lambda: client.post(url, json={"item": "pzb-certified", "version": before[1], "value": False})
        )
        t.join(0.5)
        assert t.is_alive()  # waiting for the submission's lock
        db.session.commit()
    t.join(10)
    (r,) = replies
    assert r.status_code == 409 and r.json["error"] == "read_only"
    assert _answer(app, aid, "pzb-certified") == before
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Assessment, aid).status == "submitted"


def test_a_submission_sent_while_a_save_commits_waits_and_includes_it(app, served):
    """A save of the last required answer holds the assessment (not committed yet) when the submission
    arrives: the submission waits for it, then submits with that answer."""
    from webapp.questionnaire import answers, save

    client, firm_id, aid, user_id = served
    _ready_but(client, firm_id, aid, skip=(LAST,))
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        change = {LAST: answers.ItemChange(value=True)}
        saved = save.save_answers(a, change, db.session.get(User, user_id), {LAST: 0}, score=False)
        assert saved.ok and saved.saved  # not committed yet
        t, replies = _in_thread(lambda: client.post(f"/firms/{firm_id}/assessments/{aid}/submit"))
        t.join(0.5)
        assert t.is_alive()  # waiting for the save's lock
        db.session.commit()
    t.join(10)
    (r,) = replies
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/verdict")
    assert _answer(app, aid, LAST) == (True, 1)
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        assert a.status == "submitted" and a.summary["answered"] == a.summary["applicable"]


def test_a_save_racing_an_uncommitted_change_becomes_a_conflict(app, served):
    """Another editor's change is being written (not committed yet) when the autosave arrives with
    the version both started from: the autosave waits for it and, once it lands, answers with a
    conflict showing it — never writing over it."""
    client, firm_id, aid, _user_id = served
    url = f"/firms/{firm_id}/assessments/{aid}/autosave"
    assert client.post(url, json={"item": "pzb-rd-intensity", "version": 0, "value": True}).status_code == 200
    assert (
        client.post(url, json={"item": "pzb-rd-intensity", "version": 1, "value": False}).status_code == 200
    )
    other = db.make_engine(app.config["DATABASE_URL"])
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
            t, replies = _in_thread(
                lambda: client.post(url, json={"item": "pzb-rd-intensity", "version": 2, "value": None})
            )
            t.join(0.5)  # the autosave is waiting for the other change's row lock
            tx.commit()
            t.join(10)
    finally:
        other.dispose()
    (r,) = replies
    assert r.status_code == 409 and r.json["error"] == "conflict"
    assert r.json["theirs"]["value"] is True and r.json["theirs"]["version"] == 3
    assert _answer(app, aid, "pzb-rd-intensity") == (True, 3)


def test_saves_and_pages_as_served_survive_a_dropped_connection(app, served, monkeypatch):
    """Autosaves, the section page and its revalidation, committed for real; the database drops the
    pooled connections between two requests (a restart): the next request still succeeds."""
    client, firm_id, aid, _user_id = served
    url = f"/firms/{firm_id}/assessments/{aid}"
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 0, "value": True})
    assert r.status_code == 200 and r.json["version"] == 1
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 1, "value": False})
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["saved"]
    if app.extensions["qready.db"]["engine"].dialect.name == "postgresql":
        other = db.make_engine(app.config["DATABASE_URL"])
        with other.begin() as admin:
            dropped = admin.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        other.dispose()
        assert dropped
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if the pool's connections sat idle
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 2, "value": True})
    assert r.status_code == 200 and r.json["version"] == 3
    page = client.get(f"{url}/sections/management")
    assert page.status_code == 200 and 'data-version="3"' in page.get_data(as_text=True)
    again = client.get(f"{url}/sections/management", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    r = client.post(f"{url}/autosave", json={"item": "pzb-rd-intensity", "version": 3, "value": False})
    assert r.status_code == 200 and r.json["version"] == 4
    changed = client.get(f"{url}/sections/management", headers={"If-None-Match": page.headers["ETag"]})
    assert changed.status_code == 200 and 'data-version="4"' in changed.get_data(as_text=True)
    with app.app_context(), tenancy.bypass():
        history = db.session.scalars(
            select(AnswerHistory).where(AnswerHistory.assessment_id == aid).order_by(AnswerHistory.version)
        ).all()
        assert [(h.old_value, h.new_value, h.version) for h in history] == [
            (None, True, 1),
            (True, False, 2),
            (False, True, 3),
            (True, False, 4),
        ]


def test_a_section_page_is_only_for_those_who_may_see_it(app, served):
    """Another firm's user gets 404 for the section page (GET and HEAD); so does the owner for an
    assessment their firm does not have."""
    client, firm_id, aid, _user_id = served
    page = f"/firms/{firm_id}/assessments/{aid}/sections/management"
    with app.app_context(), tenancy.bypass():
        stranger = _user("save-lock-other@example.cn", "别家 Owner")
        db.session.add(stranger)
        db.session.commit()
        stranger_id = stranger.id
    try:
        other = app.test_client()
        r = other.post("/account/signin", data={"email": "save-lock-other@example.cn", "password": PASSWORD})
        assert r.status_code == 302
        assert other.get(page).status_code == 404
        assert other.head(page).status_code == 404
        assert client.get(page).status_code == 200
        missing = f"/firms/{firm_id}/assessments/{aid + 100000}/sections/management"
        assert client.get(missing).status_code == 404
        assert client.head(missing).status_code == 404
    finally:
        with app.app_context():
            db.session.execute(delete(User).where(User.id == stranger_id))
            db.session.commit()


def test_a_draft_submitted_elsewhere_is_not_written(app, served):
    """The assessment is submitted by another worker after this one last saved into it: the autosave
    is refused as read-only and writes nothing."""
    client, firm_id, aid, _user_id = served
    url = f"/firms/{firm_id}/assessments/{aid}/autosave"
    assert client.post(url, json={"item": "pzb-rd-intensity", "version": 0, "value": True}).status_code == 200
    assert (
        client.post(url, json={"item": "pzb-rd-intensity", "version": 1, "value": False}).status_code == 200
    )
    with app.app_context(), tenancy.bypass():
        db.session.get(Assessment, aid).status = "submitted"
        db.session.commit()
    r = client.post(url, json={"item": "pzb-rd-intensity", "version": 2, "value": True})
    assert r.status_code == 409 and r.json["error"] == "read_only"
    assert _answer(app, aid, "pzb-rd-intensity") == (False, 2)
