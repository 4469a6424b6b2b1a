"""Two users answer the same shared fact at the same moment, each in a draft of another framework.

Each save writes its own answer, then the firm's fact and the same fact in the firm's other drafts
(`facts.share_fact`): without a fixed order, the two transactions locked the same rows in opposite
orders and PostgreSQL broke the deadlock by failing one of them (500). These tests commit for real,
from two threads, like the server's workers (see tests/test_save_lock.py), and remove what they
made. On SQLite a writing request holds the database's write lock from its first statement, so the
saves queue; the same end state is asserted."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from tests.conftest import PASSWORD
from webapp import db, tenancy
from webapp.auth.util import hash_password
from webapp.models import Answer, AnswerHistory, Assessment, FactAnswer, Firm, Membership, User
from webapp.refdata import credit_code

pytestmark = pytest.mark.db

ITEMS = {"pinzibiao": "pzb-iso9001", "performance-excellence": "pe-elig-iso9001"}


@pytest.fixture
def two_editors(app: Any) -> Iterator[tuple[list[Any], int, dict[str, int]]]:
    """A firm with a draft of each framework in ITEMS and two signed-in editors, all committed:
    ([client, client], firm id, {framework: assessment id}). Removed afterwards."""
    from webapp.questionnaire import rounds

    emails = ("fact-race-a@example.cn", "fact-race-b@example.cn")
    with app.app_context(), tenancy.bypass():
        users = [
            User(
                email=e,
                name=n,
                password_hash=hash_password(PASSWORD),
                email_verified_at=db.utcnow(),
                locale="zh",
            )
            for e, n in zip(emails, ("张三 Editor", "李四 Editor"), strict=True)
        ]
        firm = Firm(
            name="杭州共享事实有限公司",
            credit_code=credit_code.generate(random.Random(23), "330106"),
            region_code="330106",
            industry_division="34",
            employees=80,
            size_class="small",
        )
        db.session.add_all([*users, firm])
        db.session.flush()
        db.session.add_all([Membership(user_id=u.id, firm_id=firm.id, role="owner") for u in users])
        drafts = {}
        for fw in ITEMS:
            a, _ = rounds.start(firm.id, fw, "quick" if fw == "performance-excellence" else None, users[0])
            drafts[fw] = a.id
        db.session.commit()
        user_ids, firm_id = [u.id for u in users], firm.id
    clients = []
    try:
        for e in emails:
            c = app.test_client()
            assert c.post("/account/signin", data={"email": e, "password": PASSWORD}).status_code == 302
            clients.append(c)
        yield clients, firm_id, drafts
    finally:
        with app.app_context(), tenancy.bypass():
            db.session.execute(delete(Firm).where(Firm.id == firm_id))
            db.session.execute(delete(User).where(User.id.in_(user_ids)))
            db.session.commit()


def _reset(app: Any, firm_id: int) -> None:
    """No answer and no fact yet: the next two saves are both first answers."""
    with app.app_context(), tenancy.bypass():
        for model in (AnswerHistory, Answer, FactAnswer):
            db.session.execute(delete(model).where(model.firm_id == firm_id))
        db.session.commit()


def _race(
    saves: list[tuple[Any, str, str, Any]], items: dict[str, str] = ITEMS
) -> tuple[dict[str, Any], list[BaseException]]:
    """Each (client, autosave URL, framework, value) posted from its own thread at the same moment,
    answering `items[framework]`."""
    start = threading.Barrier(len(saves))
    replies: dict[str, Any] = {}
    failures: list[BaseException] = []

    def save(client: Any, url: str, fw: str, value: Any) -> None:
        try:
            start.wait(5)
            replies[fw] = client.post(url, json={"item": items[fw], "version": 0, "value": value})
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=save, args=args) for args in saves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return replies, failures


def test_two_first_answers_to_one_shared_fact_at_once_never_fail(app, two_editors):
    clients, firm_id, drafts = two_editors
    values = {"pinzibiao": True, "performance-excellence": False}
    for _round in range(20):
        _reset(app, firm_id)
        replies, failures = _race(
            [
                (c, f"/firms/{firm_id}/assessments/{drafts[fw]}/autosave", fw, values[fw])
                for c, fw in zip(clients, ITEMS, strict=True)
            ]
        )
        assert not failures, failures
        statuses = sorted(r.status_code for r in replies.values())
        # one wins; the other is saved after it (it found nothing written yet) or sees a conflict
        assert statuses in ([200, 200], [200, 409]), {
            fw: (r.status_code, r.json) for fw, r in replies.items()
        }
        for fw, r in replies.items():
            if r.status_code == 409:
                assert r.json["error"] == "conflict"
                other = next(f for f in ITEMS if f != fw)
                assert r.json["theirs"]["value"] is values[other] and r.json["yours"]["value"] is values[fw]
        with app.app_context(), tenancy.bypass():
            (fact,) = db.session.scalars(select(FactAnswer).where(FactAnswer.firm_id == firm_id)).all()
            answers = {
                a.assessment_id: a
                for a in db.session.scalars(select(Answer).where(Answer.firm_id == firm_id)).all()
            }
            # the fact and both drafts agree, on the answer that was saved last
            assert {answers[drafts[fw]].item_id for fw in ITEMS} == set(ITEMS.values())
            assert all(answers[drafts[fw]].value is fact.value for fw in ITEMS)
            assert fact.source_assessment_id in drafts.values()
            # one history row per accepted change, each with the version it gave
            for fw in ITEMS:
                hist = db.session.scalars(
                    select(AnswerHistory)
                    .where(AnswerHistory.assessment_id == drafts[fw])
                    .order_by(AnswerHistory.version)
                ).all()
                assert [h.version for h in hist] == list(range(1, answers[drafts[fw]].version + 1))
                assert hist[-1].new_value is fact.value
            kept = db.session.scalars(select(Assessment).where(Assessment.firm_id == firm_id)).all()
            assert all(a.status == "draft" for a in kept)


def test_two_shared_facts_answered_crosswise_at_once_both_land_everywhere(app, two_editors):
    """One editor answers a fact in the first draft while the other answers another fact in the
    second: each save carries its fact into the other's draft. Both are saved, in both drafts."""
    clients, firm_id, drafts = two_editors
    crosswise = {"pinzibiao": "pzb-iso9001", "performance-excellence": "pe-elig-iso14001"}
    for _round in range(10):
        _reset(app, firm_id)
        replies, failures = _race(
            [
                (c, f"/firms/{firm_id}/assessments/{drafts[fw]}/autosave", fw, True)
                for c, fw in zip(clients, ITEMS, strict=True)
            ],
            crosswise,
        )
        assert not failures, failures
        assert [r.status_code for r in replies.values()] == [200, 200]
        with app.app_context(), tenancy.bypass():
            facts = db.session.scalars(select(FactAnswer).where(FactAnswer.firm_id == firm_id)).all()
            assert {(f.fact, f.value) for f in facts} == {
                ("iso9001_certified", True),
                ("iso14001_certified", True),
            }
            answers = db.session.scalars(select(Answer).where(Answer.firm_id == firm_id)).all()
            assert {(a.item_id, a.value, a.version) for a in answers} == {
                ("pzb-iso9001", True, 1),
                ("pzb-iso14001", True, 1),
                ("pe-elig-iso9001", True, 1),
                ("pe-elig-iso14001", True, 1),
            }
            hist = db.session.scalars(select(AnswerHistory).where(AnswerHistory.firm_id == firm_id)).all()
            assert len(hist) == 4 and sum(h.via_fact is not None for h in hist) == 2
