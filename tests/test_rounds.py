"""A new round after a submitted assessment: confirmed first (a page listing the answers and the evidence
it carries), evidence carried forward item by item as files of its own, and a draft round discarded
without touching the round before it."""

from __future__ import annotations

import re

import pytest
from test_questionnaire import english, fill, rows, start, upload
from test_questionnaire_messages import item_block

from assessments.loader import load_framework
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Answer, AnswerHistory, Assessment, Evidence
from webapp.questionnaire import storage


def submitted_with_evidence(app, client, firm_id: int) -> tuple[int, list[str]]:
    """A submitted 品字标 assessment with every answer at its best and a file for each item that needs
    one: (assessment, the items with files)."""
    aid = start(client, firm_id)
    fill(client, firm_id, aid, "pinzibiao")
    r = client.post(f"/firms/{firm_id}/assessments/{aid}/submit")
    needs = sorted(set(re.findall(r"#item-([a-z0-9-]+)\">", r.get_data(as_text=True))))
    assert needs
    for item in needs:
        assert upload(client, firm_id, aid, item, f"{item}.pdf", pdf_bytes(item)).status_code == 303
    r = client.post(f"/firms/{firm_id}/assessments/{aid}/submit")
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    return aid, needs


def new_round(client, firm_id: int, aid: int, carry: list[str]) -> int:
    r = client.post(f"/firms/{firm_id}/assessments/{aid}/rounds", data={"confirm": "1", "carry": carry})
    assert r.status_code == 303, r.data
    return int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))


def summary(app, aid: int) -> dict:
    (a,) = rows(app, Assessment, id=aid)
    return {k: a.summary[k] for k in ("points", "percent", "score", "targets", "answered", "applicable")}


