"""Twenty seconds of bench/load.py with its faults, as a check `make test` runs: people saving answers,
opening pages, asking for the figures, the verdict and the report, signing out and in, against gunicorn
(2 workers) on the database of the run (a fresh `<name>_load` PostgreSQL database next to
QREADY_TEST_DATABASE_URL, else a SQLite file), while a worker is killed, the app's database connections
are ended (PostgreSQL) and the Redis of the rate limits is restarted.

Every save a person was told about must be in the database with its value and exactly one history row
per version; no request may fail with anything but what the browser retries by itself (a connection
reset, 502/503/504; see bench/load.py), and the server must log no unhandled error. No timing is
asserted: `make bench` measures (bench/load.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import make_url

from bench import load

pytestmark = pytest.mark.db

USERS = 12
SECONDS = 20


def _database(tmp: Path) -> str:
    base = os.environ.get("QREADY_TEST_DATABASE_URL")
    if not base:
        return "sqlite:///" + str(tmp / "load.sqlite3")
    url = make_url(base)
    return url.set(database=f"{url.database}_load").render_as_string(hide_password=False)


def test_twenty_seconds_of_load_with_faults_lose_no_save(tmp_path: Path) -> None:
    url = _database(tmp_path)
    lines: list[str] = []
    try:
        result = load.run(url, USERS, SECONDS, faults=True, scratch=tmp_path, out=lines.append)
    finally:
        load.drop_database(url)
    load.report(result, out=lines.append)
    summary = "\n".join(lines)
    expected = ["worker killed", "redis restarted"]
    if load.is_postgres(url):
        expected.insert(1, "database connections terminated")
    assert [name for _, name, _ in result.faults] == expected, summary
    assert result.acknowledged > 0, summary
    assert {kind for kind, _ in result.samples} == set(load.KINDS), summary  # every kind was asked
    assert result.errors == [], summary  # only what the browser retries by itself
    assert result.problems == [], summary  # every acknowledged save there, one history row per version
    assert result.server_errors == [], summary
