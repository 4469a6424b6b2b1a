"""The autosave in one statement (`services.quick_save`, PostgreSQL) must answer, store and record
exactly what the full save (`services.save_answers`) does: the same sequence of autosaves, sent once
with the one statement allowed and once with it turned off, leaves the same responses, answers and
history. On SQLite the one statement never runs (and the test checks that too)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.test_questionnaire import start
from webapp import db, tenancy
from webapp.models import Answer, AnswerHistory, Assessment
from webapp.questionnaire import services

# (item, the autosave's JSON without the item); the comment says what the full save makes of it
PINZIBIAO = [
    ("pzb-rd-intensity", {"version": 0, "value": True}),  # a first answer
    ("pzb-rd-intensity", {"version": 1, "value": True}),  # the same again: nothing written
    ("pzb-rd-intensity", {"version": 1, "na": "本企业无单独的研发投入统计口径"}),  # N/A withdraws it
    ("pzb-rd-intensity", {"version": 2, "value": False}),  # answering withdraws the N/A
    ("pzb-rd-intensity", {"version": 3, "value": False, "na": None}),  # the same
    ("pzb-rd-intensity", {"version": 1, "value": True}),  # an old version: a conflict
    ("pzb-rd-intensity", {"version": 1, "value": False}),  # an old version, but what is stored: fine
    ("pzb-rd-intensity", {"value": None}),  # no version sent: written over whatever is stored
    ("pzb-rd-intensity", {"version": 4, "value": "  "}),  # blank is no answer: the same
    ("pzb-rd-intensity", {"version": 4, "value": "yes"}),  # not yes/no: refused
    ("pzb-rd-intensity", {"version": 4, "na": None}),  # withdrawing an N/A there is none of
    ("pzb-zhejiang-suppliers", {"version": 0, "value": 45}),
    ("pzb-zhejiang-suppliers", {"version": 1, "value": 45.0}),  # the same number
    ("pzb-zhejiang-suppliers", {"version": 1, "value": 250}),  # out of range
    ("pzb-zhejiang-suppliers", {"version": 1, "value": True}),  # not a number
    ("pzb-testing-capability", {"version": 0, "na": "   "}),  # a blank justification
    ("pzb-testing-capability", {"version": 0, "value": "full"}),
    ("pzb-testing-capability", {"version": 1, "value": "nope"}),  # not an option
    ("pzb-testing-capability", {"version": 5, "value": "routine"}),  # a version never stored
    ("pzb-zj-standard", {"version": 0, "value": "drafting"}),  # a shared fact: always the full save
    ("no-such-item", {"version": 0, "value": True}),
]
FULL_MODE = [
    ("pe-412-senior-leaders", {"version": 0, "value": "50", "narrative": "\n领导层每季度评审质量目标。\n"}),
    ("pe-412-senior-leaders", {"version": 1, "narrative": "领导层每月评审质量目标。"}),  # the value stays
    ("pe-412-senior-leaders", {"version": 2, "value": "70"}),  # the narrative stays
    ("pe-412-senior-leaders", {"version": 3, "na": "集团统一治理，本企业不单设"}),  # value withdrawn
    ("pe-412-senior-leaders", {"version": 4, "narrative": ""}),  # the narrative cleared
    ("pe-412-senior-leaders", {"version": 5, "narrative": "x" * 20_001}),  # too long
]
QUICK_MODE = [
    ("pe-412-senior-leaders", {"version": 0, "value": "75"}),
    ("pe-412-senior-leaders", {"version": 1, "narrative": "快速模式不写自评"}),  # no narratives here
]


def _replay(client: Any, firm_id: int, aid: int, steps: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    out = []
    for item, payload in steps:
        r = client.post(f"/firms/{firm_id}/assessments/{aid}/autosave", json={"item": item, **payload})
        body = r.get_json()
        if isinstance(body, dict) and "theirs" in body:
            body["theirs"].pop("at")  # when the other answer was written: differs between the runs
        out.append((item, r.status_code, body))
    return out


def _stored(app: Any, aid: int) -> tuple[list[Any], list[Any]]:
    with app.app_context(), tenancy.bypass():
        answers = [
            (a.item_id, a.value, a.na_reason, a.narrative, a.version, a.fact, a.updated_by_id)
            for a in db.session.scalars(
                select(Answer).where(Answer.assessment_id == aid).order_by(Answer.item_id)
            )
        ]
        history = [
            (
                h.item_id,
                h.old_value,
                h.new_value,
                h.old_na_reason,
                h.new_na_reason,
                h.old_narrative,
                h.new_narrative,
                h.version,
                h.changed_by_id,
                h.via_fact,
            )
            for h in db.session.scalars(
                select(AnswerHistory)
                .where(AnswerHistory.assessment_id == aid)
                .order_by(AnswerHistory.item_id, AnswerHistory.version)
            )
        ]
    return answers, history


@pytest.mark.parametrize(
    ("framework", "mode", "steps"),
    [
        ("pinzibiao", None, PINZIBIAO),
        ("performance-excellence", "full", FULL_MODE),
        ("performance-excellence", "quick", QUICK_MODE),
    ],
)
def test_the_one_statement_saves_what_the_full_save_does(
    app, client, create_user, create_firm, login, monkeypatch, framework, mode, steps
):
    owner = create_user(name="王丽 Owner")
    login(client, owner)
    quick_answers = []
    real = services.quick_save

    def counted(*args: Any, **kwargs: Any) -> Any:
        got = real(*args, **kwargs)
        quick_answers.append(got is not None)
        return got

    runs = []
    for one_statement in (True, False):
        firm = create_firm(owner=owner)
        aid = start(client, firm.id, framework, mode)
        monkeypatch.setattr(services, "quick_save", counted if one_statement else (lambda *a, **k: None))
        replies = _replay(client, firm.id, aid, steps)
        runs.append((replies, *_stored(app, aid)))
    with_it, without = runs
    assert with_it[0] == without[0]  # the same responses, step by step
    assert with_it[1] == without[1]  # the same answers
    assert with_it[2] == without[2]  # the same history
    with app.app_context():
        postgres = db.engine().dialect.name == "postgresql"
    # on PostgreSQL the one statement answered every accepted save but the first (the worker had not
    # seen the draft yet) and those of a shared fact; everything else went to the full save
    expected = [
        postgres and n > 0 and status == 200 and item != "pzb-zj-standard"
        for n, (item, status, _body) in enumerate(with_it[0])
    ]
    assert quick_answers == expected


def test_a_draft_submitted_since_is_not_written_by_the_one_statement(app, owner_client):
    """The worker remembers the assessment as a draft; it is submitted meanwhile (another worker): the
    autosave is refused as read-only and writes nothing."""
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/autosave"
    assert client.post(url, json={"item": "pzb-rd-intensity", "version": 0, "value": True}).status_code == 200
    assert (
        client.post(url, json={"item": "pzb-rd-intensity", "version": 1, "value": False}).status_code == 200
    )
    with app.app_context(), tenancy.bypass():
        db.session.get(Assessment, aid).status = "submitted"
        db.session.commit()
    r = client.post(url, json={"item": "pzb-rd-intensity", "version": 2, "value": True})
    assert r.status_code == 409 and r.json["error"] == "read_only"
    answers, history = _stored(app, aid)
    assert [a[1:5] for a in answers] == [(False, None, None, 2)] and len(history) == 2
