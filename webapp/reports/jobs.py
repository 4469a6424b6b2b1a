"""Bulk reports: a consultant's client firms' reports, built into one zip.

The request never builds the zip: it queues a job and answers with the progress page, which polls
the job's status and offers the zip when it is ready.

- With `REDIS_URL` set, the work runs on an RQ worker (queue "reports": `rq worker reports --url
  $REDIS_URL`); its progress lives in the job's meta (`done`, `total`, `errors`).
- Without Redis, the database is the queue (`webapp.dbqueue`): a `jobs` row, claimed by a worker
  thread of an app process or by `flask jobs work`; its progress lives in the row.

Either way the reports come through the report cache, so a second bulk run of unchanged assessments
is quick.

The job runs with the tenant context of the user who asked (their firms plus the firms that granted
their consultancies access), so it cannot reach further than the user could in the app. The zip is
written next to the report cache (`<cache>/bulk/<job id>.zip`): the worker and the web app share
the instance folder (QREADY_INSTANCE_PATH).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from webapp import access, db, dbqueue, tenancy
from webapp.models import Job, Membership, User
from webapp.reports import services
from webapp.reports.render import RenderError

QUEUE = "reports"
MAX_REPORTS = 200
RESULT_TTL = 24 * 3600  # seconds a finished job (and its meta) stays in Redis
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Progress = Callable[[int, int, list[str]], None]


@dataclass(frozen=True)
class BulkRequest:
    user_id: int
    consultancy_id: int
    assessment_ids: tuple[int, ...]
    lang: str
    kind: str = "pdf"  # pdf | html


def context_for(user_id: int) -> tenancy.TenantContext:
    """The tenant context of a user, as `access.load_context` builds it for a request."""
    roles: dict[int, str] = {}
    consultancies = []
    for m in db.session.scalars(select(Membership).where(Membership.user_id == user_id)):
        if m.firm_id is not None:
            roles[m.firm_id] = m.role
        elif m.consultancy_id is not None:
            consultancies.append(m.consultancy_id)
    if consultancies:
        access.granted_roles(roles, consultancies)
    return tenancy.TenantContext(roles=roles)


@contextmanager
def _as_user(user_id: int) -> Iterator[None]:
    before = tenancy.context()
    tenancy.set_context(context_for(user_id))
    try:
        yield
    finally:
        tenancy.set_context(before)


def build_zip(req: BulkRequest, progress: Progress | None = None) -> tuple[bytes, list[str]]:
    """Every report of the request in one zip (`<firm>/<report file>`), and the reports that failed."""
    errors: list[str] = []
    total = len(req.assessment_ids)
    buf = io.BytesIO()
    from webapp.billing.entitlements import Org, allowed

    plan = allowed(Org("consultancy", req.consultancy_id), "bulk_reports")
    if not plan:  # the plan changed since the job was asked for: nothing is built
        with zipfile.ZipFile(buf, "w"):
            pass  # an empty zip, and the reason
        return buf.getvalue(), [plan.message]
    with _as_user(req.user_id), zipfile.ZipFile(buf, "w") as zf:
        member = db.session.scalar(
            select(Membership).where(
                Membership.user_id == req.user_id, Membership.consultancy_id == req.consultancy_id
            )
        )
        user = db.session.get(User, req.user_id)
        preparer = services.preparer_for(user, "consultancy" if member else None, req.consultancy_id)
        names: set[str] = set()
        for done, assessment_id in enumerate(req.assessment_ids, start=1):
            inputs = services.load_inputs(assessment_id, preparer=preparer)
            if inputs is None:
                errors.append(f"assessment {assessment_id}: not found or no longer shared with you")
            else:
                try:
                    report = services.get_report(inputs, req.lang, req.kind)
                except RenderError as exc:
                    errors.append(f"assessment {assessment_id}: {exc}")
                else:
                    name = f"{_folder(inputs.firm.name)}/{report.filename}"
                    if name in names:
                        name = name.replace(f".{req.kind}", f"-{assessment_id}.{req.kind}")
                    names.add(name)
                    # PDFs are compressed already: stored, they zip at once
                    method = zipfile.ZIP_STORED if req.kind == "pdf" else zipfile.ZIP_DEFLATED
                    zf.writestr(name, report.content, compress_type=method)
            if progress is not None:
                progress(done, total, errors)
        if errors:
            zf.writestr("errors.txt", "\n".join(errors) + "\n")
    return buf.getvalue(), errors


def _folder(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", name).strip("_") or "firm"


def zip_of(job_id: str) -> bytes | None:
    """The finished zip of a job (kept with the report cache: on disk or in the bucket), or None."""
    if not JOB_ID.match(job_id):
        raise ValueError("not a job id")
    return services.report_cache().get_bulk(job_id)


def submit(req: BulkRequest) -> str:
    """Queue the job (on RQ with Redis, in the database without); return its id."""
    if redis_url() is not None:
        return enqueue(req)
    return dbqueue.enqueue(
        KIND,
        asdict(req),
        user_id=req.user_id,
        consultancy_id=req.consultancy_id,
        total=len(req.assessment_ids),
    )


# ---- the database as the queue --------------------------------------------------------------------

KIND = "bulk_reports"


@dbqueue.handler(KIND)
def run_db_job(job_id: str, payload: dict[str, Any], progress: dbqueue.Progress) -> dict[str, Any]:
    req = BulkRequest(**{**payload, "assessment_ids": tuple(payload["assessment_ids"])})
    data, errors = build_zip(req, progress)
    services.report_cache().put_bulk(job_id, data)
    return {"zip": f"{job_id}.zip", "errors": errors, "count": len(req.assessment_ids) - len(errors)}


def _db_status(job_id: str, *, user_id: int, consultancy_id: int) -> dict[str, Any] | None:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != KIND or job.user_id != user_id or job.consultancy_id != consultancy_id:
        return None
    if job.status in ("queued", "running"):
        dbqueue.ensure_worker()  # this process may be new (its predecessor killed mid-job): it takes over
    return {
        "status": {"running": "started"}.get(job.status, job.status),
        "done": job.done,
        "total": job.total,
        "errors": list(job.errors or ()),
        "ready": job.status == "finished" and services.report_cache().has_bulk(job_id),
    }


# ---- RQ -------------------------------------------------------------------------------------------


def redis_url() -> str | None:
    url = current_app.config.get("REDIS_URL")
    return str(url) if url else None


def _connection(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def enqueue(req: BulkRequest) -> str:
    """Queue the job on "reports"; return its id. Progress starts at 0 of the number of reports."""
    from rq import Queue

    url = redis_url()
    assert url is not None
    queue = Queue(QUEUE, connection=_connection(url))
    timeout = int(services.setting("REPORT_RENDER_TIMEOUT") * (len(req.assessment_ids) + 2))
    job = queue.enqueue(
        run_job,
        asdict(req),
        job_timeout=timeout,
        result_ttl=RESULT_TTL,
        failure_ttl=RESULT_TTL,
        meta={
            "done": 0,
            "total": len(req.assessment_ids),
            "errors": [],
            "user_id": req.user_id,
            "consultancy_id": req.consultancy_id,
        },
    )
    return str(job.id)


def run_job(payload: dict[str, Any]) -> dict[str, Any]:
    """The RQ job: builds the zip under an app context (the caller's, or a new app's)."""
    if has_app_context():
        return _run(payload)
    from webapp import create_app

    app: Flask = create_app()
    with app.app_context():
        return _run(payload)


def _run(payload: dict[str, Any]) -> dict[str, Any]:
    from rq import get_current_job

    job = get_current_job()
    assert job is not None, "run_job runs on an RQ worker; inline bulk reports call build_zip"
    req = BulkRequest(**{**payload, "assessment_ids": tuple(payload["assessment_ids"])})

    def progress(done: int, total: int, errors: list[str]) -> None:
        job.meta.update(done=done, total=total, errors=list(errors))
        job.save_meta()  # type: ignore[no-untyped-call]

    try:
        data, errors = build_zip(req, progress)
    finally:
        db.session.rollback()  # the job only reads
    services.report_cache().put_bulk(job.id, data)
    return {"zip": f"{job.id}.zip", "errors": errors, "count": len(req.assessment_ids) - len(errors)}


def status(job_id: str, *, user_id: int, consultancy_id: int) -> dict[str, Any] | None:
    """The job's progress for the user who started it; None for a job that is not theirs or gone."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not JOB_ID.match(job_id):
        return None
    url = redis_url()
    if url is None:
        return _db_status(job_id, user_id=user_id, consultancy_id=consultancy_id)
    try:
        job = Job.fetch(job_id, connection=_connection(url))
    except NoSuchJobError:
        return None
    meta = job.get_meta(refresh=True)
    if meta.get("user_id") != user_id or meta.get("consultancy_id") != consultancy_id:
        return None
    state = job.get_status(refresh=False)
    return {
        "status": str(state.value if hasattr(state, "value") else state),
        "done": int(meta.get("done", 0)),
        "total": int(meta.get("total", 0)),
        "errors": list(meta.get("errors", [])),
        "ready": str(getattr(state, "value", state)) == "finished"
        and services.report_cache().has_bulk(job_id),
    }
