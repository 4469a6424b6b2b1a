"""A form on the section page that is refused brings the person back to the item it was about, with the
message next to it and focused as the page loads: a refused upload (wrong type, too large), an empty
comment, an invalid answer posted without JavaScript; and a refused assignment on the overview."""

from __future__ import annotations

import io
import re

from test_questionnaire import english, rows, start, upload

from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Comment, Evidence


def item_block(page: str, item: str) -> str:
    """The article of one item on a section page."""
    begin = page.index(f'id="item-{item}"')
    end = page.find("<article", begin)
    return page[begin : end if end != -1 else len(page)]


def errors_of(block: str) -> str:
    m = re.search(r'<div class="qn-errors"[^>]*>(.*?)</div>', block, re.S)
    assert m is not None
    return m.group(0)


def test_a_refused_upload_lands_on_the_message_next_to_its_item(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    item = "pzb-zj-standard"
    r = upload(client, firm.id, aid, item, "report.pdf", b"MZ\x90\x00" + b"\0" * 200)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/assessments/{aid}/sections/basic#item-{item}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    block = item_block(page, item)
    errors = errors_of(block)
    assert "This file type is not accepted" in errors
    assert 'tabindex="-1"' in errors and "autofocus" in errors  # focused as the page loads
    assert '<details class="qn-more" open>' in block  # the evidence part is open, its upload form shown
    # only there: not among the messages at the top of the page, nor on the next visit
    assert page.count("This file type is not accepted") == 1
    assert "This file type is not accepted" not in client.get(r.headers["Location"]).get_data(as_text=True)
    assert rows(app, Evidence, assessment_id=aid) == []


def test_a_file_over_the_request_limit_lands_on_its_item_too(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    item = "pzb-zj-standard"
    section = f"http://localhost/firms/{firm.id}/assessments/{aid}/sections/basic"
    page = client.get(section).get_data(as_text=True)
    assert f"/assessments/{aid}/evidence?item={item}" in page  # the form names its item in its URL
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4000
    try:
        r = client.post(
            f"/firms/{firm.id}/assessments/{aid}/evidence?item={item}",
            data={"item": item, "file": (io.BytesIO(b"%PDF-" + b"\0" * 8000), "big.pdf")},
            content_type="multipart/form-data",
            headers={"Referer": section},
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/sections/basic#item-{item}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The file is too large: the limit is 3.9 KB." in errors_of(item_block(page, item))


def test_a_refused_comment_lands_on_the_message(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    item = "pzb-certified"
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/comments", data={"item": item, "body": "   "})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"#item-{item}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    block = item_block(page, item)
    assert "Write something before posting the comment." in errors_of(block)
    assert "data-comments open" in block and 'maxlength="4000"' in block
    assert rows(app, Comment, assessment_id=aid) == []


def test_an_invalid_answer_without_javascript_is_shown_focused_with_what_was_typed(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/sections/management",
        data={"value-pzb-iso9001": "yes", "na-pzb-iso14001": "1", "na_reason-pzb-iso14001": " "},
    )
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'value="yes" checked' in item_block(page, "pzb-iso9001")  # kept, not saved
    errors = errors_of(item_block(page, "pzb-iso14001"))
    assert "Say why this question does not apply to your firm." in errors and "autofocus" in errors
    assert page.count("autofocus") == 1


def test_a_refused_assignment_lands_on_its_section(client, create_user, create_firm, login):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    aid = start(client, firm.id)
    stranger = create_user()
    r = client.post(
        f"/firms/{firm.id}/assessments/{aid}/assignments", data={"section": "basic", "user_id": stranger.id}
    )
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/assessments/{aid}/#assign-basic")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "只能把章节分配给本企业的成员" in page and 'id="assign-basic"' in page


def test_the_upload_flash_of_success_still_shows(app, owner_client):
    client, firm, owner = owner_client
    english(app, owner)
    aid = start(client, firm.id)
    r = upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("证书"))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "File attached: 证书.pdf" in page
