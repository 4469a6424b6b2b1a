"""Exit 0 when the PostgreSQL test database is reachable (creating the database if needed).

Under CI=true the PostgreSQL run is required: if the server is down, start it; if it still cannot
be reached, fail loudly (exit 2) instead of skipping.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import psycopg


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/") or "test"
    admin = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError as exc:
        if f'database "{dbname}" does not exist' not in str(exc):
            return False
    with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return True


def start_server() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
    time.sleep(2)


def main() -> int:
    url = sys.argv[1]
    if reachable(url):
        return 0
    if os.environ.get("CI") == "true":
        start_server()
        if reachable(url):
            return 0
        print(
            f"!! CI=true and PostgreSQL at {url} cannot be reached: the PostgreSQL run is required.",
            file=sys.stderr,
        )
        sys.exit(2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
