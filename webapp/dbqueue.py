"""The database as the queue of background jobs when Redis is not configured.

A request adds a `Job` row (`enqueue`) and answers at once; a worker claims the row, runs it outside
any request and writes its progress to the row, which the progress page reads. The workers are

- a thread in an app process (`JOBS_WORKER=thread`, the default): started when the process queues a
  job or shows the progress of an unfinished one (`ensure_worker`), woken when the process queues a
  job, otherwise looking every `JOBS_POLL_SECONDS`;
- `flask jobs work`: a process of its own (for `JOBS_WORKER=off`, or beside the threads).

Claiming is safe with any number of workers: on PostgreSQL the claim selects the oldest ready row
`FOR UPDATE SKIP LOCKED` (two workers never wait on, nor take, the same row); SQLite has no row locks,
so the claim's transaction begins with `BEGIN IMMEDIATE` (the database's write lock, `webapp.db`) and
claims run one after the other. Either way the claim is a compare-and-set on the row's state.

A claim is a lease: `lease_until` lies `JOBS_LEASE_SECONDS` ahead and each progress report renews it.
A worker killed mid-job (gunicorn's timeout, a deploy, a crash) stops renewing; once the lease runs
out another worker takes the job over from the start, up to `MAX_ATTEMPTS` runs, after which the job
is failed and says so. Every write of a running job names the claim, so a worker that lost its
lease cannot overwrite the job's new run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, or_, select, update

from webapp import db
from webapp.db import utcnow
from webapp.models import Job

log = logging.getLogger("qready.jobs")

MAX_ATTEMPTS = 3
INTERRUPTED = "The job was interrupted {n} times; it was stopped."

Progress = Callable[[int, int, list[str]], None]
# A job's work: (job id, payload, progress) -> the result kept on the row
Handler = Callable[[str, dict[str, Any], Progress], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


class LostClaim(Exception):
    """The job was taken over by another worker (this worker's lease ran out)."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(
    kind: str, payload: dict[str, Any], *, user_id: int, consultancy_id: int | None, total: int
) -> str:
    """Queue a job in the current transaction (the request commits it); return its id."""
    job = Job(
        id=uuid.uuid4().hex,
        kind=kind,
        payload=payload,
        status="queued",
        user_id=user_id,
        consultancy_id=consultancy_id,
        done=0,
        total=total,
        errors=[],
        attempts=0,
    )
    db.session.add(job)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.after_commit(lambda: ensure_worker(app))
    return job.id


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config.get("JOBS_LEASE_SECONDS") or 120))


def _ready(now: dt.datetime) -> Any:
    return or_(Job.status == "queued", and_(Job.status == "running", Job.lease_until < now))


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    payload: dict[str, Any]
    claim: str


