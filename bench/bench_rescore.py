"""`flask --app wsgi rescore` over N stored assessments on PostgreSQL (default 100,000).

Builds a scratch database (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/qready_bench),
migrates it, loads firms and N assessments of the shipped frameworks with their answers by COPY, then
times the real CLI command in a subprocess. Goal: under 60 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402
from assessments.loader import load_all  # noqa: E402

AS_OF = dt.date(2026, 11, 22)


def _admin_url(url: str) -> str:
    base, _, _name = url.rpartition("/")
    return base + "/postgres"


def prepare(url: str, n: int, seed: int = 1) -> int:
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
    frameworks = load_all()
    latest = {}
    for fw in frameworks:
        latest[fw.id] = fw
    fws = list(latest.values())
    choices = {}
    for fw in fws:
        mode = fw.default_mode
        choices[fw.id] = [
            (
                i.id,
                json.dumps(scoring.ideal_answer(fw, i, mode=mode, as_of=AS_OF), ensure_ascii=False),
                json.dumps(scoring.zero_answer(fw, i, mode=mode, as_of=AS_OF), ensure_ascii=False),
            )
            for i in fw.items
        ]
    now = dt.datetime.now(dt.UTC)
    answers = 0
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            "COPY firms (id, name, credit_code, region_code, industry_division, employees, size_class, above_scale,"
            " founded_on, synthetic, created_at) FROM STDIN"
        ) as copy:
            for f in range(1, 301):
                copy.write_row(
                    (
                        f,
                        f"bench firm {f}",
                        f"B{f:017d}",
                        "330106",
                        "34",
                        100,
                        "small",
                        True,
                        dt.date(2005, 1, 1),
                        True,
                        now,
                    )
                )
        with conn.cursor().copy(
            "COPY assessments (id, firm_id, framework_id, framework_version, mode, status, round, created_at,"
            " updated_at, as_of) FROM STDIN"
        ) as copy:
            plan = []
            for a in range(1, n + 1):
                fw = fws[a % len(fws)]
                plan.append(fw)
                copy.write_row(
                    (a, 1 + a % 300, fw.id, fw.version, fw.default_mode, "submitted", 1, now, now, AS_OF)
                )
        with conn.cursor().copy(
            "COPY answers (id, firm_id, assessment_id, item_id, value, version, updated_at) FROM STDIN"
        ) as copy:
            aid = 0
            for a, fw in enumerate(plan, start=1):
                for item_id, ideal, zero in choices[fw.id]:
                    r = rng.random()
                    if r < 0.1:
                        continue  # unanswered
                    aid += 1
                    copy.write_row((aid, 1 + a % 300, a, item_id, ideal if r < 0.6 else zero, 1, now))
            answers = aid
        conn.execute("SELECT setval('assessments_id_seq', %s)", (n,))
        conn.execute("SELECT setval('answers_id_seq', %s)", (max(answers, 1),))
        conn.execute("SELECT setval('firms_id_seq', 300)")
        conn.commit()
        conn.execute("ANALYZE")
    return answers


def _existing(url: str) -> int | None:
    """How many assessments a previous run left in the scratch database (None: no usable database)."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SELECT count(*) FROM assessments").fetchone()
            return int(row[0]) if row else None
    except psycopg.Error:
        return None


def run(url: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "rescore"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    print("   ", out.stdout.strip())
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument(
        "--url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench"),
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    answers = prepare(args.url, args.n)
    print(
        f"rescore: loaded {args.n:,} assessments with {answers:,} answers in {time.perf_counter() - t0:.1f} s"
    )
    took = run(args.url)
    verdict = "OK" if took < 60 else "SLOW"
    print(
        f"rescore: {args.n:,} assessments in {took:.1f} s wall ({args.n / took:,.0f}/s); goal < 60 s: {verdict}"
    )


if __name__ == "__main__":
    main()
