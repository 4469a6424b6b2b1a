"""Bulk reports for a consultant's clients: the database as the queue without Redis, RQ with it.

The RQ tests use the local Redis (database 15) and rq's SimpleWorker in this process, in burst mode.
They fail, loudly, when Redis is not running: start it with `redis-server` (or `service redis-server
start`)."""

from __future__ import annotations

import datetime as dt
import io
import re
import signal
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from webapp import db, dbqueue, tenancy
from webapp.db import utcnow
from webapp.models import Consultancy, ConsultancyGrant, Job, Membership
from webapp.reports import jobs, sample

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def _own_cache(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_CACHE_DIR", str(tmp_path / "report-cache"))


@pytest.fixture
def clients(app, dbconn, create_user, create_firm) -> dict[str, Any]:
    consultant = create_user(email="c1@bulk.cn", name="陈明")
    colleague = create_user(email="c2@bulk.cn", name="李华")
    a = create_firm("杭州甲机械有限公司", owner=create_user(email="a@bulk.cn"))
    b = create_firm("绍兴乙纺织有限公司", owner=create_user(email="b@bulk.cn"), region="330603")
    stranger = create_firm("温州丙电器有限公司", owner=create_user(email="s@bulk.cn"), region="330302")
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="浙江卓越质量管理咨询有限公司", code="BULK01")
        db.session.add(c)
        db.session.flush()
        for user in (consultant, colleague):
            db.session.add(Membership(user_id=user.id, consultancy_id=c.id, role="consultant"))
        for firm in (a, b):
            db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        old = sample.create_assessment(a.id, "chief-quality-officer", mode="default", seed=1)
        new = sample.create_assessment(
            a.id, "chief-quality-officer", mode="default", round=2, previous_id=old.id
        )
        other = sample.create_assessment(
            b.id, "chief-quality-officer", mode="default", seed=4, status="draft"
        )
        hidden = sample.create_assessment(stranger.id, "chief-quality-officer", mode="default")
        db.session.commit()
        return {
            "consultant": consultant,
            "colleague": colleague,
            "old": old.id,
            "new": new.id,
            "other": other.id,
            "hidden": hidden.id,
        }


def _zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return sorted(zf.namelist())


def test_the_page_lists_each_clients_latest_assessments(client, login, clients):
    login(client, clients["consultant"])
    page = client.get("/consultant/reports").get_data(as_text=True)
    assert "杭州甲机械有限公司" in page and "绍兴乙纺织有限公司" in page
    assert "温州丙电器有限公司" not in page
    offered = {int(x) for x in re.findall(r'name="assessment" value="(\d+)"', page)}
    assert offered == {clients["new"], clients["other"]}  # the latest round only


def _work(app) -> bool:
    """What a worker thread (or `flask jobs work`) does: claim the oldest waiting job and run it."""
    with app.app_context():
        return dbqueue.work_one()


def test_bulk_without_redis_answers_at_once_and_a_worker_builds_the_zip(app, client, login, clients):
    login(client, clients["consultant"])
    r = client.post(
        "/consultant/reports",
        data={
            "assessment": [clients["new"], clients["other"], clients["hidden"]],
            "lang": "en",
            "format": "pdf",
        },
    )
    assert r.status_code == 302  # the request queues the job and answers: no zip built in it
    job_id = r.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/consultant/reports/jobs/{job_id}").get_data(as_text=True)
    assert "Building the reports" in page or "正在生成报告" in page
    state = client.get(f"/consultant/reports/jobs/{job_id}/status").get_json()
    assert state["status"] == "queued" and (state["done"], state["total"]) == (0, 2) and not state["ready"]
    assert client.get(f"/consultant/reports/jobs/{job_id}/download").status_code == 404

    assert _work(app)
    assert not _work(app)  # nothing else waits

    state = client.get(f"/consultant/reports/jobs/{job_id}/status").get_json()
    assert state["status"] == "finished" and state["ready"] and state["errors"] == []
    assert (state["done"], state["total"]) == (2, 2)
    with client.get(state["download"]) as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        names = _zip_names(download.data)
    assert len(names) == 2, names  # the stranger's assessment is not theirs to report on
    assert any(n.startswith("杭州甲机械有限公司/") and n.endswith("-en.pdf") for n in names)

    other = app.test_client()  # a colleague cannot follow the consultant's job
    login(other, clients["colleague"])
    assert other.get(f"/consultant/reports/jobs/{job_id}/status").status_code == 404
    assert other.get(f"/consultant/reports/jobs/{job_id}/download").status_code == 404


