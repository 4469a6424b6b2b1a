"""Error pages: the site's layout in the reader's language, a short message, a way home; JSON under
/api/. The 500 page still answers when the database is down."""

from __future__ import annotations

import re

import pytest
from flask import abort
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from webapp import access

# code -> (a phrase of the Chinese message, a phrase of the English one)
PAGES = {
    400: ("请求无法处理", "could not be processed"),
    403: ("没有权限", "not allowed to open"),
    404: ("找不到这个页面", "Page not found"),
    405: ("不接受这种请求", "does not accept this kind of request"),
    410: ("已被删除", "has been removed"),
    413: ("太大", "too large"),
    422: ("无法接受", "could not be accepted"),
    429: ("请求太频繁", "Too many requests"),
    500: ("系统出了问题", "Something went wrong on our side"),
    503: ("服务暂时不可用", "briefly unavailable"),
}


@pytest.fixture
def failing(app, monkeypatch):
    """The start page answers with the given error code (abort) or raises."""

    def make(code: int | Exception) -> None:
        def view():
            if isinstance(code, Exception):
                raise code
            abort(code)

        monkeypatch.setitem(app.view_functions, "core.index", view)
        monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production

    return make


def assert_error_page(r, code: int, lang: str) -> None:
    html = r.get_data(as_text=True)
    assert r.status_code == code, html[:300]
    assert r.mimetype == "text/html"
    assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in html
    assert 'class="topbar"' in html and 'class="footer"' in html  # the site's layout
    assert PAGES[code][0 if lang == "zh" else 1] in html
    assert 'href="/"' in html  # a way home
    assert "Werkzeug" not in html and "The requested URL" not in html


