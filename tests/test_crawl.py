"""The real server, crawled: gunicorn with 2 workers on the database of the run (a fresh `<name>_crawl`
PostgreSQL database next to QREADY_TEST_DATABASE_URL, else a SQLite file), migrated and loaded with
`flask demo` as an operator would, CSRF on, nothing rolled back.

Each demo user, a visitor and a newly registered user sign in through the forms and follow every
same-site link of every page they reach (bounded per URL rule), then ask for every GET URL rule
filled with the demo's ids (the API's with a token made on the settings page), in Chinese and in
English (the visitor by Accept-Language, the users by their setting, saved through the settings
form). A crawl fails on a 5xx; on a link shown to a user that answers 4xx; on a page whose
`<html lang>` is not the language asked for; on an English page with Chinese that is not data
(data: elements marked `lang="zh…"` or `translate="no"`, text from the database or the framework
files, a few official names); on a download whose Content-Disposition a strict client rejects; on
any line gunicorn logs as an invalid request or an error; and when a user's own pages never
answered 200 for the URL rules that user must reach.

The new user also answers, marks an item not applicable and uploads evidence; other tests change a
password, a name and a language. All are read back on later requests, so a change that is not
committed fails (the per-test rollback of the rest of the suite cannot see that). Last, an English
journey in Debian's Chromium against the same server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import pytest
import tinyhtml5
from sqlalchemy import create_engine, make_url, text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = ("firm", "consultant", "regulator", "admin")
MAX_URLS = 220  # per crawl
PER_RULE = 8  # distinct URLs of one URL rule per crawl (sections of a questionnaire: more)
PER_RULE_MORE = {"questionnaire.section": 24, "reports.pdf": 2, "reports.view": 3, "questionnaire.history": 3}
NS = "{http://www.w3.org/1999/xhtml}"
# The official names the English UI quotes on purpose: the certification mark and two legal terms.
NAMES = ("品字标", "规模以上", "统一社会信用代码")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # ideographs
# gunicorn's lines for a request it refused, an exception, a worker that died
BAD_LOG = re.compile(
    r"Invalid request from|Error handling request|Exception on |Traceback|WORKER TIMEOUT|Worker .* died"
)


# ---- the server ------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    database_url: str
    log: Path
    adapter: MapAdapter
    rules: list[Rule]
    ids: list[dict[str, Any]]  # coherent sets of the demo's ids (firm, its assessment, evidence, item)

    def log_from(self, offset: int) -> str:
        time.sleep(0.2)  # let the workers' last lines reach the file
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size


def _engine(url: str, **kw: Any) -> Any:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, **kw)


def _crawl_database(tmp: Path) -> Iterator[str]:
    base = os.environ.get("QREADY_TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp / "crawl.sqlite3")
        return
    url = make_url(base)
    name = f"{url.database}_crawl"
    admin = _engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_ids(database_url: str) -> list[dict[str, Any]]:
    engine = _engine(database_url)
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        firms = conn.execute(text("SELECT id FROM firms WHERE synthetic = false ORDER BY id")).scalars().all()
        synthetic = conn.execute(text("SELECT min(id) FROM firms WHERE synthetic = true")).scalar()
        for firm_id in firms:
            rows = conn.execute(
                text("SELECT id, framework_id FROM assessments WHERE firm_id = :f ORDER BY id"),
                {"f": firm_id},
            ).all()
            for assessment_id, framework_id in rows:
                evidence = conn.execute(
                    text("SELECT min(id) FROM evidence WHERE assessment_id = :a"), {"a": assessment_id}
                ).scalar()
                item = conn.execute(
                    text("SELECT min(item_id) FROM answers WHERE assessment_id = :a"), {"a": assessment_id}
                ).scalar()
                ids = {"firm_id": firm_id, "assessment_id": assessment_id, "framework_id": framework_id}
                ids |= {"evidence_id": evidence} if evidence else {}
                ids |= {"item_id": item} if item else {}
                out.append(ids)
            out.append({"firm_id": firm_id})
        out.append({"firm_id": synthetic})
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("crawl")
    started = time.monotonic()
    for database_url in _crawl_database(tmp):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "QREADY_INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "crawl-secret-key",
            "QREADY_ENV": "development",
            "PYTHONWARNINGS": "",
        }
        for var in ("MAIL_SERVER", "REDIS_URL", "EVIDENCE_STORAGE", "PUBLIC_URL"):
            env.pop(var, None)
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        for args in (["db", "upgrade"], ["demo"]):
            done = subprocess.run(
                flask + args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        port = _free_port()
        log = tmp / "gunicorn.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--timeout",
                    "120",
                    "--access-logfile",
                    "-",
                    "wsgi:app",
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(url, proc, log)
            from webapp import create_app

            app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "SERVER_NAME": "crawl.test"})
            rules = [
                r
                for r in app.url_map.iter_rules()
                if r.endpoint != "static" and r.methods is not None and "GET" in r.methods
            ]
            srv = Server(
                url, database_url, log, app.url_map.bind("crawl.test"), rules, _demo_ids(database_url)
            )
            from webapp import db

            db.dispose(app)
            print(f"\ncrawl server ready in {time.monotonic() - started:.1f}s ({database_url.split(':')[0]})")
            yield srv
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            print(f"\ncrawl module took {time.monotonic() - started:.1f}s")
    shutil.rmtree(tmp, ignore_errors=True)


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer on {url}:\n{log.read_text(errors='replace')}")


# ---- pages ----------------------------------------------------------------------------------------


def parse(html: str) -> Any:
    return tinyhtml5.parse(html)


def tag(el: Any) -> str:
    return str(el.tag).removeprefix(NS) if isinstance(el.tag, str) else ""


def _is_data(el: Any) -> bool:
    return str(el.get("lang", "")).lower().startswith("zh") or el.get("translate") == "no"


def _cjk_runs(s: str) -> list[str]:
    return re.findall(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60“”]+", s)


def _framework_data(node: Any, out: set[str]) -> None:
    """From the framework files: text with no English side (plan quotations, the rules' titles) and
    the Chinese terms the English side quotes; never the Chinese side of a bilingual text."""
    if isinstance(node, dict):
        if isinstance(node.get("zh"), str) and isinstance(node.get("en"), str):
            out.update(_cjk_runs(node["en"]))
        for key, value in node.items():
            if key not in {"zh", "en"}:
                _framework_data(value, out)
    elif isinstance(node, list):
        for value in node:
            _framework_data(value, out)
    elif isinstance(node, str) and CJK.search(node):
        out.add(node.strip())


FRAMEWORK_DATA: set[str] = set()


def framework_data() -> set[str]:
    if not FRAMEWORK_DATA:
        import yaml

        for path in sorted((REPO / "assessments").rglob("*.yaml")):
            _framework_data(yaml.safe_load(path.read_text(encoding="utf-8")), FRAMEWORK_DATA)
    return FRAMEWORK_DATA


def database_data(database_url: str) -> set[str]:
    """Every piece of text people typed or the demo loaded: names of firms, people, consultancies and
    regulators, file names, comments, answers."""
    from sqlalchemy import MetaData

    out: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str):
            if value[:1] in "[{":
                try:
                    add(json.loads(value))
                    return
                except ValueError:
                    pass
            if CJK.search(value):
                out.add(value.strip())
        elif isinstance(value, dict):
            for v in value.values():
                add(v)
        elif isinstance(value, list):
            for v in value:
                add(v)

    engine = _engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.tables.values():
            if table.name == "alembic_version":
                continue
            for row in conn.execute(table.select()):
                for value in row:
                    add(value)
    engine.dispose()
    return out


def data_pattern(strings: set[str]) -> re.Pattern[str]:
    ordered = sorted((s for s in strings if s), key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered) or "(?!)")


def chinese_ui_text(root: Any, data: re.Pattern[str]) -> list[str]:
    """Chinese text of an English page that is not data: outside the elements marked as data
    (`lang="zh…"`, `translate="no"`) and not a name or text from the database or the framework files
    (`data`), in text and in the attributes a person reads or hears."""
    found: list[str] = []

    def check(s: str | None, where: str) -> None:
        if s and CJK.search(s):
            rest = data.sub("", s)
            for name in NAMES:
                rest = rest.replace(name, "")
            if CJK.search(rest):
                found.append(f"{where}: {s.strip()[:80]!r}")

    def walk(el: Any, name: str) -> None:
        for child in el:
            if not isinstance(child.tag, str):  # a comment
                check(child.tail, name)
                continue
            t = tag(child)
            if not _is_data(child):
                for attr in ("title", "placeholder", "aria-label", "alt", "content", "label"):
                    check(child.get(attr), f"@{attr} of <{t}>")
                if t in {"button", "input"} and child.get("type") in {"submit", "button", "reset"}:
                    check(child.get("value"), f"@value of <{t}>")
                for attr, value in child.attrib.items():
                    if attr.startswith("data-") and not value.lstrip().startswith(("{", "[")):
                        check(value, f"@{attr} of <{t}>")
                check(child.text, t)
                walk(child, t)
            check(child.tail, name)

    check(root.text, "html")
    walk(root, "html")
    return found


def links(root: Any, base: str) -> list[str]:
    out = []
    for el in root.iter(f"{NS}a"):
        href = el.get("href")
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            out.append(urljoin(base, href))
    return out


def forms(root: Any) -> list[Any]:
    return list(root.iter(f"{NS}form"))


def form_data(form: Any) -> dict[str, str]:
    """The values a browser would send for `form` without touching it."""
    data: dict[str, str] = {}
    for el in form.iter():
        t = tag(el)
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if t == "input":
            kind = (el.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if el.get("checked") is not None:
                    data[name] = el.get("value", "on")
            elif kind not in {"submit", "button", "file", "reset", "image"}:
                data[name] = el.get("value", "")
        elif t == "textarea":
            data[name] = el.text or ""
        elif t == "select":
            options = list(el.iter(f"{NS}option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            if chosen:
                data[name] = chosen[0].get("value", "".join(chosen[0].itertext()))
    return data


def find_form(root: Any, action: str, page: str = "") -> Any:
    """The form that posts to `action` (a form without one posts to its own `page`)."""
    for f in forms(root):
        if (urlsplit(f.get("action") or "").path or urlsplit(page).path) == action:
            return f
    raise AssertionError(f"no form posting to {action}")


def content_disposition_problem(raw: bytes) -> str | None:
    """None when the header is one a strict client reads (RFC 6266: ASCII; a non-ASCII name goes in
    `filename*=UTF-8''…`), else what is wrong."""
    try:
        value = raw.decode("ascii")
    except UnicodeDecodeError:
        return f"not ASCII: {raw[:120]!r}"
    token = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
    quoted = r'"(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e])*"'
    param = rf"\s*;\s*({token})\s*=\s*({token}|{quoted})"
    m = re.fullmatch(rf"\s*({token})((?:{param})*)\s*", value)
    if not m:
        return f"does not parse: {value!r}"
    params = {k.lower(): v for k, v in re.findall(param, m.group(2))}
    if m.group(1).lower() not in {"attachment", "inline"}:
        return f"unknown disposition type: {value!r}"
    if "filename*" in params:
        ext = re.fullmatch(
            r"(?i)UTF-8'[A-Za-z0-9-]*'((?:%[0-9A-Fa-f]{2}|[!#$&+.^_`|~0-9A-Za-z-])+)", params["filename*"]
        )
        if not ext:
            return f"filename* is not UTF-8''<pct-encoded>: {value!r}"
        try:
            unquote(ext.group(1), errors="strict")
        except UnicodeDecodeError:
            return f"filename* is not UTF-8: {value!r}"
    elif "filename" not in params and m.group(1).lower() == "attachment":
        return f"an attachment without a file name: {value!r}"
    return None


# ---- a crawl ---------------------------------------------------------------------------------------


@dataclass
class Crawl:
    server: Server
    lang: str  # "zh" | "en"
    who: str
    accept_language: str
    client: httpx.Client = field(init=False)
    problems: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)  # one kind → its cases
    seen: set[str] = field(default_factory=set)
    per_rule: dict[str, int] = field(default_factory=dict)
    args_seen: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)
    ok: set[str] = field(default_factory=set)  # the URL rules that answered 200 at least once
    log_offset: int = 0
    data: re.Pattern[str] = field(init=False)
    api_token: str | None = None

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.server.url,
            headers={"Accept-Language": self.accept_language, "User-Agent": "qready-crawl"},
            timeout=120,
        )
        self.log_offset = self.server.log_size()

    def problem(self, key: tuple[Any, ...], message: str) -> None:
        self.problems.setdefault(key, []).append(message)

    # -- requests

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def page(self, path: str) -> tuple[httpx.Response, Any]:
        r = self.get(path)
        assert r.status_code == 200, f"{self.who}: GET {path} → {r.status_code}"
        return r, parse(r.text)

    def post_form(
        self, path: str, action: str, values: dict[str, str], expect: int | tuple[int, ...] = 302
    ) -> httpx.Response:
        _r, root = self.page(path)
        data = form_data(find_form(root, action, path)) | values
        r = self.client.post(action, data=data)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in expected, f"{self.who}: POST {action} → {r.status_code}\n{r.text[:3000]}"
        return r

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.post_form("/account/signin", "/account/signin", {"email": email, "password": password})

    def set_language(self, lang: str) -> None:
        """Through the settings form; the `lang` cookie it also sets is dropped, so what the pages
        show comes from the user's saved setting."""
        self.post_form("/account/settings", "/account/settings", {"locale": lang})
        self.client.cookies.delete("lang")
        _r, root = self.page("/account/settings")
        chosen = form_data(find_form(root, "/account/settings")).get("locale")
        assert chosen == lang, (
            f"{self.who}: the language setting saved as {lang!r} reads {chosen!r} on the next request: "
            "the change was not kept"
        )

    def create_api_token(self) -> None:
        """Through the settings page; the API's URLs are then asked for with it."""
        r = self.post_form("/account/settings", "/account/tokens", {"tk-name": "crawl"}, expect=200)
        shown = [el.get("value") for el in parse(r.text).iter(f"{NS}input") if el.get("id") == "new-token"]
        assert shown and shown[0], f"{self.who}: no new API token on the page"
        self.api_token = shown[0]

    # -- crawling

    def match(self, url: str) -> tuple[str, dict[str, Any]] | None:
        try:
            endpoint, args = self.server.adapter.match(urlsplit(url).path, method="GET")
        except HTTPException:
            return None
        except Exception:  # RequestRedirect and friends
            return None
        return str(endpoint), dict(args)

    def same_site(self, url: str) -> bool:
        return url.startswith(self.server.url + "/") or url == self.server.url

    def run(self, starts: list[str]) -> None:
        # what is data: read now, after the test has typed its own
        self.data = data_pattern(framework_data() | database_data(self.server.database_url))
        queue: deque[tuple[str, str | None]] = deque((self.server.url + s, None) for s in starts)
        while queue and len(self.seen) < MAX_URLS:
            url, referrer = queue.popleft()
            url = url.split("#")[0]
            if url in self.seen or not self.same_site(url):
                continue
            matched = self.match(url)
            endpoint = matched[0] if matched else "?"
            if endpoint == "static":
                if urlsplit(url).path in STATIC_SEEN:
                    continue
                STATIC_SEEN.add(urlsplit(url).path)
            cap = PER_RULE_MORE.get(endpoint, PER_RULE)
            if self.per_rule.get(endpoint, 0) >= cap:
                continue
            self.per_rule[endpoint] = self.per_rule.get(endpoint, 0) + 1
            for nxt in self.visit(url, referrer):
                queue.append((nxt, url))

    def visit(self, url: str, referrer: str | None, *, filled: bool = False) -> list[str]:
        self.seen.add(url)
        matched = self.match(url)
        if matched:
            self.endpoints.add(matched[0])
            if matched[1]:
                self.args_seen.append(matched[1])
        path = url.removeprefix(self.server.url)
        headers = {"Accept": "text/html,application/json;q=0.9,*/*;q=0.8"}
        if self.api_token and path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.api_token}"
        try:
            r = self.client.get(path, headers=headers)
        except httpx.HTTPError as e:
            self.problem(("connection", path), f"GET {path}: the connection failed ({e!r})")
            return []
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if r.status_code == 200 and matched:
            self.ok.add(matched[0])
        where = f"GET {path}" + (
            f" (linked from {referrer.removeprefix(self.server.url)})" if referrer else ""
        )
        endpoint = matched[0] if matched else path
        if r.status_code >= 500:
            self.problem(("5xx", endpoint, r.status_code), f"{where} → {r.status_code}")
        elif r.status_code >= 400 and referrer is not None and not filled:
            self.problem(
                ("link", endpoint, r.status_code),
                f"{where} → {r.status_code}: a link shown that does not work",
            )
        raw_cd = [v for k, v in r.headers.raw if k.lower() == b"content-disposition"]
        for raw in raw_cd:
            problem = content_disposition_problem(raw)
            if problem:
                self.problem(("download", endpoint), f"{where}: Content-Disposition {problem}")
        if 300 <= r.status_code < 400 and "location" in r.headers:
            return [urljoin(url, r.headers["location"])]
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("text/html"):
            return []
        root = parse(r.text)
        lang = root.get("lang")
        ok = (lang or "").startswith("zh") if self.lang == "zh" else lang == "en"
        if not ok:
            self.problem(
                ("lang", r.status_code, lang),
                f"{where} → {r.status_code}: <html lang={lang!r}> on a page asked for in {self.lang}",
            )
        if self.lang == "en" and lang == "en":
            for bit in chinese_ui_text(root, self.data):
                self.problem(("cjk", endpoint, bit), f"{where}: Chinese in English: {bit}")
        return links(root, url)

    def fill_rules(self) -> None:
        """Every GET URL rule at least once, with the ids this user saw, then with the demo's."""
        pools = self.args_seen + self.server.ids + [{}]
        for rule in self.server.rules:
            tried = 0
            for ids in pools:
                if tried >= 3:
                    break
                values = {a: ids.get(a, DUMMY.get(a, "x")) for a in rule.arguments}
                if rule.arguments and not set(rule.arguments) & set(ids) and ids:
                    continue
                path = self.server.adapter.build(rule.endpoint, values)
                url = self.server.url + urlsplit(path).path
                tried += 1
                if url in self.seen:
                    continue
                self.visit(url, None, filled=True)

    def finish(self, reached: tuple[str, ...] = ()) -> None:
        """Fail on the problems found; `reached` are the URL rules this user's own pages must have
        answered with a 200."""
        missed = sorted(set(reached) - self.ok)
        if missed:
            self.problem(("reached",), f"{self.who} never got a 200 from {missed}")
        log = self.server.log_from(self.log_offset)
        for line in log.splitlines():
            if BAD_LOG.search(line):
                message = re.sub(r"^(\[[^]]*\] \[\d+\] |[0-9-]+ [0-9:,]+ )", "", line.strip())[:300]
                self.problem(("log", message), f"gunicorn logged: {message}")
        missing = {r.endpoint for r in self.server.rules} - self.endpoints
        if missing:
            self.problem(("rules",), f"URL rules never requested: {sorted(missing)}")
        self.client.close()
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        print(f"\n{self.who} in {self.lang}: {len(self.seen)} URLs ({summary})")
        if self.problems:
            shown = "\n  ".join(
                cases[0] + (f"  (and {len(cases) - 1} more like it)" if len(cases) > 1 else "")
                for cases in self.problems.values()
            )
            pytest.fail(
                f"{self.who} in {self.lang}: {len(self.problems)} problems:\n  {shown}", pytrace=False
            )


