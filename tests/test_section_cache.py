"""The section page and its ETag (webapp/questionnaire/pagecache.py): every change a person can make
through the product shows on the next load, a revalidating browser gets 304 only while nothing the
page shows changed (data, viewer, language, build, the age of its CSRF token), and a page never
reaches someone it was not rendered for."""

from __future__ import annotations

import re

from sqlalchemy import update

from tests.test_questionnaire import rows, save, start, upload
from webapp import db, tenancy
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Answer, AnswerHistory, Comment, Evidence, Firm, SectionAssignment
from webapp.questionnaire import pagecache


def _page(client, firm_id: int, aid: int, section: str = "basic") -> str:
    """The page as a second load finds it: after a form post the first load shows the flash message
    (such a page has no ETag); the second is the one a browser keeps."""
    for _ in range(2):
        r = client.get(f"/firms/{firm_id}/assessments/{aid}/sections/{section}")
        assert r.status_code == 200
    return r.get_data(as_text=True)


def _untimed(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', page)


def test_every_change_shows_on_the_next_load(app, owner_client):
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    before = _page(client, firm.id, aid)
    # rendered again, unchanged (but for the CSRF token's signing time)
    assert _untimed(_page(client, firm.id, aid)) == _untimed(before)

    # an answer
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    page = _page(client, firm.id, aid)
    assert 'name="value-pzb-certified" value="yes" checked' in page
    assert "适用题目已答 1 / 37" in page

    # evidence, then its removal
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("证书")).status_code == 303
    (ev,) = rows(app, Evidence, assessment_id=aid)
    link = f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}"
    assert f'href="{link}"' in _page(client, firm.id, aid)
    assert client.post(f"{link}/delete").status_code == 303
    assert f'href="{link}"' not in _page(client, firm.id, aid)

    # a comment
    url = f"/firms/{firm.id}/assessments/{aid}/comments"
    assert client.post(url, data={"item": "pzb-certified", "body": "证书扫描件请再传一次"}).status_code == 303
    assert "证书扫描件请再传一次" in _page(client, firm.id, aid)

    # an assignment, then a change of assignee
    url = f"/firms/{firm.id}/assessments/{aid}/assignments"
    owner_name = "王丽 Owner"
    assert owner_name not in _page(client, firm.id, aid).split('class="qn-seclist"')[1].split("</nav>")[0]
    assert client.post(url, data={"section": "basic", "user_id": str(owner.id)}).status_code == 303
    seclist = _page(client, firm.id, aid).split('class="qn-seclist"')[1].split("</nav>")[0]
    assert owner_name in seclist


def test_a_shared_fact_changed_elsewhere_shows_here(app, owner_client):
    client, firm, _ = owner_client
    pzb = start(client, firm.id)
    assert save(client, firm.id, pzb, "pzb-iso9001", 0, value=True).status_code == 200
    pe = start(client, firm.id, "performance-excellence", "quick")
    page = _page(client, firm.id, pzb, "management")
    assert 'name="value-pzb-iso9001" value="yes" checked' in page
    (answer,) = rows(app, Answer, assessment_id=pe, item_id="pe-elig-iso9001")
    assert save(client, firm.id, pe, "pe-elig-iso9001", answer.version, value=False).status_code == 200
    page = _page(client, firm.id, pzb, "management")
    assert 'name="value-pzb-iso9001" value="no" checked' in page


def test_the_firm_profile_is_part_of_the_stamp(app, owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    _page(client, firm.id, aid)
    with app.test_request_context(), tenancy.bypass():
        before = pagecache.stamp(firm.id, aid)
        db.session.get(Firm, firm.id).size_class = "micro"
        db.session.flush()
        after = pagecache.stamp(firm.id, aid)
        assert before is not None and after is not None and before != after
        assert pagecache.stamp(firm.id + 1000, aid) is None  # another firm's id: nothing
        db.session.rollback()


def test_pages_load_when_the_tables_ids_are_large(app, owner_client):
    """A long-used installation: its history, evidence, comment and assignment ids are far past what a
    page's stamp may multiply without leaving PostgreSQL's integer (this once made every section
    page fail on PostgreSQL after some 21,000 answer changes across all firms)."""
    client, firm, owner = owner_client
    aid = start(client, firm.id)
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("证书")).status_code == 303
    url = f"/firms/{firm.id}/assessments/{aid}/comments"
    assert client.post(url, data={"item": "pzb-certified", "body": "请复核"}).status_code == 303
    url = f"/firms/{firm.id}/assessments/{aid}/assignments"
    assert client.post(url, data={"section": "basic", "user_id": str(owner.id)}).status_code == 303
    big = 2_000_000_000  # PostgreSQL's integer ends at 2,147,483,647
    with app.app_context(), tenancy.bypass():
        for model in (AnswerHistory, Evidence, Comment, SectionAssignment):
            db.session.execute(update(model).where(model.assessment_id == aid).values(id=model.id + big))
        db.session.commit()
    page = _page(client, firm.id, aid)
    assert 'name="value-pzb-certified" value="yes" checked' in page
    assert "请复核" in page
    assert save(client, firm.id, aid, "pzb-certified", 1, value=False).status_code == 200
    assert 'name="value-pzb-certified" value="no" checked' in _page(client, firm.id, aid)