def claim() -> Claimed | None:
    """Take the oldest job that is queued or whose worker's lease ran out; None when there is none."""
    now = utcnow()
    with db.reading():  # most looks find nothing: they do not take SQLite's write lock
        waiting = db.session.scalar(select(Job.id).where(_ready(now)).limit(1))
        db.session.rollback()
    if waiting is None:
        return None
    with db.writing():
        while True:
            job = db.session.scalars(
                select(Job)
                .where(_ready(now))
                .order_by(Job.created_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                db.session.commit()
                return None
            if job.attempts >= MAX_ATTEMPTS:  # its workers died every time: stop retrying
                job.status, job.claim, job.lease_until, job.finished_at = "failed", None, None, now
                job.errors = [*job.errors, INTERRUPTED.format(n=job.attempts)]
                db.session.commit()
                log.warning("job %s failed: interrupted %d times", job.id, job.attempts)
                continue
            token = uuid.uuid4().hex
            taken = db.session.execute(
                update(Job)
                .where(Job.id == job.id, _ready(now))  # still ready: nobody claimed it meanwhile
                .values(
                    status="running",
                    claim=token,
                    lease_until=now + _lease(),
                    attempts=Job.attempts + 1,
                    started_at=job.started_at or now,
                    done=0,
                    errors=[],
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.commit()
            if taken == 1:
                if job.attempts:
                    log.info("job %s taken over (run %d)", job.id, job.attempts + 1)
                return Claimed(job.id, job.kind, dict(job.payload), token)


def _write(c: Claimed, **values: Any) -> None:
    """Write to the job this worker holds (and renew its lease); LostClaim if another worker took it."""
    db.session.commit()  # the job's reads so far end here: the write is a transaction of its own
    with db.writing():
        n = db.session.execute(
            update(Job)
            .where(Job.id == c.id, Job.claim == c.claim)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    if n != 1:
        raise LostClaim(c.id)


def run(c: Claimed) -> None:
    """Run a claimed job to its end, writing its progress, its result or its failure to the row."""

    def progress(done: int, total: int, errors: list[str]) -> None:
        _write(c, done=done, total=total, errors=list(errors), lease_until=utcnow() + _lease())

    work = HANDLERS.get(c.kind)
    try:
        if work is None:
            raise LookupError(f"no handler for jobs of kind {c.kind!r}")
        with db.reading():
            result = work(c.id, c.payload, progress)
    except LostClaim:
        db.session.rollback()
        log.warning("job %s: another worker took it over; this run stops", c.id)
        return
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", c.id)
        with contextlib.suppress(LostClaim):  # another worker has it: that run decides
            _write(
                c,
                status="failed",
                claim=None,
                lease_until=None,
                finished_at=utcnow(),
                result={"error": str(exc)},
            )
        return
    try:
        _write(c, status="finished", claim=None, lease_until=None, finished_at=utcnow(), result=result)
    except LostClaim:
        log.warning("job %s finished after another worker took it over", c.id)


def work_one() -> bool:
    """Claim and run one job; False when none was waiting."""
    c = claim()
    if c is None:
        return False
    run(c)
    return True


# ---- the workers ----------------------------------------------------------------------------------

_start_lock = threading.Lock()


def _state(app: Flask) -> dict[str, Any]:
    return app.extensions.setdefault("qready.jobs", {})  # type: ignore[no-any-return]


def ensure_worker(app: Flask | None = None) -> None:
    """Make sure this process runs a worker thread for the app, and wake it (`JOBS_WORKER=thread`,
    without Redis; never under TESTING, where tests run `work_one` themselves). Called when a job is
    queued and when the progress page asks about a job not finished yet: so a process started after
    another was killed (gunicorn replaces its workers) takes the orphaned job over once its lease
    runs out."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if app.testing or app.config.get("JOBS_WORKER", "thread") != "thread" or app.config.get("REDIS_URL"):
        return
    state = _state(app)
    pid = os.getpid()
    with _start_lock:
        thread = state.get("thread")
        if state.get("pid") == pid and thread is not None and thread.is_alive():
            state["wake"].set()
            return
        wake, stop = threading.Event(), threading.Event()
        thread = threading.Thread(target=_loop, args=(app, wake, stop), name="qready-jobs", daemon=True)
        state.update(pid=pid, thread=thread, wake=wake, stop=stop)
        thread.start()
    log.info("job worker thread started in process %d", pid)


def stop(app: Flask, timeout: float = 30) -> None:
    """Stop the app's worker thread in this process (after the job it runs, if any)."""
    state = _state(app)
    if state.get("pid") != os.getpid() or state.get("thread") is None:
        return
    state["stop"].set()
    state["wake"].set()
    state["thread"].join(timeout)


def _loop(app: Flask, wake: threading.Event, stopping: threading.Event, once: bool = False) -> None:
    poll = float(app.config.get("JOBS_POLL_SECONDS") or 2.0)
    while not stopping.is_set():
        ran = False
        try:
            with app.app_context():
                ran = work_one()
        except Exception:  # the database away for a moment: look again later
            log.exception("the job worker could not look for jobs")
        if once and not ran:
            return
        if not ran:
            wake.wait(poll)
            wake.clear()


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)


@click.group("jobs", help="Background jobs kept in the database (without REDIS_URL).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="Run the waiting jobs, then stop.")
@with_appcontext
def work_command(burst: bool) -> None:
    """Claim and run jobs until stopped (Ctrl-C)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo("Working on the database's job queue" + (" (burst)" if burst else "") + ".")
    _loop(app, threading.Event(), threading.Event(), once=burst)
