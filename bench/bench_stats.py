"""The regulator statistics on PostgreSQL with N firms and M submitted assessments (default 100,000 and
300,000): every dashboard view and every export of a province's and a city's agency, timed, with the
ratio to a bare `SELECT count(*) FROM assessments` in the same run. Goals (issue 18): a view <= 300 ms
p50, an export <= 2 s.

Scratch database: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/qready_bench_stats),
dropped, created and migrated. The generator scores a pool of rounds per framework and mode with the
engine (answers drawn as `flask demo` draws them) and gives each of the M assessments one of them, so
the kept results (`assessment_results` and their lines) are real engine output; the answers themselves
are not stored (`flask rescore` would find none). Loaded with COPY, then ANALYZE.

    .venv/bin/python bench/bench_stats.py [--firms 100000] [--assessments 300000] [--runs 5]

`make bench` runs it at a tenth of that scale (loading 100,000 firms takes minutes); the scale is
printed with the timings. The statistics read counts added up ahead (`webapp.stats.counts`): the
generator adds them up after loading, as `flask rescore` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = dt.date(2026, 12, 1)
POOL = 60  # engine-scored rounds per framework and mode


def _admin_url(url: str) -> str:
    return url.rpartition("/")[0] + "/postgres"


def _pool(rng: random.Random) -> dict[tuple[str, str], list[Any]]:
    import scoring
    from assessments.loader import load_framework
    from scoring.model import AnswerType
    from webapp.commands.demo.statistics import _value
    from webapp.questionnaire.engine_bridge import submission

    out: dict[tuple[str, str], list[Any]] = {}
    cache: dict[Any, Any] = {}
    profile = {
        "region": "330106",
        "city": "330100",
        "registered_in_zhejiang": True,
        "industry_section": "C",
        "is_manufacturing": True,
        "above_scale": True,
        "size_class": "medium",
        "years_operating": 12,
    }
    for fid, mode in (
        ("pinzibiao", None),
        ("performance-excellence", "quick"),
        ("performance-excellence", "full"),
        ("chief-quality-officer", None),
        ("standards-adoption", None),
        ("labelling-four-100", None),
    ):
        fw = load_framework(fid)
        mode = mode or fw.default_mode
        pool = []
        for _ in range(POOL):
            level = rng.uniform(0.2, 0.9)
            answers = {
                i.id: _value(fw, i, mode, TODAY, level, rng, cache)
                for i in fw.items
                if not (i.answer_type is AnswerType.SCALE and i.scale_for(mode) is None)
            }
            ev = {i.id for i in fw.items if i.evidence_required and rng.random() < 0.8}
            sub = submission([(k, v, None) for k, v in answers.items()], ev, profile, mode, TODAY)
            pool.append(scoring.score(fw, sub))
        out[(fid, mode)] = pool
    return out


def prepare(url: str, n_firms: int, n_assessments: int, seed: int = 18) -> None:
    from webapp.refdata import industries, regions
    from webapp.stats.results import rows_for

    name = url.rpartition("/")[2]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    rng = random.Random(seed)
    started = time.perf_counter()
    pool = _pool(rng)
    kinds = list(pool)
    counties = [c.code for city in regions.cities() for c in regions.counties(city.code)]
    divisions = [
        d
        for d in ("13", "17", "18", "26", "29", "33", "34", "35", "36", "38", "39", "51", "65")
        if industries.section_of(d)
    ]
    now = dt.datetime.now(dt.UTC)
    firms = []
    for i in range(1, n_firms + 1):
        size = rng.choices(["micro", "small", "medium", "large"], [30, 45, 20, 5])[0]
        firms.append(
            SimpleNamespace(
                id=i,
                region_code=rng.choice(counties),
                industry_division=rng.choice(divisions),
                size_class=size,
                above_scale=size in ("medium", "large"),
            )
        )
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY firms (id, name, credit_code, region_code, industry_division, size_class, above_scale,"
            " synthetic, share_statistics, created_at) FROM STDIN"
        ) as copy:
            for f in firms:
                copy.write_row(
                    (
                        f.id,
                        f"基准企业{f.id}",
                        f"B{f.id:017d}",
                        f.region_code,
                        f.industry_division,
                        f.size_class,
                        f.above_scale,
                        True,
                        rng.random() < 0.9,
                        now,
                    )
                )
        newest: dict[tuple[int, str, str], tuple[dt.date, int]] = {}
        rows = []
        for aid in range(1, n_assessments + 1):
            f = firms[rng.randrange(n_firms)]
            fid, mode = rng.choice(kinds)
            day = TODAY - dt.timedelta(days=rng.randint(0, 900))
            rows.append((aid, f, fid, mode, day, rng.choice(pool[(fid, mode)])))
            key = (f.id, fid, mode)
            if key not in newest or (day, aid) > newest[key]:
                newest[key] = (day, aid)
        latest = {aid for _, aid in newest.values()}
        with cur.copy(
            "COPY assessments (id, firm_id, framework_id, framework_version, mode, status, round, created_at,"
            " updated_at, submitted_at, as_of) FROM STDIN"
        ) as copy:
            for aid, f, fid, mode, day, result in rows:
                stamp = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
                copy.write_row(
                    (aid, f.id, fid, result.version, mode, "submitted", 1, stamp, stamp, stamp, day)
                )
        line_cols = ("assessment_id", "firm_id", "kind", "key", "status", "percent")
        with cur.copy(
            "COPY assessment_results (assessment_id, firm_id, framework_id, framework_version, mode, score,"
            " percent, submitted_on, quarter, region_code, city_code, industry_section, size_class, above_scale,"
            " latest) FROM STDIN"
        ) as copy:
            lines = []
            for aid, f, _fid, mode, day, result in rows:
                row, ls = rows_for(
                    assessment_id=aid, firm_id=f.id, mode=mode, submitted_on=day, firm=f, result=result
                )
                copy.write_row(
                    (
                        row["assessment_id"],
                        row["firm_id"],
                        row["framework_id"],
                        row["framework_version"],
                        row["mode"],
                        row["score"],
                        row["percent"],
                        row["submitted_on"],
                        row["quarter"],
                        row["region_code"],
                        row["city_code"],
                        row["industry_section"],
                        row["size_class"],
                        row["above_scale"],
                        aid in latest,
                    )
                )
                lines.extend(ls)
        with cur.copy(f"COPY assessment_result_lines ({', '.join(line_cols)}) FROM STDIN") as copy:
            for line in lines:
                copy.write_row(tuple(line[c] for c in line_cols))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    print(
        f"loaded {n_firms:,} firms, {n_assessments:,} assessments, {len(lines):,} result lines"
        f" in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    started = time.perf_counter()
    cells = add_up(url)
    print(
        f"counts added up ahead (flask rescore's step): {cells:,} cells in {time.perf_counter() - started:.0f} s"
    )


def add_up(url: str) -> int:
    """The statistics' counts from the kept results, as `flask rescore` writes them."""
    from webapp import create_app, db, tenancy
    from webapp.stats import counts

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), tenancy.bypass():
        cells = counts.rebuild()
        db.session.commit()
    db.dispose(app)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE stats_counts")
    return cells