STATIC_SEEN: set[str] = set()
DUMMY: dict[str, Any] = {
    "firm_id": 999999,
    "assessment_id": 999999,
    "evidence_id": 999999,
    "token_id": 999999,
    "item_id": "no-such-item",
    "section_id": "no-such-section",
    "framework_id": "no-such-framework",
    "token": "not-a-token",
    "job_id": "no-such-job",
    "action_id": 999999,
}


# The URL rules each user's own pages must answer with a 200 (so a crawl that signed in wrong, or
# found nothing, fails).
FIRM_PAGES = ("core.firm_home", "orgs.profile", "orgs.members", "questionnaire.overview")
FIRM_PAGES += ("questionnaire.section", "questionnaire.verdict", "reports.view", "auth.settings")
FIRM_PAGES += ("plan.plan", "plan.mine", "plan.calendar")
FIRM_PAGES += ("desk.compare_rounds", "desk.compare_rounds_xlsx")  # linked from the firm's home
DESK = ("desk.import_answers", "desk.answer_template", "desk.export_json", "desk.export_xlsx")
FIRM_API = ("api.firms", "api.firm_assessments", "api.assessment", "api.result", "api.report")
REACHED = {
    "firm": (
        *FIRM_PAGES,
        *FIRM_API,
        *DESK,
        "orgs.consultants",
        "orgs.edit_profile",
        "questionnaire.download",
    ),
    "consultant": (
        *FIRM_PAGES,
        *FIRM_API,
        *DESK,
        "consultants.home",
        "consultants.compare",
        "consultants.invite_client",
        "consultants.new_client",
        "desk.handover",
        "reports.bulk",
        "questionnaire.download",
    ),
    "regulator": ("regulators.home", "auth.settings", "api.frameworks", "api.openapi"),
    "admin": ("admin.home", "auth.settings", "api.frameworks"),
    "new": (*FIRM_PAGES, "orgs.consultants", "orgs.edit_profile", "orgs.new_firm", "questionnaire.download"),
}


