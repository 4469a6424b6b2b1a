"""`flask score` (one answers file, printed as the engine's JSON) and `flask rescore` (every stored
assessment, after a framework's scoring rules are corrected in a new version or to refresh statistics)."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, text, update

import scoring
from assessments.loader import FrameworkNotFound, load_framework
from webapp import db, tenancy
from webapp.models import Assessment, Firm
from webapp.orgs.services import profile_facts
from webapp.questionnaire.engine_bridge import submission, summary
from webapp.stats import results as stats_results


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(2)


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"{what}: cannot read {path}: {exc}"])
    except json.JSONDecodeError as exc:
        _fail([f"{what}: {path} is not valid JSON: {exc}"])


@click.command("score")
@click.option("--framework", "framework_id", required=True, help="Framework id, e.g. pinzibiao.")
@click.option("--version", default=None, help="Framework version (default: the latest).")
@click.option(
    "--answers",
    "answers_path",
    required=True,
    help='JSON: {"answers": {...}, "na": {...}, "evidence": [...]}',
)
@click.option("--profile", "profile_path", default=None, help="JSON object of firm-profile facts.")
@click.option("--as-of", "as_of", default=None, help="Scoring date YYYY-MM-DD (default: today).")
def score(
    framework_id: str, version: str | None, answers_path: str, profile_path: str | None, as_of: str | None
) -> None:
    """Score an answers file and print the result as JSON. Bad input exits 2, one line per problem."""
    try:
        framework = load_framework(framework_id, version)
    except FrameworkNotFound as exc:
        _fail([str(exc)])
    data = _read_json(answers_path, "answers")
    profile = _read_json(profile_path, "profile") if profile_path else None
    if profile is not None and not isinstance(profile, dict):
        _fail(["profile: the file must hold a JSON object"])
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        _fail([f"--as-of: {as_of!r} is not a date YYYY-MM-DD"])
    try:
        sub = scoring.Submission.from_json(data, profile=profile, as_of=day)
    except scoring.InvalidSubmission as exc:
        _fail([str(p) for p in exc.problems])
    problems = scoring.validate(framework, sub)
    if problems:
        _fail([str(p) for p in problems])
    click.echo(scoring.dumps(scoring.score(framework, sub), indent=2))


@click.command("rescore")
@click.option("--framework", "framework_id", default=None, help="Only assessments of this framework.")
@click.option("--batch", default=5000, show_default=True, help="Assessments per database round trip.")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True, help="Worker processes (id ranges).")
@with_appcontext
def rescore(framework_id: str | None, batch: int, jobs: int) -> None:
    """Score every stored assessment again and store its headline numbers."""
    started = time.perf_counter()
    with tenancy.bypass():
        lo, hi = db.session.execute(select(func.min(Assessment.id), func.max(Assessment.id))).one()
    ranges = _split(lo or 0, hi or 0, jobs)
    if len(ranges) <= 1:
        with tenancy.bypass():
            done, failed = rescore_all(framework_id=framework_id, batch=batch)
            db.session.commit()
    else:
        # Each worker process scores one id range with its own app and connection, and commits it.
        db.session.close()
        config = {k: current_app.config[k] for k in ("DATABASE_URL", "SECRET_KEY")}
        with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_rescore_range, [(config, framework_id, batch, r) for r in ranges]))
        done, failed = sum(p[0] for p in parts), sum(p[1] for p in parts)
    with tenancy.bypass():
        kept = stats_results.rebuild(framework_id=framework_id)
        db.session.commit()
    took = time.perf_counter() - started
    click.echo(f"Kept the results of {kept} submitted assessments for the statistics.")
    click.echo(f"Rescored {done} assessments in {took:.1f} s ({failed} could not be scored).")
    if failed:
        sys.exit(1)


def _split(lo: int, hi: int, jobs: int) -> list[tuple[int, int]]:
    """Split ids lo..hi into up to `jobs` contiguous ranges (small work stays in one)."""
    if hi < lo or jobs <= 1 or hi - lo < 2000:
        return [(lo, hi)]
    step = (hi - lo + jobs) // jobs
    return [(a, min(a + step - 1, hi)) for a in range(lo, hi + 1, step)]


def _rescore_range(args: tuple[dict[str, Any], str | None, int, tuple[int, int]]) -> tuple[int, int]:
    config, framework_id, batch, (lo, hi) = args
    from webapp import create_app

    app = create_app(config)
    with app.app_context(), tenancy.bypass():
        result = rescore_all(framework_id=framework_id, batch=batch, id_range=(lo, hi))
        db.session.commit()
    return result


_READ = {
    "postgresql": """
        SELECT a.id, a.firm_id, a.framework_id, a.framework_version, a.mode, a.as_of, a.created_at,
          (SELECT json_agg(json_build_array(item_id, value, na_reason)) FROM answers WHERE assessment_id = a.id),
          (SELECT json_agg(DISTINCT item_id) FROM evidence WHERE assessment_id = a.id)
        FROM assessments a WHERE a.id > :last AND a.id <= :hi
          AND (CAST(:fw AS VARCHAR) IS NULL OR a.framework_id = :fw)
        ORDER BY a.id LIMIT :batch""",
    "sqlite": """
        SELECT a.id, a.firm_id, a.framework_id, a.framework_version, a.mode, a.as_of, a.created_at,
          (SELECT json_group_array(json_array(item_id, json(value), na_reason)) FROM answers
            WHERE assessment_id = a.id),
          (SELECT json_group_array(DISTINCT item_id) FROM evidence WHERE assessment_id = a.id)
        FROM assessments a WHERE a.id > :last AND a.id <= :hi
          AND (CAST(:fw AS VARCHAR) IS NULL OR a.framework_id = :fw)
        ORDER BY a.id LIMIT :batch""",
}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def rescore_all(
    *, framework_id: str | None = None, batch: int = 5000, id_range: tuple[int, int] | None = None
) -> tuple[int, int]:
    """Rescore in id order, `batch` assessments per round trip; the caller commits. Returns
    (assessments rescored, assessments whose stored answers no longer validate).

    Reads each assessment with its answers aggregated by the database (one row per assessment) and,
    on PostgreSQL, writes the results with COPY into a temporary table and one UPDATE per batch."""
    s = db.session
    dialect = s.get_bind().dialect.name
    read = text(_READ["postgresql" if dialect == "postgresql" else "sqlite"])
    firms = {
        f.id: f
        for f in s.execute(
            select(
                Firm.id,
                Firm.region_code,
                Firm.industry_division,
                Firm.above_scale,
                Firm.size_class,
                Firm.founded_on,
            )
        )
    }
    done = failed = 0
    last, hi = (id_range[0] - 1, id_range[1]) if id_range else (0, 2**31 - 1)
    frameworks: dict[tuple[str, str], Any] = {}
    profiles: dict[tuple[int, dt.date], dict[str, Any]] = {}
    now = db.utcnow()
    while True:
        rows = s.execute(read, {"last": last, "hi": hi, "fw": framework_id, "batch": batch}).all()
        if not rows:
            break
        updates = []
        for aid, firm_id, fw_id, fw_version, mode, as_of, created_at, answers, evidence in rows:
            key = (fw_id, fw_version)
            if key not in frameworks:
                frameworks[key] = load_framework(*key)
            day = _as_date(as_of) if as_of is not None else _as_date(created_at)
            pkey = (firm_id, day)
            if pkey not in profiles:
                profiles[pkey] = profile_facts(firms[firm_id], day)
            items = [tuple(a) for a in (_json(answers) or ())]
            sub = submission(items, _json(evidence) or (), profiles[pkey], mode, day)
            try:
                result = scoring.score(frameworks[key], sub, explain=False)
            except scoring.InvalidSubmission:
                failed += 1
                continue
            updates.append((aid, summary(result)))
        _store(s, dialect, updates, now)
        done += len(updates)
        last = rows[-1][0]
    return done, failed


def _store(s: Any, dialect: str, updates: list[tuple[int, dict[str, Any]]], now: dt.datetime) -> None:
    if not updates:
        return
    if dialect != "postgresql":
        s.execute(
            update(Assessment),
            [
                {
                    "id": aid,
                    "summary": head,
                    "result_percent": head["percent"],
                    "result_points": head["points"],
                    "scored_at": now,
                }
                for aid, head in updates
            ],
        )
        return
    raw = s.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS rescore_batch (id integer PRIMARY KEY, summary json,"
            " percent numeric(7, 2), points numeric(10, 2)) ON COMMIT DROP"
        )
        with cur.copy("COPY rescore_batch (id, summary, percent, points) FROM STDIN") as copy:
            for aid, head in updates:
                copy.write_row((aid, json.dumps(head, ensure_ascii=False), head["percent"], head["points"]))
        cur.execute(
            "UPDATE assessments a SET summary = b.summary, result_percent = b.percent, result_points = b.points,"
            " scored_at = %s FROM rescore_batch b WHERE a.id = b.id",
            (now,),
        )
        cur.execute("TRUNCATE rescore_batch")