def measure(url: str, runs: int) -> None:
    from sqlalchemy import event, text

    from webapp import create_app, db
    from webapp.stats import present
    from webapp.stats import service as stats

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})

    def p50(fn: Any) -> float:
        fn()  # warm
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context(), app.test_request_context():
        event.listen(db.engine(), "before_cursor_execute", count)
        firms, assessments = db.session.execute(
            text("SELECT (SELECT count(*) FROM firms), (SELECT count(*) FROM assessments)")
        ).one()
        print(f"scale: {firms:,} firms, {assessments:,} assessments", flush=True)
        base = p50(lambda: db.session.execute(text("SELECT count(*) FROM assessments")).scalar())
        print(f"SELECT count(*) FROM assessments: {base:.1f} ms p50", flush=True)
        worst_view = worst_export = 0.0
        for jurisdiction in ("330000", "330100"):
            views = [
                stats.ALL,
                ("region", stats.dimension_values(jurisdiction, "region")[0]),
                ("industry", "C"),
                ("size", "small"),
                ("scale", "yes"),
            ]
            for view in views:
                statements.clear()
                present.build(stats.compute(jurisdiction, view), "zh")
                n = len(statements)
                ms = p50(lambda v=view, j=jurisdiction: present.build(stats.compute(j, v), "zh"))
                worst_view = max(worst_view, ms)
                print(
                    f"view {jurisdiction} {stats.view_param(view) or 'all':<14} {ms:8.1f} ms p50"
                    f"  ({ms / base:6.1f} x count(*))  {n} statement{'s' if n != 1 else ''}",
                    flush=True,
                )
            data = present.build(stats.compute(jurisdiction), "zh")
            for name, fn in (("csv", present.to_csv), ("xlsx", present.to_xlsx)):
                ms = p50(lambda f=fn, j=jurisdiction: f(present.build(stats.compute(j), "zh")))
                worst_export = max(worst_export, ms)
                print(
                    f"export {jurisdiction} {name:<12} {ms:8.1f} ms p50  ({ms / base:6.1f} x count(*))",
                    flush=True,
                )
            del data
        ok_view, ok_export = worst_view <= 300, worst_export <= 2000
        print(
            f"worst view {worst_view:.0f} ms ({'meets' if ok_view else 'misses'} 300 ms);"
            f" worst export {worst_export:.0f} ms ({'meets' if ok_export else 'misses'} 2 s)"
        )
    db.dispose(app)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--assessments", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="measure the database as it is (no new data)")
    args = ap.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench_stats")
    if not args.reuse:
        prepare(url, args.firms, args.assessments)
    measure(url, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