def accept(lang: str) -> str:
    return "en-GB,en;q=0.9" if lang == "en" else "zh-CN,zh;q=0.9"


# ---- the crawls -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_crawl_as_a_visitor(server: Server, lang: str) -> None:
    crawl = Crawl(server, lang, "a visitor", accept(lang))
    crawl.run(["/", "/account/signin", "/account/register", "/account/forgot"])
    crawl.fill_rules()
    crawl.finish(("core.index", "auth.signin", "auth.register", "auth.forgot", "core.healthz", "api.openapi"))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", DEMO_USERS)
def test_crawl_as_a_demo_user(server: Server, user: str, lang: str) -> None:
    # The other language in Accept-Language: the pages must follow the user's setting.
    crawl = Crawl(server, lang, f"{user}@demo.qready.cn", accept("zh" if lang == "en" else "en"))
    crawl.sign_in(f"{user}@demo.qready.cn")
    crawl.set_language(lang)
    crawl.create_api_token()
    home = crawl.get("/home")
    assert home.status_code in (200, 302), home.status_code
    crawl.run(["/home", "/", "/account/settings"])
    crawl.fill_rules()
    crawl.finish(REACHED[user])


def csrf_token(root: Any) -> str:
    for el in root.iter(f"{NS}input"):
        if el.get("name") == "csrf_token":
            return str(el.get("value"))
    raise AssertionError("no CSRF token on the page")


