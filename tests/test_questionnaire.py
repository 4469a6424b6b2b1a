"""The questionnaire in the browser, through its routes: start, sections, autosave (saved, invalid,
stale), not applicable, shared facts, evidence, comments, assignments, submit, rounds and the verdict."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import func, select

import scoring
from assessments.loader import load_framework
from webapp import access, db, tenancy
from webapp.commands.demo.assessments import pdf_bytes, png_bytes
from webapp.models import Answer, AnswerHistory, Assessment, Evidence, FactAnswer

AS_OF = None  # answers are scored as of today


# ---- helpers ------------------------------------------------------------------------------------------


def english(app, user) -> None:
    from webapp.models import User

    with app.app_context():
        db.session.get(User, user.id).locale = "en"
        db.session.commit()


def start(client, firm_id: int, framework: str = "pinzibiao", mode: str | None = None) -> int:
    data = {"framework": framework}
    if mode:
        data["mode"] = mode
    r = client.post(f"/firms/{firm_id}/assessments", data=data)
    assert r.status_code == 303, r.data
    return int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))


def save(client, firm_id: int, aid: int, item: str, version: int | None = None, **fields: Any):
    payload: dict[str, Any] = {"item": item, **fields}
    if version is not None:
        payload["version"] = version
    return client.post(f"/firms/{firm_id}/assessments/{aid}/autosave", json=payload)


def progress(client, firm_id: int, aid: int, section: str):
    """The figures the section page asks for once its saves settle."""
    r = client.get(f"/firms/{firm_id}/assessments/{aid}/progress?section={section}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return r.json


def rows(app, model, **where):
    with app.app_context(), tenancy.bypass():
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(db.session.scalars(q))


def fill(client, firm_id: int, aid: int, framework: str, mode: str | None = None, skip=()) -> None:
    """Answer every item with its best answer (narratives in full mode)."""
    import datetime as dt

    fw = load_framework(framework)
    mode = mode or fw.default_mode
    today = dt.date.today()
    for item in fw.items:
        if item.id in skip or (item.answer_type.value == "scale" and item.scale_for(mode) is None):
            continue
        fields: dict[str, Any] = {"value": scoring.ideal_answer(fw, item, mode=mode, as_of=today)}
        if mode in item.narrative_modes:
            fields["narrative"] = "我们的方法已全面展开，并每年评价改进。"
        r = save(client, firm_id, aid, item.id, **fields)
        assert r.status_code == 200, (item.id, r.json)


def upload(client, firm_id: int, aid: int, item: str, name: str, data: bytes):
    return client.post(
        f"/firms/{firm_id}/assessments/{aid}/evidence",
        data={"item": item, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def ooxml(main: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


# ---- the firm home and starting ------------------------------------------------------------------------


def test_firm_home_recommends_pinzibiao_first_and_shows_targets(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    page = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    recs = page[page.index("Start an assessment") :]
    assert recs.index('value="pinzibiao"') < recs.index('value="labelling-four-100"')
    # targets that concern a Hangzhou firm, not the Shaoxing mayor's award
    assert "Hangzhou" in page and "Shaoxing" not in page.split("Start an assessment")[0]
    assert "Not assessed yet" in page
    # performance excellence offers both modes
    assert 'name="mode" value="quick"' in page and 'name="mode" value="full"' in page


def test_certified_firm_sees_labelling_first(app, owner_client):
    client, firm, _ = owner_client
    with app.app_context(), tenancy.bypass():
        db.session.add(FactAnswer(firm_id=firm.id, fact="pinzibiao_certified", value=True))
        db.session.commit()
    page = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    recs = page[page.index('class="qn-recs"') :]
    assert recs.index('value="labelling-four-100"') < recs.index('value="pinzibiao"')


def test_start_opens_the_first_section_and_continues_the_draft(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "贵企业是否已持有有效的“品字标浙江制造”认证证书？" in page
    assert '<fieldset class="qn-q"' in page and "<legend" in page
    assert 'aria-live="polite"' in page
    assert "浙江省质量强省标准强省品牌强省建设“十四五”规划" in page  # the plan a quote comes from
    assert 'id="qn-progress"' in page
    # starting again continues the same draft
    assert start(client, firm.id) == aid
    english(app, owner)
    en = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "Does your firm already hold a valid" in en


def test_unknown_framework_or_mode_is_refused(owner_client):
    client, firm, _ = owner_client
    assert client.post(f"/firms/{firm.id}/assessments", data={"framework": "nope"}).status_code == 400
    r = client.post(
        f"/firms/{firm.id}/assessments", data={"framework": "performance-excellence", "mode": "x"}
    )
    assert r.status_code == 400


def test_full_mode_groups_the_21_levels_by_band_and_asks_for_narratives(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "performance-excellence", "full")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/leadership").get_data(as_text=True)
    block = page[page.index('id="item-pe-412-senior-leaders"') :]
    block = block[: block.index("</article>")]
    assert block.count('type="radio"') == 21
    assert block.count('class="qn-band"') == 6
    assert "0–5% band" in block and "90–100% band" in block
    assert 'name="narrative-pe-412-senior-leaders"' in block
    quick = start(client, firm.id, "performance-excellence", "quick")
    assert quick != aid
    page = client.get(f"/firms/{firm.id}/assessments/{quick}/sections/leadership").get_data(as_text=True)
    block = page[page.index('id="item-pe-412-senior-leaders"') :]
    assert block[: block.index("</article>")].count('type="radio"') == 4
    assert "narrative-pe-412" not in page


def test_inapplicable_items_are_greyed_with_why(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "chief-quality-officer")
    sec = load_framework("chief-quality-officer").sections[0].id
    assert progress(client, firm.id, aid, sec)["items"]["cqo-appointment-letter"]["applicable"] is True
    r = save(client, firm.id, aid, "cqo-appointed", 0, value=False)
    assert r.status_code == 200
    figures = progress(client, firm.id, aid, sec)
    assert figures["items"]["cqo-appointment-letter"]["applicable"] is False
    assert "Applies only when" in figures["items"]["cqo-appointment-letter"]["why"]
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/")
    assert page.status_code == 200
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/{sec}").get_data(as_text=True)
    at = page.index('id="item-cqo-appointment-letter"')
    assert "qn-inapplicable" in page[at - 80 : at]
    block = page[at : page.index("</article>", at)]
    assert "Applies only when" in block and "is answered Yes" in block


# ---- autosave -----------------------------------------------------------------------------------------


def test_autosave_saves_with_history_and_progress(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    r = save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    assert r.status_code == 200
    assert r.json["ok"] and r.json["version"] == 1 and r.json["saved"]
    # the save only writes: the kept headline numbers are out of date until the figures are asked
    (a,) = rows(app, Assessment, id=aid)
    assert a.scored_at is None
    figures = progress(client, firm.id, aid, "basic")
    assert figures["progress"]["answered"] == 1 and figures["section"]["id"] == "basic"
    assert figures["section"]["answered"] == 1
    (a,) = rows(app, Assessment, id=aid)
    assert a.scored_at is not None and a.summary["answered"] == 1
    r = save(client, firm.id, aid, "pzb-zj-standard", 1, value="published")
    assert r.json["version"] == 2
    (answer,) = rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")
    assert answer.value == "published" and answer.version == 2 and answer.updated_by_id == owner.id
    hist = rows(app, AnswerHistory, assessment_id=aid, item_id="pzb-zj-standard")
    assert [(h.old_value, h.new_value, h.version) for h in sorted(hist, key=lambda h: h.version)] == [
        (None, "drafting", 1),
        ("drafting", "published", 2),
    ]
    (a,) = rows(app, Assessment, id=aid)
    assert a.summary["answered"] == 1 and a.result_points is not None
    # the same value again changes nothing
    r = save(client, firm.id, aid, "pzb-zj-standard", 2, value="published")
    assert r.json["ok"] and not r.json["saved"] and r.json["version"] == 2
    # the history shows on the page
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/items/pzb-zj-standard/history").get_data(
        as_text=True
    )
    assert "正在起草或已立项" in page and "已发布实施" in page and "王丽 Owner" in page


def test_figures_read_after_an_autosave_are_up_to_date(app, owner_client):
    """The autosave only writes; the firm home, the API and the progress figures score a draft again
    when they find its kept numbers out of date."""
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    assert save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting").status_code == 200
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    assert "2/37" in home.replace(" ", "")
    (a,) = rows(app, Assessment, id=aid)
    assert a.scored_at is not None and a.summary["answered"] == 2
    assert save(client, firm.id, aid, "pzb-std-approved", 0, value=True).status_code == 200
    assert rows(app, Assessment, id=aid)[0].scored_at is None
    with app.app_context(), tenancy.bypass():
        from webapp.api.controllers import _assessment_json

        assert _assessment_json(db.session.get(Assessment, aid))["summary"]["answered"] == 3


def test_figures_scored_before_a_save_are_not_kept_after_it(app, owner_client):
    """Figures scored from answers read before another save landed must not be kept as current."""
    from webapp.questionnaire import answers
    from webapp.questionnaire import save as saving
    from webapp.questionnaire.answers import ItemChange

    client, firm, _ = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    with app.test_request_context(), tenancy.bypass():
        read = access.load_assessment(firm.id, aid)  # the figures' read …
        db.session.expunge(read)  # as another request's would be
        assert read is not None and read.scored_at is None
        draft = db.session.get(Assessment, aid)
        change = {"pzb-zj-standard": ItemChange(value="drafting")}
        saved = saving.save_answers(draft, change, None, score=False)
        assert saved.ok and saved.saved  # … another save lands …
        answers.progress(read)  # … and the figures from the earlier read are not kept
        db.session.commit()
        stored = db.session.get(Assessment, aid)
        assert stored.scored_at is None
        answers.progress(access.load_assessment(firm.id, aid))
        db.session.commit()
        db.session.refresh(stored)
        assert stored.scored_at is not None and stored.summary["answered"] == 2


def test_a_write_that_loses_a_race_writes_nothing(app, owner_client):
    """Two editors read version 1; the first write lands; the second, though its version matched when
    read, must come back as a conflict showing the winner's answer — no answer, history or change
    of the assessment written for it."""
    from webapp.questionnaire import answers
    from webapp.questionnaire import save as saving
    from webapp.questionnaire.answers import ItemChange

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting").status_code == 200
    with app.test_request_context(), tenancy.bypass():
        draft = db.session.get(Assessment, aid)
        mine = answers.answer_states(firm.id, aid)["pzb-zj-standard"]
        assert mine.version == 1
        won = saving.save_answers(
            draft,
            {"pzb-zj-standard": ItemChange(value="published")},
            owner,
            {"pzb-zj-standard": 1},
            score=False,
        )
        assert won.ok
        history = len(rows(app, AnswerHistory, assessment_id=aid))
        touched = db.session.get(Assessment, aid).updated_at
        # the second editor's save read the answer before the first one's write landed (only its
        # first read: once its write finds a newer version, it reads the answer again for the conflict)
        reads = [{"pzb-zj-standard": mine}]
        real = answers.answer_states
        with mock.patch.object(answers, "answer_states", lambda *a: reads.pop() if reads else real(*a)):
            lost = saving.save_answers(
                draft,
                {"pzb-zj-standard": ItemChange(value="none")},
                owner,
                {"pzb-zj-standard": 1},
                score=False,
            )
        assert not reads
        assert not lost.ok and not lost.saved
        (conflict,) = lost.conflicts
        assert conflict.current.value == "published" and conflict.current.version == 2
        (answer,) = db.session.scalars(select(Answer).where(Answer.assessment_id == aid)).all()
        assert answer.value == "published" and answer.version == 2
        assert (
            db.session.scalar(
                select(func.count()).select_from(AnswerHistory).where(AnswerHistory.assessment_id == aid)
            )
            == history
        )
        db.session.expire_all()
        assert db.session.get(Assessment, aid).updated_at == touched
        db.session.rollback()


def test_autosave_refuses_an_invalid_value_and_saves_nothing(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    r = save(client, firm.id, aid, "pzb-zhejiang-suppliers", 0, value=250)
    assert r.status_code == 422
    assert r.json["error"] == "invalid" and r.json["errors"][0]["item"] == "pzb-zhejiang-suppliers"
    assert "0" in r.json["message"] and "100" in r.json["message"]
    r = save(client, firm.id, aid, "pzb-zj-standard", 0, value="maybe")
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "unknown_option"
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/autosave",
        json={"item": "pzb-certified", "value": "yes"},
    )
    assert r.status_code == 422 and r.json["message"] == "Answer yes or no."
    assert rows(app, Answer, assessment_id=aid) == []
    assert save(client, firm.id, aid, "no-such-item", 0, value=True).status_code == 422
    assert client.post(f"/firms/{firm.id}/assessments/{aid}/autosave", data="x").status_code == 400


def test_save_answers_is_all_or_nothing(app, owner_client):
    from webapp.questionnaire import answers
    from webapp.questionnaire import save as saving

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        result = saving.save_answers(
            a,
            answers.changes_from(answers={"pzb-zj-standard": "published", "pzb-zhejiang-suppliers": "lots"}),
            owner,
        )
        assert not result.ok and [e.item for e in result.errors] == ["pzb-zhejiang-suppliers"]
        db.session.rollback()
    assert rows(app, Answer, assessment_id=aid) == []


def test_a_write_racing_another_is_a_conflict_not_an_overwrite(app, owner_client, monkeypatch):
    """Two requests read version 1; the first writes version 2; the second's conditional upsert finds
    version 2 and writes nothing: a conflict, even without an expected version from the client."""
    from webapp.questionnaire import answers
    from webapp.questionnaire import save as saving

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting").status_code == 200
    assert save(client, firm.id, aid, "pzb-zj-standard", 1, value="published").status_code == 200
    real = answers.answer_states

    def stale(firm_id, assessment_id, items=None):
        states = real(firm_id, assessment_id, items)
        if items is None and "pzb-zj-standard" in states:
            import dataclasses

            old = states["pzb-zj-standard"]
            states["pzb-zj-standard"] = dataclasses.replace(old, value="drafting", version=1)
        return states

    monkeypatch.setattr(answers, "answer_states", stale)
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        result = saving.save_answers(a, {"pzb-zj-standard": answers.ItemChange(value="none")}, owner)
        assert not result.ok and result.conflicts[0].current.version == 2
        assert result.conflicts[0].current.value == "published"
        db.session.rollback()
    assert rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")[0].value == "published"


def test_autosave_stale_version_is_a_conflict_with_both_values(app, client, create_user, create_firm, login):
    owner = create_user(name="王丽 Owner")
    editor = create_user(name="陈明 Editor")
    firm = create_firm(owner=owner, members={"editor": editor})
    login(client, owner)
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting").status_code == 200
    other = client.application.test_client()
    login(other, editor)
    assert save(other, firm.id, aid, "pzb-zj-standard", 1, value="published").status_code == 200
    # the owner still edits version 1
    r = save(client, firm.id, aid, "pzb-zj-standard", 1, value="none")
    assert r.status_code == 409
    body = r.json
    assert body["error"] == "conflict"
    assert body["theirs"]["value"] == "published" and body["theirs"]["version"] == 2
    assert body["theirs"]["by"] == "陈明 Editor" and body["theirs"]["display"]
    assert body["yours"]["value"] == "none" and body["yours"]["display"] == "尚无"
    (answer,) = rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")
    assert answer.value == "published"
    # keep mine: resend with the new version
    r = save(client, firm.id, aid, "pzb-zj-standard", 2, value="none")
    assert r.status_code == 200 and r.json["version"] == 3


def test_not_applicable_needs_a_justification(app, owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    r = save(client, firm.id, aid, "pzb-iso14001", 0, na="   ")
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "na_blank_justification"
    r = save(client, firm.id, aid, "pzb-zj-standard", 0, na="我们没有标准")
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "na_not_allowed"
    r = save(client, firm.id, aid, "pzb-iso14001", 0, value=True)
    assert r.status_code == 200
    r = save(client, firm.id, aid, "pzb-iso14001", 1, na="本企业为纯装配企业，无排污工序")
    assert r.status_code == 200
    (answer,) = rows(app, Answer, assessment_id=aid, item_id="pzb-iso14001")
    assert answer.value is None and answer.na_reason.startswith("本企业")
    # the item leaves the denominator
    before = rows(app, Assessment, id=aid)[0].summary["applicable"]
    assert progress(client, firm.id, aid, "basic")["progress"]["applicable"] == before - 1
    assert rows(app, Assessment, id=aid)[0].summary["applicable"] == before - 1
    r = save(client, firm.id, aid, "pzb-iso14001", 2, value=False)
    (answer,) = rows(app, Answer, assessment_id=aid, item_id="pzb-iso14001")
    assert answer.value is False and answer.na_reason is None


def test_shared_fact_changes_the_other_drafts_with_history(app, owner_client):
    client, firm, _ = owner_client
    pzb = start(client, firm.id)
    assert save(client, firm.id, pzb, "pzb-iso9001", 0, value=True).status_code == 200
    # a new assessment asking the same fact arrives pre-filled, marked where it was answered
    pe = start(client, firm.id, "performance-excellence", "quick")
    (answer,) = rows(app, Answer, assessment_id=pe, item_id="pe-elig-iso9001")
    assert answer.value is True and answer.fact == "iso9001_certified"
    page = client.get(f"/firms/{firm.id}/assessments/{pe}/sections/eligibility").get_data(as_text=True)
    assert "品字标“浙江制造”认证准备度" in page[page.index('id="item-pe-elig-iso9001"') :]
    # changing it here changes it there, with a history row naming the fact
    r = save(client, firm.id, pe, "pe-elig-iso9001", answer.version, value=False)
    assert r.status_code == 200
    (there,) = rows(app, Answer, assessment_id=pzb, item_id="pzb-iso9001")
    assert there.value is False and there.version == 2
    hist = rows(app, AnswerHistory, assessment_id=pzb, item_id="pzb-iso9001")
    assert any(h.via_fact == "iso9001_certified" and h.new_value is False for h in hist)
    (fact,) = rows(app, FactAnswer, firm_id=firm.id, fact="iso9001_certified")
    assert fact.value is False and fact.source_assessment_id == pe
    # the other draft's summary follows
    assert rows(app, Assessment, id=pzb)[0].summary is not None
    # an editor of the other draft with the old version now gets a conflict
    assert save(client, firm.id, pzb, "pzb-iso9001", 1, value=True).status_code == 409


def test_submitted_assessments_keep_their_facts(app, owner_client):
    client, firm, _ = owner_client
    pzb = start(client, firm.id)
    fill(client, firm.id, pzb, "pinzibiao")
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, pzb)
        a.status = "submitted"
        db.session.commit()
    pe = start(client, firm.id, "performance-excellence", "quick")
    (answer,) = rows(app, Answer, assessment_id=pe, item_id="pe-elig-iso9001")
    assert save(client, firm.id, pe, "pe-elig-iso9001", answer.version, value=False).status_code == 200
    (there,) = rows(app, Answer, assessment_id=pzb, item_id="pzb-iso9001")
    assert there.value is True


def test_viewer_reads_but_cannot_save(client, create_user, create_firm, login):
    owner = create_user()
    viewer = create_user()
    firm = create_firm(owner=owner, members={"viewer": viewer})
    login(client, owner)
    aid = start(client, firm.id)
    other = client.application.test_client()
    login(other, viewer)
    page = other.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic")
    assert page.status_code == 200 and "data-autosave" not in page.get_data(as_text=True)
    assert save(other, firm.id, aid, "pzb-certified", 0, value=True).status_code == 403
    assert progress(other, firm.id, aid, "basic")["section"] == {
        "id": "basic",
        "answered": 0,
        "applicable": 9,
    }
    assert other.get(f"/firms/{firm.id}/assessments/{aid}/progress?section=nope").status_code == 404
    whole = other.get(f"/firms/{firm.id}/assessments/{aid}/progress").json
    assert whole == {"progress": {"answered": 0, "applicable": 37}}
    assert other.post(f"/firms/{firm.id}/assessments/{aid}/sections/basic", data={}).status_code == 403
    assert other.post(f"/firms/{firm.id}/assessments", data={"framework": "pinzibiao"}).status_code == 403


def test_section_form_works_without_javascript(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/sections/basic"
    r = client.post(
        url,
        data={
            "value-pzb-certified": "no",
            "value-pzb-zj-standard": "drafting",
            "value-pzb-std-approved": "yes",
            "version-pzb-certified": "0",
            "version-pzb-zj-standard": "0",
            "go": "next",
        },
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/sections/management")
    saved = {a.item_id: a.value for a in rows(app, Answer, assessment_id=aid)}
    assert saved == {"pzb-certified": False, "pzb-zj-standard": "drafting", "pzb-std-approved": True}
    # a bad number re-renders the form with the message, nothing saved
    english(app, owner)
    sec = next(
        s
        for s in load_framework("pinzibiao").sections
        if any(i.id == "pzb-zhejiang-suppliers" for i in s.items)
    )
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/sections/{sec.id}",
        data={"value-pzb-zhejiang-suppliers": "abc"},
    )
    assert r.status_code == 422 and "Enter a number from 0 to 100." in r.get_data(as_text=True)
    assert 'value="abc"' in r.get_data(as_text=True)
    # a stale version: 409, both answers shown, the person's own answer kept in the form
    r = client.post(url, data={"value-pzb-zj-standard": "none", "version-pzb-zj-standard": "0"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    block = page[page.index('id="item-pzb-zj-standard"') :]
    assert "Being drafted or approved for drafting" in block and 'value="none" checked' in block
    assert rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")[0].value == "drafting"


# ---- evidence -----------------------------------------------------------------------------------------


def test_evidence_upload_checks_the_content(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    item = "pzb-zj-standard"
    assert upload(client, firm.id, aid, item, "标准文本.pdf", pdf_bytes("standard")).status_code == 303
    assert upload(client, firm.id, aid, item, "photo.PNG", png_bytes()).status_code == 303
    assert upload(client, firm.id, aid, item, "scan.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64).status_code == 303
    assert upload(client, firm.id, aid, item, "standard.docx", ooxml(DOCX)).status_code == 303
    assert upload(client, firm.id, aid, item, "ledger.xlsx", ooxml(XLSX)).status_code == 303
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    assert upload(client, firm.id, aid, item, "old.doc", ole2).status_code == 303
    kinds = {e.filename: e.content_type for e in rows(app, Evidence, assessment_id=aid)}
    assert kinds["标准文本.pdf"] == "application/pdf" and kinds["photo.PNG"] == "image/png"
    assert kinds["standard.docx"].endswith("wordprocessingml.document")
    assert kinds["old.doc"] == "application/msword"
    # a program renamed .pdf, a zip that is no Office file, an OLE2 file with another name: refused,
    # back to the item with the message
    refused = "This file type is not accepted"
    r = upload(client, firm.id, aid, item, "report.pdf", b"MZ\x90\x00" + b"\0" * 200)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"#item-{item}")
    assert refused in client.get(r.headers["Location"]).get_data(as_text=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evil.exe", "MZ")
    for name, data in (("fake.docx", buf.getvalue()), ("old.msg", ole2)):
        r = upload(client, firm.id, aid, item, name, data)
        assert refused in client.get(r.headers["Location"]).get_data(as_text=True)
    # a PNG named .pdf: the name and the content disagree
    r = upload(client, firm.id, aid, item, "certificate.pdf", png_bytes())
    assert "really a PNG file" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert len(rows(app, Evidence, assessment_id=aid)) == 6
    # stored outside the web root under random keys
    ev = rows(app, Evidence, assessment_id=aid)[0]
    assert ev.storage_key not in ev.filename and "evidence" in app.extensions["qready.evidence"].root.name


def test_evidence_too_large(app, owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    try:
        r = upload(client, firm.id, aid, "pzb-zj-standard", "big.pdf", pdf_bytes("x") + b"\0" * 2000)
        assert r.status_code == 303 and r.headers["Location"].endswith("#item-pzb-zj-standard")
        assert "文件太大" in client.get(r.headers["Location"]).get_data(as_text=True)
    finally:
        app.config.pop("EVIDENCE_MAX_BYTES")
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4000
    try:
        r = upload(client, firm.id, aid, "pzb-zj-standard", "big.pdf", b"%PDF-" + b"\0" * 8000)
        assert r.status_code == 413
        assert "文件太大：上限为 3.9 KB。" in r.get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert rows(app, Evidence, assessment_id=aid) == []


def test_evidence_download_only_for_the_firm(app, client, owner_client, create_user, create_firm, login):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    data = pdf_bytes("certificate")
    upload(client, firm.id, aid, "pzb-certified", "证书.pdf", data)
    (ev,) = rows(app, Evidence, assessment_id=aid)
    r = client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}")
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in r.headers["Content-Disposition"]
    stranger = create_user()
    own = create_firm("宁波别家有限公司", owner=stranger, region="330203")
    other = client.application.test_client()
    login(other, stranger)
    assert other.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}").status_code == 404
    assert other.get(f"/firms/{own.id}/assessments/{aid}/evidence/{ev.id}").status_code == 404
    assert other.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").status_code == 404
    assert save(other, firm.id, aid, "pzb-certified", 0, value=True).status_code == 404
    assert save(other, own.id, aid, "pzb-certified", 0, value=True).status_code == 404
    assert other.get(f"/firms/{firm.id}/assessments/{aid}/progress?section=basic").status_code == 404
    assert other.get(f"/firms/{own.id}/assessments/{aid}/progress?section=basic").status_code == 404
    assert rows(app, Answer, assessment_id=aid) == []
    # removing it
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}/delete")
    assert r.status_code == 303 and rows(app, Evidence, assessment_id=aid) == []


# ---- comments and assignments -------------------------------------------------------------------------


def test_comments(owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/comments"
    r = client.post(url, data={"item": "pzb-zj-standard", "body": "标准文本请法务再看一下"})
    assert r.status_code == 303 and r.headers["Location"].endswith("#item-pzb-zj-standard")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "标准文本请法务再看一下" in page
    r = client.post(url, data={"item": "pzb-zj-standard", "body": "  "})
    assert r.status_code == 303 and r.headers["Location"].endswith("#item-pzb-zj-standard")
    assert client.post(url, data={"item": "nope", "body": "x"}).status_code == 400


def test_section_assignment_and_my_sections(client, create_user, create_firm, login):
    owner = create_user(name="王丽 Owner")
    editor = create_user(name="陈明 Editor")
    firm = create_firm(owner=owner, members={"editor": editor})
    login(client, owner)
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/assignments"
    r = client.post(url, data={"section": "management", "user_id": str(editor.id)})
    assert r.status_code == 303
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "陈明 Editor" in page[page.index('class="qn-seclist"') :]
    other = client.application.test_client()
    login(other, editor)
    mine = other.get(f"/firms/{firm.id}/assessments/{aid}/?mine=1").get_data(as_text=True)
    table = mine[mine.index("qn-sectable") :]
    assert "/sections/management" in table and "/sections/basic" not in table
    stranger = create_user()
    r = client.post(url, data={"section": "basic", "user_id": str(stranger.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith("/#assign-basic")
    assert "只能把章节分配给本企业的成员" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert client.post(url, data={"section": "nope", "user_id": str(editor.id)}).status_code == 400
    assert client.post(url, data={"section": "management", "user_id": ""}).status_code == 303
    mine = other.get(f"/firms/{firm.id}/assessments/{aid}/?mine=1").get_data(as_text=True)
    assert "/sections/management" not in mine[mine.index("qn-card-head") :]


# ---- submit, rounds, verdict --------------------------------------------------------------------------


def test_submit_lists_the_problems_with_links(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "performance-excellence", "full")
    save(client, firm.id, aid, "pe-412-senior-leaders", 0, value="50")
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/submit")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "things to fix before submitting" in page
    assert f"/firms/{firm.id}/assessments/{aid}/sections/leadership#item-pe-412-senior-leaders" in page
    assert "Write the self-evaluation for this item." in page
    assert "This required question is not answered." in page
    assert "Draft" in page


def test_submit_then_read_only_then_new_round(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    fill(client, firm.id, aid, "pinzibiao")
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/submit")
    assert r.status_code == 422 and "This answer needs evidence" in r.get_data(as_text=True)
    needs = re.findall(r"#item-([a-z0-9-]+)\">", r.get_data(as_text=True))
    assert needs
    for item in set(needs):
        assert upload(client, firm.id, aid, item, f"{item}.pdf", pdf_bytes(item)).status_code == 303
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/submit")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/verdict")
    (a,) = rows(app, Assessment, id=aid)
    assert a.status == "submitted" and a.as_of is not None and a.submitted_at is not None
    # read-only now
    r = save(client, firm.id, aid, "pzb-certified", 2, value=True)
    assert r.status_code == 409 and r.json["error"] == "read_only" and r.json["message"]
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").get_data(as_text=True)
    assert "data-autosave" not in page and " disabled" in page
    r = upload(client, firm.id, aid, "pzb-certified", "x.pdf", pdf_bytes("x"))
    assert r.status_code == 303 and "is read-only" in client.get(r.headers["Location"]).get_data(as_text=True)
    # a new round carries the answers forward; evidence only where ticked (here: none), but lists it
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/rounds", data={"confirm": "1"})
    assert r.status_code == 303
    new = int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))
    (b,) = rows(app, Assessment, id=new)
    assert b.round == 2 and b.previous_id == aid and b.status == "draft"
    before = {x.item_id: x.value for x in rows(app, Answer, assessment_id=aid)}
    after = {x.item_id: x.value for x in rows(app, Answer, assessment_id=new)}
    assert after == before
    assert rows(app, Evidence, assessment_id=new) == []
    page = client.get(f"/firms/{firm.id}/assessments/{new}/").get_data(as_text=True)
    assert "Evidence given in the previous round" in page and f"/assessments/{aid}/evidence/" in page
    section = client.get(f"/firms/{firm.id}/assessments/{new}/sections/basic").get_data(as_text=True)
    assert f"/assessments/{aid}/evidence/" in section
    # starting the same framework again continues this draft
    assert start(client, firm.id) == new
    assert client.post(f"/firms/{firm.id}/assessments/{new}/rounds", data={"confirm": "1"}).status_code == 409


def test_verdict_shows_targets_path_gates_gaps_and_comparison(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "provisional" in text
    assert "Readiness per target" in text and "Path to ready" in text
    assert "Eligibility conditions" in text and "Top gaps" in text
    assert "echarts.min.js" in text and 'id="verdict-data"' in text
    assert "This is the first round" in text
    # a second, better round compares with the first
    fill(client, firm.id, aid, "pinzibiao", skip={"pzb-zj-standard"})
    with app.app_context(), tenancy.bypass():
        a = db.session.get(Assessment, aid)
        a.status = "submitted"
        db.session.commit()
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/rounds", data={"confirm": "1"})
    new = int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))
    answer = rows(app, Answer, assessment_id=new, item_id="pzb-zj-standard")[0]
    save(client, firm.id, new, "pzb-zj-standard", answer.version, value="published")
    text = client.get(f"/firms/{firm.id}/assessments/{new}/verdict").get_data(as_text=True)
    assert "Round 1:" in text and "Trend across rounds" in text and 'id="chart-trend"' in text
    assert "qn-delta s1" in text
    data = re.search(r'<script type="application/json" id="verdict-data">(.*?)</script>', text, re.S).group(1)
    import json

    chart = json.loads(data)
    assert [p["round"] for p in chart["trend"]] == [1, 2] and chart["trend"][1]["draft"]
    # the firm home shows the latest verdict per target
    home = client.get(f"/firms/{firm.id}/").get_data(as_text=True)
    assert f"/assessments/{aid}/verdict" in home and "Assessments in progress" in home


def test_verdict_path_of_a_firm_without_cqo_lists_what_appointing_one_asks(app, owner_client):
    """Issue 14: the path said "appoint a CQO (+ one item) -> 100, ready"; appointing one switches nine
    items on. The page now lists the switched-on items the target needs, each with its points."""
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id, "chief-quality-officer")
    assert save(client, firm.id, aid, "cqo-appointed", 0, value=False).status_code == 200
    text = client.get(f"/firms/{firm.id}/assessments/{aid}/verdict").get_data(as_text=True)
    path = text[text.index("Path to ready") :]
    path = path[: path.index("</ol>")]
    assert "about 75 after these steps" in path
    assert path.count("asked once an earlier step is done") >= 5
    assert "+12 points" in path  # cqo-duties-powers, switched on and unanswered: all its points


def test_demo_assessments(app, create_user, create_firm, dbconn):
    from webapp.commands.demo import assessments as demo

    owner = create_user()
    firm = create_firm(
        "杭州精工阀门有限公司",
        owner=owner,
        region="330110",
        founded_on=__import__("datetime").date(2008, 5, 12),
        above_scale=True,
    )
    with app.app_context(), tenancy.bypass():
        made = demo.load(db.session.merge(firm), db.session.merge(owner))
        db.session.commit()
        assert made == 5
        assert demo.load(db.session.merge(firm), db.session.merge(owner)) == 0
        rounds = db.session.scalars(select(Assessment).where(Assessment.firm_id == firm.id)).all()
        by = {}
        for a in rounds:
            by.setdefault((a.framework_id, a.status), []).append(a)
        for fid in ("pinzibiao", "performance-excellence"):
            first, second = sorted(by[(fid, "submitted")], key=lambda a: a.round)
            assert second.result_points > first.result_points
            assert db.session.scalars(select(Evidence).where(Evidence.assessment_id == second.id)).first()
        assert by[("standards-adoption", "draft")]


def test_evidence_files_follow_their_rows(app, owner_client):
    """A file stored for a row that is rolled back is removed; a file whose row is deleted stays until
    the deletion commits (a failed request loses nothing)."""
    from webapp.models import User
    from webapp.questionnaire import evidence, storage

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    data = pdf_bytes("certificate")
    with app.app_context(), tenancy.bypass():
        store = storage.store()
        a = db.session.get(Assessment, aid)
        user = db.session.get(User, owner.id)
        ev = evidence.add_evidence(a, "pzb-certified", "证书.pdf", data, user, store, max_bytes=10**6)
        key = ev.storage_key
        assert store.get(key) == data
        db.session.rollback()  # the request failed after storing the file
        with pytest.raises(FileNotFoundError):
            store.get(key)

        ev = evidence.add_evidence(a, "pzb-certified", "证书.pdf", data, user, store, max_bytes=10**6)
        key = ev.storage_key
        db.session.commit()
        assert evidence.delete_evidence(a, ev, store)
        assert store.get(key) == data  # not yet: the deletion has not committed
        db.session.rollback()
        assert store.get(key) == data and rows(app, Evidence, id=ev.id)
        ev = db.session.get(Evidence, ev.id)
        assert evidence.delete_evidence(db.session.get(Assessment, aid), ev, store)
        db.session.commit()
        with pytest.raises(FileNotFoundError):
            store.get(key)


def test_evidence_changes_are_in_the_item_history(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("证书")).status_code == 303
    (ev,) = rows(app, Evidence, assessment_id=aid)
    assert client.post(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}/delete").status_code == 303
    page = client.get(f"/firms/{firm.id}/assessments/{aid}/items/pzb-certified/history").get_data(
        as_text=True
    )
    assert "上传了文件 证书.pdf" in page and "删除了文件 证书.pdf" in page
    entries = rows(app, AnswerHistory, assessment_id=aid, item_id="pzb-certified")
    files = [(h.evidence_action, h.evidence_name, h.changed_by_id) for h in entries if h.evidence_action]
    assert files == [("added", "证书.pdf", owner.id), ("removed", "证书.pdf", owner.id)]
    # the answer itself did not change with its evidence
    assert all(h.new_value is True and h.version == 1 for h in entries if h.evidence_action)
    assert rows(app, Answer, assessment_id=aid, item_id="pzb-certified")[0].version == 1


def test_an_office_file_zipped_in_an_unknown_way_is_refused_not_a_crash():
    """zipfile raises NotImplementedError (a RuntimeError) for a compression method it does not know,
    and RuntimeError for an encrypted member: either way the file is not accepted as evidence."""
    from webapp.questionnaire import storage

    data = bytearray(ooxml(DOCX))
    assert storage.sniff(bytes(data), "a.docx") is storage.KINDS["docx"]
    for sig, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local and central headers
        at = data.find(sig)
        while at != -1:
            data[at + offset : at + offset + 2] = (99).to_bytes(2, "little")  # compression method 99
            at = data.find(sig, at + 4)
    assert storage.sniff(bytes(data), "a.docx") is None