def _queue(app, clients, kind: str = "html") -> str:
    with app.app_context():
        consultancy = db.session.scalar(select(Consultancy.id).where(Consultancy.code == "BULK01"))
        req = jobs.BulkRequest(
            user_id=clients["consultant"].id,
            consultancy_id=consultancy,
            assessment_ids=(clients["new"],),
            lang="zh",
            kind=kind,
        )
        job_id = jobs.submit(req)
        db.session.commit()
        return job_id


def _job(app, job_id: str) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def test_a_job_whose_worker_died_is_taken_over_when_its_lease_runs_out(app, dbconn, clients, monkeypatch):
    job_id = _queue(app, clients)
    with app.app_context():
        crashed = dbqueue.claim()  # a worker claims the job ... and dies before its first report
    assert crashed is not None and crashed.id == job_id
    assert _job(app, job_id).status == "running"
    assert not _work(app)  # its lease still runs: nobody else takes the job

    with app.app_context():  # the lease runs out
        db.session.execute(
            update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(seconds=1))
        )
        db.session.commit()
    assert _work(app)  # another worker takes it over and finishes it
    job = _job(app, job_id)
    assert (job.status, job.attempts, job.done, job.total) == ("finished", 2, 1, 1)
    with app.app_context():
        assert jobs.zip_of(job_id) is not None
        with pytest.raises(dbqueue.LostClaim):  # the dead worker, back, cannot write over the new run
            dbqueue._write(crashed, status="failed")
    assert _job(app, job_id).status == "finished"


def test_a_job_interrupted_again_and_again_fails_and_says_so(app, client, login, dbconn, clients):
    job_id = _queue(app, clients)
    for _ in range(dbqueue.MAX_ATTEMPTS):
        with app.app_context():
            assert dbqueue.claim() is not None  # ... and the worker dies each time
            db.session.execute(
                update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(seconds=1))
            )
            db.session.commit()
    assert not _work(app)  # no fourth run: the job is failed
    login(client, clients["consultant"])
    state = client.get(f"/consultant/reports/jobs/{job_id}/status").get_json()
    assert state["status"] == "failed" and not state["ready"]
    assert any("interrupted 3 times" in e for e in state["errors"])
    page = client.get(f"/consultant/reports/jobs/{job_id}").get_data(as_text=True)
    assert "The job failed" in page or "任务失败" in page


def test_bulk_refuses_an_empty_choice(client, login, clients):
    login(client, clients["consultant"])
    r = client.post("/consultant/reports", data={"assessment": [clients["hidden"]]})
    assert r.status_code == 422


def test_a_job_outside_the_consultancy_is_not_found(client, login, clients):
    login(client, clients["consultant"])
    assert client.get("/consultant/reports/jobs/not-a-job/status").status_code == 404


def test_build_zip_keeps_to_the_users_tenant_context(app, clients):
    with app.app_context():
        consultancy = db.session.scalar(select(Consultancy.id).where(Consultancy.code == "BULK01"))
        req = jobs.BulkRequest(
            user_id=clients["consultant"].id,
            consultancy_id=consultancy,
            assessment_ids=(clients["hidden"], clients["other"]),
            lang="zh",
            kind="html",
        )
        progress: list[tuple[int, int]] = []
        data, errors = jobs.build_zip(req, lambda done, total, _e: progress.append((done, total)))
    assert progress == [(1, 2), (2, 2)]
    assert len(errors) == 1 and str(clients["hidden"]) in errors[0]
    names = _zip_names(data)
    assert "errors.txt" in names and any(n.endswith("-zh.html") for n in names)


