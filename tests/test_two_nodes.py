"""More than one app node: two app processes (gunicorn, one worker each, each with an instance folder of
its own: nothing shared on disk) against one database, one Redis and one S3-compatible bucket (moto's
server on loopback). What one node makes, the other honours: a session, an uploaded file, a cached
report, a password change that ends the other sessions, a sign-in limit reached on one node."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, make_url, text

from webapp.commands.demo.assessments import pdf_bytes

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY_ID, SECRET = "qready-node-key", "qready-node-secret"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _engine(url: Any, **kw: Any) -> Any:
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, **kw)


def _database(tmp: Path) -> Iterator[str]:
    url = os.environ.get("QREADY_TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp / "shared.sqlite3")
        return
    name = make_url(url).database + "_nodes"
    admin = _engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("nodes")
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"qready-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    gen = _database(tmp)
    database_url = next(gen)
    base = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("S3_", "QREADY_", "REPORT_")) or k == "DATABASE_URL")
    }
    env = {
        **base,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "two-nodes-one-secret",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "RATELIMIT_KEY_PREFIX": f"nodes-{uuid.uuid4().hex[:12]}",  # this run's counts only
        "EVIDENCE_STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_ACCESS_KEY_ID": KEY_ID,
        "S3_SECRET_ACCESS_KEY": SECRET,
    }
    first = {**env, "QREADY_INSTANCE_PATH": str(tmp / "node-a")}
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"], cwd=REPO, env=first, check=True, capture_output=True, timeout=300
    )
    subprocess.run([*flask, "demo"], cwd=REPO, env=first, check=True, capture_output=True, timeout=300)
    procs, urls = [], []
    for name in ("node-a", "node-b"):
        port = _free_port()
        log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        procs.append(
            (
                subprocess.Popen(
                    [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                    cwd=REPO,
                    env={**env, "QREADY_INSTANCE_PATH": str(tmp / name)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, (tmp / "node-a.log").read_text()
                time.sleep(0.2)
        yield {
            "a": urls[0],
            "b": urls[1],
            "s3": client,
            "bucket": bucket,
            "tmp": tmp,
            "database": database_url,
        }
    finally:
        for proc, log in procs:
            proc.terminate()
            proc.wait(20)
            log.close()
        s3.stop()
        next(gen, None)


def _client(base: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, cookies=cookies, follow_redirects=False)


DEMO_PASSWORD = "demo-pass-2026"


def _sign_in(c: httpx.Client, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    token = TOKEN.search(c.get("/account/signin").text)
    assert token
    return c.post("/account/signin", data={"email": email, "password": password, "csrf_token": token[1]})


def _ids(database_url: str) -> tuple[int, int, int]:
    """The demo firm's id, its draft assessment and a submitted one."""
    engine = _engine(database_url)
    with engine.connect() as conn:
        firm = conn.execute(text("SELECT id FROM firms WHERE name = '杭州精工阀门有限公司'")).scalar_one()
        draft = conn.execute(
            text("SELECT id FROM assessments WHERE firm_id = :f AND status = 'draft' ORDER BY id LIMIT 1"),
            {"f": firm},
        ).scalar_one()
        done = conn.execute(
            text(
                "SELECT id FROM assessments WHERE firm_id = :f AND status = 'submitted' ORDER BY id LIMIT 1"
            ),
            {"f": firm},
        ).scalar_one()
    engine.dispose()
    return firm, draft, done