def test_a_kept_page_does_not_reach_a_viewer_or_another_firm(client, create_user, create_firm, login):
    owner = create_user()
    viewer = create_user()
    firm = create_firm(owner=owner, members={"viewer": viewer})
    login(client, owner)
    aid = start(client, firm.id)
    assert "data-autosave" in _page(client, firm.id, aid)
    other = client.application.test_client()
    login(other, viewer)
    assert "data-autosave" not in _page(other, firm.id, aid)  # the viewer's own page, read-only
    stranger = create_user()
    create_firm("宁波别家有限公司", owner=stranger, region="330203")
    third = client.application.test_client()
    login(third, stranger)
    assert third.get(f"/firms/{firm.id}/assessments/{aid}/sections/basic").status_code == 404


def test_language_and_csrf_token_are_per_request(app, owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    zh = _page(client, firm.id, aid)
    assert "\x00" not in zh
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', zh))
    assert len(tokens) == 1
    again = _page(client, firm.id, aid)
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', again)) and "\x00" not in again
    assert client.post("/lang/en", data={"next": "/"}).status_code in (302, 303)
    en = _page(client, firm.id, aid)
    assert 'lang="en"' in en and "0 of 37 applicable questions answered" in en and en != zh


def test_etag_gives_not_modified_until_something_changes(app, owner_client):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/sections/basic"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert save(client, firm.id, aid, "pzb-certified", 0, value=True).status_code == 200
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_each_session_gets_a_page_with_its_own_csrf_token(app, client, create_user, create_firm, login):
    """The same user signed in twice: a page kept for one session never carries into the other, whose
    token would not match it."""
    from itsdangerous import URLSafeTimedSerializer

    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    aid = start(client, firm.id)
    second = client.application.test_client()
    login(second, owner)
    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    raw = []
    for c in (client, second, client, second):
        page = _page(c, firm.id, aid)
        (token,) = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        with c.session_transaction() as sess:
            assert signer.loads(token) == sess["csrf_token"]
            raw.append(sess["csrf_token"])
    assert raw[0] == raw[2] and raw[1] == raw[3] and raw[0] != raw[1]


def _revalidate(client, url: str) -> tuple[int, str]:
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    return again.status_code, etag


def test_a_colleague_renamed_is_not_answered_304(app, client, create_user, create_firm, login):
    owner = create_user(name="王丽 Owner")
    colleague = create_user(name="李强 Editor")
    firm = create_firm(owner=owner, members={"editor": colleague})
    login(client, owner)
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/sections/basic"
    assign = f"/firms/{firm.id}/assessments/{aid}/assignments"
    assert client.post(assign, data={"section": "basic", "user_id": str(colleague.id)}).status_code == 303
    client.get(url)  # the flash
    status, etag = _revalidate(client, url)
    assert status == 304
    other = client.application.test_client()
    login(other, colleague)
    assert other.post("/account/settings", data={"name": "李强 Renamed", "locale": "zh"}).status_code == 302
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and "李强 Renamed" in r.get_data(as_text=True)


def test_a_new_build_or_language_is_not_answered_304(app, owner_client, monkeypatch):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/sections/basic"
    status, etag = _revalidate(client, url)
    assert status == 304
    monkeypatch.setitem(app.extensions, "qready.build_id", "a-later-deploy")
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    status, etag = _revalidate(client, url)
    assert status == 304
    assert client.post("/lang/en", data={"next": "/"}).status_code in (302, 303)
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and 'lang="en"' in r.get_data(as_text=True)


def test_a_page_whose_csrf_token_aged_is_rendered_again(app, owner_client, monkeypatch):
    client, firm, _ = owner_client
    aid = start(client, firm.id)
    url = f"/firms/{firm.id}/assessments/{aid}/sections/basic"
    status, etag = _revalidate(client, url)
    assert status == 304
    later = pagecache.time.time() + app.config["WTF_CSRF_TIME_LIMIT"] / 2 + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_the_build_id_names_what_is_served(tmp_path):
    from webapp import build

    for part in build.PARTS:
        (tmp_path / part).mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n')
    (tmp_path / "templates" / "page.html").write_text("<p>one</p>")
    first = build.compute(tmp_path)
    assert first.startswith("1.2.3-") and build.compute(tmp_path) == first
    (tmp_path / "templates" / "page.html").write_text("<p>two</p>")
    assert build.compute(tmp_path) != first