def checked(root: Any, item: str) -> list[str]:
    """The values checked in the questionnaire item `item` of a section page."""
    for el in root.iter():
        if el.get("id") == f"item-{item}":
            return [i.get("value") for i in el.iter(f"{NS}input") if i.get("checked") is not None]
    raise AssertionError(f"no item {item} on the page")


def checked_names(root: Any, item: str) -> list[str]:
    for el in root.iter():
        if el.get("id") == f"item-{item}":
            return [i.get("name") for i in el.iter(f"{NS}input") if i.get("checked") is not None]
    raise AssertionError(f"no item {item} on the page")


NEW_PASSWORD = "a-new-password-2026"


def test_a_new_user_registers_answers_and_crawls(server: Server) -> None:
    """Register in an English browser, confirm the address by the link the server mailed (to its
    log), create a firm, answer through the autosave endpoint, read the answer back; then crawl,
    in English and, after changing the setting, in Chinese."""
    import random

    from webapp.refdata import credit_code

    crawl = Crawl(server, "en", "a new user", accept("en"))
    crawl.post_form(
        "/account/register",
        "/account/register",
        {
            "name": "你好 Crawler",
            "email": "crawler@example.cn",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    tokens = re.findall(r"/account/verify/(\S+)", server.log_from(crawl.log_offset))
    assert tokens, "no confirmation link in the server's log"
    r = crawl.get(f"/account/verify/{tokens[-1]}")
    assert r.status_code == 302, r.text[:2000]
    _r, root = crawl.page("/account/settings")
    assert root.get("lang") == "en", "a user who registered from an English browser sees Chinese pages"
    assert "Please confirm your email address" not in _r.text, "the confirmed address was not kept"

    r = crawl.post_form(
        "/firms/new",
        "/firms/new",
        {
            "name": "杭州爬虫测试阀门有限公司",
            "credit_code": credit_code.generate(random.Random(11), "330106"),
            "region_code": "330106",
            "industry_division": "34",
            "employees": "120",
        },
    )
    firm_path = urlsplit(r.headers["location"]).path
    _r, root = crawl.page(firm_path)
    r = crawl.client.post(
        firm_path + "assessments", data={"csrf_token": csrf_token(root), "framework": "chief-quality-officer"}
    )
    assert r.status_code == 303, r.text[:2000]
    section = urlsplit(r.headers["location"]).path
    _r, root = crawl.page(section)
    autosave = next(f.get("data-autosave") for f in forms(root) if f.get("data-autosave"))
    token = csrf_token(root)
    r = crawl.client.post(
        autosave,
        json={"item": "cqo-appointed", "value": False},  # as questionnaire.js sends a yes/no answer
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert r.status_code == 200 and r.json()["ok"], r.text[:2000]
    _r, root = crawl.page(section)
    assert checked(root, "cqo-appointed") == ["no"], "the saved answer is not there after a reload"

    # not applicable, with the reason, through the same endpoint as the page's checkbox
    item = "cqo-chief-standards-engineer"
    reason = "本企业不单设标准总师岗位"
    r = crawl.client.post(
        autosave,
        json={"item": item, "na": reason},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert r.status_code == 200 and r.json()["ok"], r.text[:2000]
    operation = section.replace("/sections/appointment", "/sections/operation")
    _r, root = crawl.page(operation)
    assert f"na-{item}" in checked_names(root, item), "the N/A mark is not there after a reload"
    assert reason in _r.text, "the N/A reason is not there after a reload"

    # evidence with a Chinese file name, through the upload form; the crawl downloads it
    from webapp.commands.demo.assessments import pdf_bytes

    _r, root = crawl.page(section)
    r = crawl.client.post(
        section.replace("/sections/appointment", "/evidence"),
        data={"csrf_token": csrf_token(root), "item": "cqo-appointed"},
        files={"file": ("首席质量官任命文件.pdf", pdf_bytes("appointment"), "application/pdf")},
    )
    assert r.status_code in (302, 303), r.text[:2000]
    page, root = crawl.page(section)
    assert "首席质量官任命文件.pdf" in page.text, "the uploaded file is not listed after a reload"

    crawl.run([firm_path, "/home", section, "/account/settings"])
    crawl.fill_rules()
    crawl.finish(REACHED["new"])

    crawl = Crawl(server, "zh", "a new user", accept("en"))
    crawl.sign_in("crawler@example.cn", NEW_PASSWORD)
    crawl.set_language("zh")
    crawl.run([firm_path, "/home", section])
    crawl.fill_rules()
    crawl.finish(REACHED["new"])


def _fresh_sign_in(server: Server, email: str, password: str) -> tuple[Crawl, int]:
    crawl = Crawl(server, "zh", email, accept("zh"))
    r = crawl.client.get("/account/signin")
    r = crawl.client.post(
        "/account/signin",
        data={"csrf_token": csrf_token(parse(r.text)), "email": email, "password": password},
    )
    return crawl, r.status_code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_consultancys_invitation_reaches_the_firms_owner(server: Server, lang: str) -> None:
    """The consultant invites a firm's owner by email through the form; the owner opens the link the
    server mailed (to its log): the acceptance page, in the owner's language, with their firms to
    choose from. Not accepted here (the demo's grants stay as the other crawls expect)."""
    consultant = Crawl(server, lang, "consultant@demo.qready.cn", accept(lang))
    consultant.sign_in("consultant@demo.qready.cn")
    consultant.post_form(
        "/consultant/clients/invite",
        "/consultant/clients/invite",
        {"email": "firm@demo.qready.cn", "firm_name": "杭州精工阀门有限公司"},
    )
    links_mailed = re.findall(r"/invitations/[\w.-]+", server.log_from(consultant.log_offset))
    assert links_mailed, "no invitation link in the server's log"
    consultant.client.close()
    owner = Crawl(server, lang, "firm@demo.qready.cn", accept("zh" if lang == "en" else "en"))
    owner.sign_in("firm@demo.qready.cn")
    owner.set_language(lang)
    owner.data = data_pattern(framework_data() | database_data(server.database_url))
    owner.visit(server.url + links_mailed[-1], None)
    owner.client.close()
    assert "orgs.invitation" in owner.ok, f"the invitation page did not answer 200: {owner.statuses}"
    assert not owner.problems, owner.problems


def test_a_changed_name_and_language_are_kept(server: Server) -> None:
    """Through the real server on the database of the run: what the settings form saves is there on
    the next request and after signing in again."""
    email = "owner.nb@demo.qready.cn"
    user = Crawl(server, "zh", email, accept("zh"))
    user.sign_in(email)
    user.post_form("/account/settings", "/account/settings", {"name": "李娜 Li Na 2", "locale": "en"})
    user.client.cookies.delete("lang")
    for when, crawl in (
        ("on the next request", user),
        ("after signing in again", _fresh_sign_in(server, email, DEMO_PASSWORD)[0]),
    ):
        _r, root = crawl.page("/account/settings")
        data = form_data(find_form(root, "/account/settings", "/account/settings"))
        assert data.get("name") == "李娜 Li Na 2", f"the new name was not kept {when}: {data.get('name')!r}"
        assert data.get("locale") == "en", f"the language setting was not kept {when}: {data.get('locale')!r}"
        assert root.get("lang") == "en", f"the pages do not follow the saved language {when}"
        crawl.client.close()


def test_a_changed_password_is_kept(server: Server) -> None:
    """Through the real server on the database of the run: after a change in the settings, the new
    password signs in and the old one does not."""
    email = "owner.sx@demo.qready.cn"
    user = Crawl(server, "zh", email, accept("zh"))
    user.sign_in(email)
    user.post_form(
        "/account/settings",
        "/account/password",
        {"pw-current": DEMO_PASSWORD, "pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD},
    )
    old, status = _fresh_sign_in(server, email, DEMO_PASSWORD)
    old.client.close()
    assert status == 401, f"the OLD password still signs in ({status}): the new one was not kept"
    new, status = _fresh_sign_in(server, email, NEW_PASSWORD)
    new.client.close()
    assert status == 302, f"the NEW password does not sign in ({status})"
    r = user.get("/account/settings")  # and the session that changed it goes on
    user.client.close()
    assert r.status_code == 200, f"the password change signed its own session out ({r.status_code})"


# ---- the English journey in a browser -------------------------------------------------------------


@pytest.mark.browser
def test_english_journey_in_a_browser(server: Server) -> None:
    """Debian's Chromium with an English locale, against the crawl's gunicorn: register, create a
    firm, answer a section (autosave), reload and find the answer, submit, read the verdict and the
    report; every page in English, with no Chinese but the data."""
    import random

    from playwright.sync_api import sync_playwright

    from webapp.refdata import credit_code

    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is not installed: run `make test-debs`")
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    args += ["--disable-component-update", "--disable-sync", "--disable-quic"]
    offset = server.log_size()
    seen: list[str] = []

    def english(page: Any) -> str:
        """The page's visible text, after checking it is an English page with no Chinese UI text."""
        page.wait_for_load_state()
        root = parse(page.content())
        seen.append(page.url)
        assert root.get("lang") == "en", f"{page.url}: <html lang={root.get('lang')!r}>"
        data = data_pattern(framework_data() | database_data(server.database_url))
        assert chinese_ui_text(root, data) == [], f"{page.url}: Chinese in English"
        return str(page.locator("main").inner_text())

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)

        page.goto(server.url + "/account/register")
        assert "Create an account" in english(page)
        page.fill("#name", "Ann 浏览器")
        page.fill("#email", "journey.en@example.cn")
        page.fill("#password", "correct-horse-battery")
        page.fill("#confirm", "correct-horse-battery")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert "We sent a message to journey.en@example.cn" in english(page)
        # the confirmation link, as the mail (written to the server's log without SMTP) carries it
        tokens = re.findall(r"/account/verify/(\S+)", server.log_from(offset))
        assert tokens, "no confirmation mail in the server's log"
        page.goto(f"{server.url}/account/verify/{tokens[-1]}")
        english(page)

        page.goto(server.url + "/firms/new")
        english(page)
        page.fill("#name", "Hangzhou Journey Valves 杭州旅程阀门有限公司")
        page.fill("#credit_code", credit_code.generate(random.Random(5), "330106"))
        page.select_option("#region_code", "330106")
        page.select_option("#industry_division", "34")
        page.fill("#employees", "120")
        page.locator("main form button.primary[type=submit]").click()
        page.wait_for_url("**/firms/*/")
        assert "Start an assessment" in english(page)

        page.locator("form.qn-start:has(input[value='chief-quality-officer']) button[type=submit]").click()
        page.wait_for_url("**/sections/appointment")
        english(page)
        page.locator("#item-cqo-appointed label.qn-choice:has(input[value=no])").click()
        page.wait_for_function(
            "() => document.querySelector('#item-cqo-appointed [data-status] .ok') !== null", timeout=10_000
        )
        assert "Saved" in page.locator("#item-cqo-appointed [data-status]").inner_text()
        page.reload()
        english(page)
        assert page.locator("#item-cqo-appointed input[value=no]").is_checked()
        page.goto(page.url.replace("/sections/appointment", "/sections/operation"))
        english(page)
        page.locator("#item-cqo-chief-standards-engineer label.qn-choice:has(input[value=no])").click()
        page.wait_for_function(
            "() => document.querySelector('#item-cqo-chief-standards-engineer [data-status] .ok') !== null",
            timeout=10_000,
        )

        page.locator("a", has_text="Overview and submit").first.click()
        english(page)
        page.locator("button", has_text="Submit the assessment").click()
        page.wait_for_load_state()
        assert page.url.endswith("/verdict"), page.locator("main").inner_text()
        text = english(page)
        assert "Readiness per target" in text and "Not ready" in text and "Path to ready" in text
        page.goto(page.url.replace("/verdict", "/report"))
        text = english(page)
        assert "Hangzhou Journey Valves" in text
        browser.close()

    log = server.log_from(offset)
    assert not [line for line in log.splitlines() if BAD_LOG.search(line)], log
    assert len(seen) >= 7