@pytest.mark.parametrize("code", sorted(PAGES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_error_page_in_the_readers_language(client, failing, code, lang):
    failing(code)
    r = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"} if lang == "en" else {})
    assert_error_page(r, code, lang)


def test_real_404_and_405(client):
    assert_error_page(client.get("/no/such/page"), 404, "zh")
    assert_error_page(client.get("/no/such/page", headers={"Accept-Language": "en"}), 404, "en")
    r = client.post("/", headers={"Accept-Language": "en"})
    assert_error_page(r, 405, "en")
    assert r.headers["Allow"]  # the methods the page does accept


def test_the_chosen_language_wins(client):
    client.set_cookie("lang", "en")
    assert_error_page(client.get("/no/such/page", headers={"Accept-Language": "zh-CN"}), 404, "en")


def test_an_unexpected_exception_is_a_500_page(client, failing):
    failing(RuntimeError("boom"))
    r = client.get("/", headers={"Accept-Language": "en"})
    assert_error_page(r, 500, "en")
    assert "boom" not in r.get_data(as_text=True)


def test_the_500_page_answers_while_the_database_is_down(client, create_user, login, failing, monkeypatch):
    login(client, create_user(locale="en"))

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    monkeypatch.setattr(access, "load_user", down)  # the signed-in user's lookup
    monkeypatch.setattr(Session, "execute", down)  # and any other query
    monkeypatch.setitem(client.application.config, "PROPAGATE_EXCEPTIONS", False)
    r = client.get("/account/settings")
    assert r.status_code == 500
    html = r.get_data(as_text=True)
    assert 'class="topbar"' in html and "系统出了问题" in html and 'href="/"' in html


def test_a_failing_error_page_falls_back_to_a_static_one(client, failing, monkeypatch):
    from webapp import errors

    def broken(*args, **kwargs):
        raise RuntimeError("the template is broken too")

    monkeypatch.setattr(errors, "render_template", broken)
    failing(RuntimeError("boom"))
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and r.mimetype == "text/html"
    assert "出错了" in html and "Something went wrong" in html and 'href="/"' in html


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [("GET", "/api/v1/no-such-thing", 404), ("DELETE", "/api/v1/frameworks", 405)],
)
def test_api_paths_answer_json(client, method, path, code):
    r = client.open(path, method=method, headers={"Accept-Language": "en"})
    assert r.status_code == code and r.mimetype == "application/json"
    error = r.get_json()["error"]
    assert error["code"] in {"not_found", "method_not_allowed"} and error["message"]


def test_an_api_500_is_json(app, client, monkeypatch):
    def boom():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "api.frameworks", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    r = client.get("/api/v1/frameworks", headers={"Accept-Language": "en"})
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "server_error"


def _broken_connection() -> OperationalError:
    """What psycopg raises through SQLAlchemy when the server ended the connection under a request."""
    return OperationalError(
        "SELECT 1",
        {},
        Exception("terminating connection due to administrator command"),
        connection_invalidated=True,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_connection_broken_mid_request_is_a_503_to_send_again(client, failing, lang):
    failing(_broken_connection())
    r = client.get("/", headers={"Accept-Language": lang})
    assert_error_page(r, 503, lang)
    assert r.headers["Retry-After"] == "1"


def test_any_other_database_error_stays_a_500(client, failing):
    failing(OperationalError("SELECT 1", {}, Exception("division by zero")))
    assert_error_page(client.get("/", headers={"Accept-Language": "en"}), 500, "en")


def test_an_api_request_whose_connection_broke_is_a_json_503(app, client, monkeypatch):
    def broken():
        raise _broken_connection()

    monkeypatch.setitem(app.view_functions, "api.frameworks", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    r = client.get("/api/v1/frameworks", headers={"Accept-Language": "en"})
    # (Flask-Limiter moves Retry-After to the end of the API's rate-limit window, never earlier)
    assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["error"]["code"] == "unavailable"


def test_an_autosave_whose_commit_lost_the_connection_is_a_503_and_its_retry_saves(
    app, owner_client, monkeypatch
):
    """The connection breaks during COMMIT: the browser is told to send the answer again (503, JSON
    its offline queue reads), and the same request sent again saves it, once, with one history row."""
    from tests.test_questionnaire import rows, save, start
    from webapp.models import Answer, AnswerHistory

    client, firm, _owner = owner_client
    aid = start(client, firm.id)
    real_commit = Session.commit
    broke = []

    def commit_once_broken(self):
        if not broke:
            broke.append(True)
            self.rollback()  # nothing of the request reached the database
            raise _broken_connection()
        return real_commit(self)

    monkeypatch.setattr(Session, "commit", commit_once_broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    r = save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.json["ok"] is False and r.json["error"] == "unavailable" and r.json["message"]
    assert rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard") == []
    r = save(client, firm.id, aid, "pzb-zj-standard", 0, value="drafting")
    assert r.status_code == 200 and r.json["version"] == 1 and r.json["saved"]
    (answer,) = rows(app, Answer, assessment_id=aid, item_id="pzb-zj-standard")
    assert answer.value == "drafting" and answer.version == 1
    assert len(rows(app, AnswerHistory, assessment_id=aid, item_id="pzb-zj-standard")) == 1


def test_a_sign_in_whose_commit_lost_the_connection_leaves_no_session_and_its_retry_signs_in(
    app, client, create_user, monkeypatch
):
    """A 503 leaves nothing behind, the session cookie included: the same form sent again (with the
    CSRF token it carried) signs in."""
    from tests.conftest import PASSWORD

    user = create_user(email="retry@example.cn")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    form = client.get("/account/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)[1]
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    real_commit = Session.commit
    broke = []

    def commit_once_broken(self):
        if not broke:
            broke.append(True)
            self.rollback()
            raise _broken_connection()
        return real_commit(self)

    monkeypatch.setattr(Session, "commit", commit_once_broken)
    r = client.post("/account/signin", data=data)
    assert r.status_code == 503 and broke
    assert "/account/signin" in client.get("/account/settings").headers["Location"]  # not signed in
    r = client.post("/account/signin", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    assert client.get("/account/settings").status_code == 200
