"""Bulk reports without Redis on a real gunicorn: the request answers at once, the job outlives
gunicorn's `--timeout`, and a worker killed mid-job leaves it to the next worker (the lease runs out).

gunicorn (one sync worker, `--timeout 2`) serves a migrated SQLite file with the demo data and more
client assessments; the consultant asks for their reports over HTTP as a browser would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from webapp import create_app, db, tenancy
from webapp.models import Assessment, Consultancy, ConsultancyGrant, Job
from webapp.reports import sample

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIMEOUT = 2  # gunicorn's worker timeout, in seconds: every PDF job below takes longer
LEASE = 6  # JOBS_LEASE_SECONDS
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
EXTRA = 6  # client assessments added to the demo's


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("jobs-gunicorn")
    url = "sqlite:///" + str(tmp / "jobs.sqlite3")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("QREADY_", "REPORT_", "JOBS_"))},
        "DATABASE_URL": url,
        "SECRET_KEY": "jobs-gunicorn-secret",
        "QREADY_INSTANCE_PATH": str(tmp / "instance"),
        "JOBS_LEASE_SECONDS": str(LEASE),
        "JOBS_POLL_SECONDS": "0.5",
    }
    env.pop("REDIS_URL", None)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for cmd in (["db", "upgrade"], ["demo"]):
        subprocess.run([*flask, *cmd], cwd=REPO, env=env, check=True, capture_output=True, timeout=300)

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context(), tenancy.bypass():
        consultancy = db.session.scalar(select(Consultancy).where(Consultancy.code == "ZJQC2026"))
        assert consultancy is not None
        clients = list(
            db.session.scalars(
                select(ConsultancyGrant.firm_id).where(ConsultancyGrant.consultancy_id == consultancy.id)
            )
        )
        for i in range(EXTRA):
            sample.create_assessment(
                clients[i % len(clients)], "chief-quality-officer", mode="default", round=20 + i, seed=40 + i
            )
        db.session.commit()
        ids = list(db.session.scalars(select(Assessment.id).where(Assessment.firm_id.in_(clients))))
    db.dispose(app)

    port = _free_port()
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *("--workers", "1", "--timeout", str(TIMEOUT), "--graceful-timeout", "1"),
            *("--bind", f"127.0.0.1:{port}", "wsgi:app"),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield {"base": base, "url": url, "ids": ids, "master": proc.pid, "log": tmp / "gunicorn.log"}
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _signed_in(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    token = TOKEN.search(c.get("/account/signin").text)
    assert token
    r = c.post(
        "/account/signin",
        data={"email": "consultant@demo.qready.cn", "password": "demo-pass-2026", "csrf_token": token[1]},
    )
    assert r.status_code == 302, r.text
    return c


def _submit(c: httpx.Client, ids: list[int], lang: str) -> str:
    token = TOKEN.search(c.get("/consultant/reports").text)
    assert token
    r = c.post(
        "/consultant/reports",
        data={"assessment": [str(i) for i in ids], "lang": lang, "format": "pdf", "csrf_token": token[1]},
    )
    assert r.status_code == 302, r.text  # queued: the request does not build the zip
    assert "/consultant/reports/jobs/" in r.headers["Location"]
    return r.headers["Location"].rsplit("/", 1)[1]


def _until(c: httpx.Client, job_id: str, done: Any, limit: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        state: dict[str, Any] = c.get(f"/consultant/reports/jobs/{job_id}/status").json()
        if done(state):
            return state
        assert state["status"] != "failed", state
        assert time.monotonic() < deadline, state
        time.sleep(0.5)


def _job(url: str, job_id: str) -> Job:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True})
    try:
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job is not None
            db.session.expunge(job)
            return job
    finally:
        db.dispose(app)


def _zip(c: httpx.Client, state: dict[str, Any]) -> list[str]:
    import io
    import zipfile

    r = c.get(state["download"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        return [n for n in zf.namelist() if n.endswith(".pdf")]


def test_a_job_longer_than_gunicorns_timeout_completes(server: dict[str, Any]) -> None:
    c = _signed_in(server["base"])
    ids = server["ids"]
    job_id = _submit(c, ids, "zh")
    page = c.get(f"/consultant/reports/jobs/{job_id}")
    assert page.status_code == 200 and "正在生成报告" in page.text
    state = _until(c, job_id, lambda s: s["ready"])
    assert (state["status"], state["done"], state["total"]) == ("finished", len(ids), len(ids))
    assert len(_zip(c, state)) == len(ids)
    job = _job(server["url"], job_id)
    assert job.attempts == 1  # one run, never interrupted by gunicorn
    assert job.started_at is not None and job.finished_at is not None
    # the premise: built inside a request, this job would have been killed by gunicorn's timeout
    assert (job.finished_at - job.started_at).total_seconds() > TIMEOUT
    assert b"WORKER TIMEOUT" not in server["log"].read_bytes()


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_a_job_whose_worker_is_killed_is_taken_over_and_completes(server: dict[str, Any]) -> None:
    c = _signed_in(server["base"])
    ids = list(reversed(server["ids"]))  # another language: none of these reports is cached yet
    job_id = _submit(c, ids, "en")
    _until(c, job_id, lambda s: s["done"] >= 1)
    killed = _worker_pid(server["master"])
    os.kill(killed, signal.SIGKILL)  # the worker (and its job thread) dies mid-job
    deadline = time.monotonic() + 30
    while _worker_pid_or_none(server["master"]) in (None, killed):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    state = _until(c, job_id, lambda s: s["ready"])
    assert (state["status"], state["done"], state["total"]) == ("finished", len(ids), len(ids))
    assert len(_zip(c, state)) == len(ids)
    assert _job(server["url"], job_id).attempts == 2  # the new worker took it over once the lease ran out


def _worker_pid_or_none(master: int) -> int | None:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if len(children) == 1 else None