def test_a_new_round_is_confirmed_first_and_carries_the_evidence(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid, needs = submitted_with_evidence(app, client, firm.id)
    # starting the framework again, or asking for a new round, shows what the round would carry
    r = client.post(f"/firms/{firm.id}/assessments", data={"framework": "pinzibiao"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/rounds/new")
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/rounds")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/rounds/new")
    assert len(rows(app, Assessment, firm_id=firm.id)) == 1  # nothing started yet
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/rounds/new").get_data(as_text=True)
    answers = len(rows(app, Answer, assessment_id=aid))
    assert "Start round 2" in page and f"{answers} answers are carried over." in page
    assert f"{len(needs)} evidence files can be carried over." in page
    for item in needs:
        assert f'name="carry" value="{item}" checked' in page and f"{item}.pdf" in page

    new = new_round(client, firm.id, aid, needs)
    (b,) = rows(app, Assessment, id=new)
    assert b.round == 2 and b.status == "draft" and b.previous_id == aid
    old_files = {e.item_id: e for e in rows(app, Evidence, assessment_id=aid)}
    new_files = {e.item_id: e for e in rows(app, Evidence, assessment_id=new)}
    assert set(new_files) == set(needs)
    store = app.extensions["qready.evidence"]
    for item, ev in new_files.items():
        old = old_files[item]
        assert (ev.filename, ev.sha256, ev.size) == (old.filename, old.sha256, old.size)
        assert ev.storage_key != old.storage_key and store.get(ev.storage_key) == store.get(old.storage_key)
    # the same answers with the same evidence: the same verdict, ready where round 1 was
    assert summary(app, new) == summary(app, aid)
    assert "ready" in summary(app, aid)["targets"].values()
    history = rows(app, AnswerHistory, assessment_id=new, evidence_action="carried")
    assert {h.item_id for h in history} == set(needs)

    # removing a carried file in the new round leaves round 1's file where it was
    ev = new_files[needs[0]]
    r = client.post(f"/firms/{firm.id}/assessments/{new}/evidence/{ev.id}/delete")
    assert r.status_code == 303
    with pytest.raises(FileNotFoundError):
        store.get(ev.storage_key)
    old = old_files[needs[0]]
    r = client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{old.id}")
    assert r.status_code == 200 and r.data == pdf_bytes(needs[0])


def test_an_item_can_start_the_new_round_without_its_evidence(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid, needs = submitted_with_evidence(app, client, firm.id)
    dropped = needs[0]
    new = new_round(client, firm.id, aid, needs[1:])
    assert {e.item_id for e in rows(app, Evidence, assessment_id=new)} == set(needs[1:])
    # that item needs a file again before the round can be submitted
    r = client.post(f"/firms/{firm.id}/assessments/{new}/submit")
    assert r.status_code == 422 and f"#item-{dropped}" in r.get_data(as_text=True)
    # its round-1 file is listed as not carried; a carried file is listed once, as this round's
    fw = load_framework("pinzibiao")
    section = next(s for s in fw.sections if any(i.id == dropped for i in s.items))
    carried = next(i.id for i in section.items if i.id in needs[1:])
    page = client.get(f"/firms/{firm.id}/assessments/{new}/sections/{section.id}").get_data(as_text=True)
    block = item_block(page, dropped)
    assert "Given in round 1 and not carried into this round:" in block
    assert f"/assessments/{aid}/evidence/" in block and f"/assessments/{new}/evidence/" not in block
    block = item_block(page, carried)
    assert f"/assessments/{new}/evidence/" in block and f"/assessments/{aid}/evidence/" not in block


def test_a_draft_round_is_discarded_and_the_submitted_one_stays(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid, needs = submitted_with_evidence(app, client, firm.id)
    before = summary(app, aid)
    old_keys = {e.storage_key for e in rows(app, Evidence, assessment_id=aid)}
    new = new_round(client, firm.id, aid, needs)
    new_keys = {e.storage_key for e in rows(app, Evidence, assessment_id=new)}
    page = client.get(f"/firms/{firm.id}/assessments/{new}/").get_data(as_text=True)
    assert f"/assessments/{new}/discard" in page
    page = client.get(f"/firms/{firm.id}/assessments/{new}/discard").get_data(as_text=True)
    assert "Discard the draft of round 2?" in page and f"{len(needs)} evidence files" in page
    # a post without the confirmation only shows the question again
    assert client.post(f"/firms/{firm.id}/assessments/{new}/discard").status_code == 200
    assert rows(app, Assessment, id=new)
    r = client.post(f"/firms/{firm.id}/assessments/{new}/discard", data={"confirm": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/")
    assert rows(app, Assessment, id=new) == [] and rows(app, Evidence, assessment_id=new) == []
    assert rows(app, Answer, assessment_id=new) == [] and rows(app, AnswerHistory, assessment_id=new) == []
    store = app.extensions["qready.evidence"]
    for key in new_keys:
        with pytest.raises(FileNotFoundError):
            store.get(key)
    for key in old_keys:
        assert store.get(key)
    (a,) = rows(app, Assessment, id=aid)
    assert a.status == "submitted" and summary(app, aid) == before
    assert {e.storage_key for e in rows(app, Evidence, assessment_id=aid)} == old_keys
    # a submitted round is never discarded; the next round can be started again
    assert (
        client.post(f"/firms/{firm.id}/assessments/{aid}/discard", data={"confirm": "1"}).status_code == 409
    )
    assert client.get(f"/firms/{firm.id}/assessments/{aid}/rounds/new").status_code == 200


def test_rounds_and_discarding_are_for_the_firms_editors(app, client, create_user, create_firm, login):
    owner, viewer, stranger = create_user(), create_user(), create_user()
    firm = create_firm(owner=owner, members={"viewer": viewer})
    other_firm = create_firm("宁波别家阀门有限公司", owner=stranger)
    login(client, owner)
    aid, needs = submitted_with_evidence(app, client, firm.id)
    new = new_round(client, firm.id, aid, needs)
    for who, code in ((viewer, 403), (stranger, 404)):
        c = app.test_client()
        login(c, who)
        assert c.get(f"/firms/{firm.id}/assessments/{aid}/rounds/new").status_code == code
        r = c.post(f"/firms/{firm.id}/assessments/{aid}/rounds", data={"confirm": "1", "carry": needs})
        assert r.status_code == code
        assert c.get(f"/firms/{firm.id}/assessments/{new}/discard").status_code == code
        assert (
            c.post(f"/firms/{firm.id}/assessments/{new}/discard", data={"confirm": "1"}).status_code == code
        )
    # the stranger's own firm does not reach this firm's assessment either
    c = app.test_client()
    login(c, stranger)
    assert (
        c.post(f"/firms/{other_firm.id}/assessments/{new}/discard", data={"confirm": "1"}).status_code == 404
    )
    assert c.get(f"/firms/{other_firm.id}/assessments/{aid}/rounds/new").status_code == 404
    assert rows(app, Assessment, id=new) and len(rows(app, Evidence, assessment_id=new)) == len(needs)


def test_a_store_without_its_own_copy_copies_the_bytes(tmp_path):
    class Plain:
        def __init__(self) -> None:
            self.files: dict[str, bytes] = {}

        def put(self, key: str, data: bytes) -> None:
            self.files[key] = data

        def get(self, key: str) -> bytes:
            return self.files[key]

        def delete(self, key: str) -> None:
            self.files.pop(key, None)

    plain = Plain()
    plain.put("a", b"%PDF-1")
    storage.copy(plain, "a", "b")
    plain.delete("a")
    assert plain.get("b") == b"%PDF-1"
    local = storage.LocalStore(tmp_path)
    local.put("k1", b"%PDF-2")
    storage.copy(local, "k1", "k2")
    local.delete("k1")
    assert local.get("k2") == b"%PDF-2"
    with pytest.raises(FileNotFoundError):
        storage.copy(local, "missing", "k3")


def test_a_new_round_moves_to_the_newest_version_and_says_what_is_new(app, owner_client):
    """A round submitted under 1.0.0: the next one uses the newest version (1.1.1), carries the answers
    question by question, and the confirmation page lists what is new in each version it moves past:
    1.1.0's changes and 1.1.1's (issue 16)."""
    from webapp import db, tenancy

    client, firm, _owner = owner_client
    aid, _needs = submitted_with_evidence(app, client, firm.id)
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        a.framework_version = "1.0.0"  # as if submitted before 1.1.0 was released
        db.session.commit()
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/rounds/new").get_data(as_text=True)
    assert "1.1.1 版的变化" in page
    new_fw, mid_fw, old_fw = (load_framework("pinzibiao", v) for v in ("1.1.1", "1.1.0", "1.0.0"))
    assert all(f"1.1.0 版：{c.zh}" in page for c in mid_fw.changes)  # each version's own "what is new"
    assert f"1.1.1 版：{new_fw.changes[0].zh}" in page
    assert new_fw.item("pzb-std-approved").text.zh in page  # type: ignore[union-attr]  # a new question
    assert old_fw.item("pzb-made-in-zhejiang").text.zh in page  # type: ignore[union-attr]  # one no longer asked
    new = new_round(client, firm.id, aid, [])
    (b,) = rows(app, Assessment, id=new)
    assert b.framework_version == "1.1.1"
    carried = {x.item_id for x in rows(app, Answer, assessment_id=new)}
    assert "pzb-iso9001" in carried and "pzb-made-in-zhejiang" not in carried


def test_a_round_from_1_1_0_lists_only_what_1_1_1_adds(app, owner_client):
    """1.1.1 declares the region scope of the targets: the one line of "what is new", no question
    added or gone."""
    from webapp import db, tenancy

    client, firm, _owner = owner_client
    aid, _needs = submitted_with_evidence(app, client, firm.id)
    with app.app_context(), tenancy.bypass():
        db.session.get(Assessment, aid).framework_version = "1.1.0"
        db.session.commit()
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/rounds/new").get_data(as_text=True)
    changes = page[page.index('id="changes-title"') :]
    changes = changes[: changes.index("</section>")]
    (line,) = load_framework("pinzibiao", "1.1.1").changes
    assert "1.1.1 版的变化" in changes and line.zh in changes
    assert "1.1.0 版：" not in changes and "1.1.1 版：" not in changes
    assert "新增" not in changes and "不再询问" not in changes