def _objects(nodes: dict[str, Any], prefix: str) -> list[str]:
    listed = nodes["s3"].list_objects_v2(Bucket=nodes["bucket"], Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_what_one_node_makes_the_other_honours(nodes: dict[str, Any]) -> None:
    firm, draft, done = _ids(nodes["database"])
    a = _client(nodes["a"])
    assert _sign_in(a, "firm@demo.qready.cn").status_code == 302

    # a session made on A is a session on B
    b = _client(nodes["b"], a.cookies)
    home = b.get(f"/firms/{firm}/")
    assert home.status_code == 200 and "杭州精工阀门有限公司" in home.text

    # a file uploaded on A downloads from B
    section = a.get(f"/firms/{firm}/assessments/{draft}/").text
    page_url = re.search(rf'href="(/firms/{firm}/assessments/{draft}/sections/[^"#]+)"', section)
    assert page_url
    page = a.get(page_url[1]).text
    item = re.search(r'<input type="hidden" name="item" value="([^"]+)">', page)
    token = TOKEN.search(page)
    assert item and token
    content = pdf_bytes("two nodes, one bucket")
    stored = len(_objects(nodes, "evidence/"))  # the demo's files are in the bucket too
    r = a.post(
        f"/firms/{firm}/assessments/{draft}/evidence",
        data={"item": item[1], "csrf_token": token[1]},
        files={"file": ("两个节点.pdf", content, "application/pdf")},
    )
    assert r.status_code == 303, r.text[:500]
    after = b.get(page_url[1]).text
    link = re.search(rf'href="(/firms/{firm}/assessments/{draft}/evidence/\d+)"[^>]*>两个节点.pdf', after)
    assert link, "the upload made on node A is not listed on node B"
    assert b.get(link[1]).content == content
    assert len(_objects(nodes, "evidence/")) == stored + 1

    # a report rendered on A is served from the bucket by B (the same bytes, though a new render would
    # carry a new creation time), and neither node kept it on its own disk
    report = f"/firms/{firm}/assessments/{done}/report.pdf?lang=zh"
    first = a.get(report)
    assert first.status_code == 200 and first.content.startswith(b"%PDF-")
    kept = _objects(nodes, "report-cache/")
    assert len(kept) == 1 and kept[0].endswith("-pdf")
    time.sleep(1.1)
    assert b.get(report).content == first.content
    assert _objects(nodes, "report-cache/") == kept
    for node in ("node-a", "node-b"):
        assert not (nodes["tmp"] / node / "report-cache").exists()

    # a password changed on A ends the session that B had
    other = _client(nodes["b"])
    assert _sign_in(other, "firm@demo.qready.cn").status_code == 302
    assert other.get(f"/firms/{firm}/").status_code == 200
    settings = a.get("/account/settings").text
    token = TOKEN.search(settings)
    assert token
    new = "another-pass-2026-x"
    r = a.post(
        "/account/password",
        data={"pw-current": "demo-pass-2026", "pw-password": new, "pw-confirm": new, "csrf_token": token[1]},
    )
    assert r.status_code == 302
    ended = other.get(f"/firms/{firm}/")
    assert ended.status_code == 302 and "/account/signin" in ended.headers["Location"]
    assert _client(nodes["b"]).get(f"/firms/{firm}/").status_code == 302
    assert _sign_in(_client(nodes["b"]), "firm@demo.qready.cn", new).status_code == 302


LOCKED_ZH = "登录失败次数过多"


def test_a_sign_in_limit_reached_on_one_node_holds_on_the_other(nodes: dict[str, Any]) -> None:
    """Both nodes count in the one Redis: five wrong passwords on A, and B refuses the sixth attempt,
    the right password included, saying when to try again; so does A."""
    a = _client(nodes["a"])
    for _ in range(5):
        r = _sign_in(a, "regulator@demo.qready.cn", "not-the-password-1")
        assert r.status_code == 401
    b = _client(nodes["b"])
    r = _sign_in(b, "regulator@demo.qready.cn")
    assert r.status_code == 429 and LOCKED_ZH in r.text
    assert int(r.headers["Retry-After"]) > 0
    assert "/account/signin" in b.get("/account/settings").headers["Location"]  # not signed in
    assert _sign_in(_client(nodes["a"]), "regulator@demo.qready.cn").status_code == 429
    # another account is not held back by it, on either node
    assert _sign_in(_client(nodes["b"]), "consultant@demo.qready.cn").status_code == 302