# ---- on an RQ worker ------------------------------------------------------------------------------


@pytest.fixture
def redis_queue(app, monkeypatch) -> Iterator[Any]:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue

    conn = Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except RedisConnectionError as exc:
        pytest.fail(f"Redis is not running at {REDIS_URL} ({exc}); the RQ tests need it: start redis-server")
    before = set(conn.scan_iter("rq:*"))
    queue = Queue(jobs.QUEUE, connection=conn)
    queue.empty()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    yield queue
    queue.empty()
    left = [key for key in conn.scan_iter("rq:*") if key not in before]  # this test's jobs, results, worker
    if left:
        conn.delete(*left)
    conn.close()


def test_bulk_on_an_rq_worker_with_progress(app, client, login, clients, redis_queue):
    from rq import SimpleWorker

    login(client, clients["consultant"])
    r = client.post(
        "/consultant/reports", data={"assessment": [clients["new"], clients["other"]], "lang": "zh"}
    )
    assert r.status_code == 302
    job_id = r.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/consultant/reports/jobs/{job_id}").get_data(as_text=True)
    assert "0 / 2" in page or "0 of 2" in page or "已完成 0 / 2" in page
    state = client.get(f"/consultant/reports/jobs/{job_id}/status").get_json()
    assert state["status"] == "queued" and (state["done"], state["total"]) == (0, 2) and not state["ready"]

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():  # the job runs in this process, on the test's database connection
            worked = SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    assert worked

    state = client.get(f"/consultant/reports/jobs/{job_id}/status").get_json()
    assert state["status"] == "finished", state
    assert (state["done"], state["total"]) == (2, 2) and state["ready"] and state["errors"] == []
    with client.get(state["download"]) as download:  # a file response: close it
        assert download.status_code == 200 and download.mimetype == "application/zip"
        assert len(_zip_names(download.data)) == 2
        assert (
            download.headers["Content-Disposition"]
            == f'attachment; filename="qready-reports-{job_id[:8]}.zip"'
        )

    # the job is the consultant's own: a colleague in the same consultancy cannot follow it
    other = app.test_client()
    login(other, clients["colleague"])
    assert other.get(f"/consultant/reports/jobs/{job_id}/status").status_code == 404
    assert other.get(f"/consultant/reports/jobs/{job_id}/download").status_code == 404


def test_flask_jobs_work_runs_the_waiting_jobs(app, dbconn, clients):
    job_id = _queue(app, clients)
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    job = _job(app, job_id)
    assert (job.status, job.done, job.total, job.attempts) == ("finished", 1, 1, 1)
    with app.app_context():
        assert jobs.zip_of(job_id) is not None


@pytest.mark.db
def test_workers_at_the_same_time_never_claim_one_job_twice(app):
    """Real transactions on the test database (not the rolled-back one of `dbconn`): four workers claim
    side by side (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE), each job once."""
    import threading

    from webapp.models import User

    with app.app_context():
        user = User(email="claims@jobs.cn", name="claims", password_hash="x")
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        ids = {
            dbqueue.enqueue("nothing", {}, user_id=user_id, consultancy_id=None, total=0) for _ in range(12)
        }
        db.session.commit()
    claimed: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            while True:
                with app.app_context():
                    c = dbqueue.claim()
                if c is None:
                    return
                claimed.append(c.id)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert failures == []
        assert sorted(claimed) == sorted(ids)  # every job claimed, none twice
        with app.app_context():
            states = db.session.execute(select(Job.status, Job.attempts).where(Job.id.in_(ids))).all()
        assert set(states) == {("running", 1)}
    finally:
        with app.app_context():
            db.session.execute(Job.__table__.delete().where(Job.user_id == user_id))
            db.session.execute(User.__table__.delete().where(User.id == user_id))
            db.session.commit()
