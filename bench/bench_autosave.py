"""Autosave and the questionnaire page under load: gunicorn (2 sync workers, as `make run` serves),
32 concurrent connections, PostgreSQL, loopback only. Load generator: Debian's `wrk` with Lua scripts.

Six servers, each its own gunicorn:
  floor     a bare Flask endpoint returning a constant (bench/autosave_apps.py:floor)
  minimal   the database writes of one autosave with SQLAlchemy Core and no checks (autosave_apps:minimal)
  autosave  the real endpoint: session, CSRF, sign-in, access rule, validation, version check,
            conditional update, history, the assessment marked changed (32 users, each editing its
            own firm's draft). It only writes: the page asks for the new figures separately
  progress  those figures, as the page asks for them once its saves settle: every answer read, the
            assessment scored, the section's items (printed for reference; no goal)
  section   the real questionnaire section page (12 questions), each connection its own user, rendered
            on every request (wrk never revalidates; nothing rendered is kept on the server)

Printed at the end, at saturation (no think time): autosave against the minimal write's requests/s,
a floor of >= 25 % (what people feel is measured by bench_users.py, with think time); the fresh
section page against the bare endpoint, for the record.

Each goal is a ratio of two measurements, and this runs on a shared machine whose speed drifts by tens
of percent from one minute to the next (noisy neighbours): two runs measured a minute apart would give
a ratio that moves by ±15 points. So the two sides of a goal, (minimal, autosave) and (floor, section),
are measured side by side: both servers are started and warmed up (10 s of wrk each; a worker's first
requests load the frameworks and compile the templates), then wrk runs segments of
BENCH_SEGMENT_SECONDS (default 2) against them alternately, A B B A A B B A … (neither side always goes
first), until each side has BENCH_SECONDS (default 10, rounded up to whole segments) measured; drifts
slower than a segment hit both sides alike. A side's requests/s is its requests over its measured
seconds; its p50/p95/p99 are the worst (largest) of its segments' (conservative: a segment that met a
busy neighbour counts in full); its not-200 and socket errors are summed. Next to each goal ratio the
spread of the ratios of its adjacent segment pairs (each A with its neighbouring B) is printed: the
noise left. Before every segment the harness waits until the servers have finished the requests the
last wrk left in flight (nothing queued on their sockets, no database session busy); the autosave
script then starts each connection from the answers' stored versions and values (the minimal write
bumps the same rows), so its saves never conflict and each one writes. progress and rendered have no
goal and are measured once, BENCH_SECONDS after their own warm-up. Order: the (minimal, autosave) pair,
progress, the (floor, section) pair, rendered; each pair's lines are printed once it has finished. After
the write pair the scratch database is vacuumed (`vacuum`), as autovacuum would soon after such a burst.

Scratch database: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/qready_bench_web),
dropped and created.

    .venv/bin/python bench/bench_autosave.py
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench_web")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SEGMENT = int(os.environ.get("BENCH_SEGMENT_SECONDS", "2"))
SEGMENTS = math.ceil(SECONDS / SEGMENT)  # per side of a pair
WARMUP = 10
CONNECTIONS = 32
WORKERS = 2
SECRET = "bench-secret-key-not-for-production"
SECTION = "management"
PAGE = f"sections/{SECTION}"
PROGRESS = f"progress?section={SECTION}"
USER_AGENT = "qready-bench"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def _admin_url(url: str) -> str:
    return url.rpartition("/")[0] + "/postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


# ---- the scratch database -----------------------------------------------------------------------------


def fresh_database(url: str, instance: Path) -> None:
    """Drop and create the scratch database `url` and migrate it, as an operator would."""
    name = url.rpartition("/")[2]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "QREADY_INSTANCE_PATH": str(instance)}
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def prepare(instance: Path) -> list[dict[str, Any]]:
    """Migrate a fresh database; 32 users, each the owner of a firm with a draft `pinzibiao`; sign each
    in and read a page, for its session cookie and CSRF token."""
    fresh_database(URL, instance)

    import random

    from assessments.loader import load_framework
    from webapp import create_app, db, tenancy
    from webapp.auth.util import hash_password
    from webapp.db import utcnow
    from webapp.models import Firm, Membership, User
    from webapp.questionnaire import rounds
    from webapp.refdata import credit_code

    app = create_app(
        {
            "DATABASE_URL": URL,
            "SECRET_KEY": SECRET,
            "WTF_CSRF_ENABLED": False,  # only to sign the bench users in; the served app checks CSRF
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    app.instance_path = str(instance)
    fw = load_framework("pinzibiao")
    # non-fact items: a shared fact also updates the firm's other drafts, which the minimal write has no
    # counterpart for; each connection toggles its own assessment's items between two valid values
    items = []
    for item in fw.items:
        if item.fact or item.answer_type.value not in ("yes_no", "choice"):
            continue
        values = [True, False] if item.answer_type.value == "yes_no" else [o.value for o in item.options[:2]]
        items.append((item.id, json.dumps(values[0]), json.dumps(values[1])))
    rng = random.Random(1)
    users = []
    with app.app_context(), tenancy.bypass():
        for n in range(CONNECTIONS):
            user = User(
                email=f"bench{n}@example.cn",
                name=f"Bench {n}",
                password_hash=hash_password("bench-password-1"),
                email_verified_at=utcnow(),
                locale="zh",
            )
            firm = Firm(
                name=f"杭州压测{n}号有限公司",
                credit_code=credit_code.generate(rng, "330106"),
                region_code="330106",
                industry_division="34",
                employees=120,
                size_class="small",
            )
            db.session.add_all([user, firm])
            db.session.flush()
            db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
            db.session.flush()
            a, _ = rounds.start(firm.id, "pinzibiao", None, user)
            users.append({"email": user.email, "user": user.id, "firm": firm.id, "a": a.id})
        db.session.commit()
    for u in users:
        # the same User-Agent as wrk sends: sign-in sessions are bound to the address and the browser
        client = app.test_client()
        client.environ_base.update({"HTTP_USER_AGENT": USER_AGENT, "REMOTE_ADDR": "127.0.0.1"})
        r = client.post("/account/signin", data={"email": u["email"], "password": "bench-password-1"})
        assert r.status_code == 302, r.status_code
        page = client.get(f"/firms/{u['firm']}/assessments/{u['a']}/sections/{SECTION}").get_data(
            as_text=True
        )
        u["csrf"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        cookie = client.get_cookie("session")
        assert cookie is not None
        u["cookie"] = f"session={cookie.value}"
    db.dispose(app)
    return [{**u, "items": items} for u in users]


# ---- wrk scripts --------------------------------------------------------------------------------------

_LUA_COMMON = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("cid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
not200 = 0
function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("not200") or 0) end
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "non2xx": %d, "socket_errors": %d,'
    .. ' "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Lua string literal here (ASCII, escaped quotes)


def _conns_lua(users: list[dict[str, Any]]) -> str:
    rows = []
    for u in users:
        items = ", ".join(f"{{{_lua_str(i)}, {_lua_str(a)}, {_lua_str(b)}}}" for i, a, b in u["items"])
        rows.append(
            f"{{cookie={_lua_str(u['cookie'])}, csrf={_lua_str(u['csrf'])}, firm={u['firm']}, a={u['a']},"
            f" user={u['user']}, items={{{items}}}}}"
        )
    return "local conns = {" + ",\n".join(rows) + "}\n"


Stored = dict[int, dict[str, tuple[int, str]]]  # assessment -> item -> (version, value as JSON)


def lua_autosave(users: list[dict[str, Any]], stored: Stored) -> str:
    """Each connection toggles its own assessment's items, starting from `stored` (what the answers
    hold when the segment starts): it sends the version it last saw (the stored one at first, then the
    one each save answered) and the item's other value, so every save writes and none conflicts."""
    rows = []
    for u in users:
        known = ", ".join(
            f"[{_lua_str(item)}] = {{{version}, {_lua_str(value)}}}"
            for item, (version, value) in stored.get(u["a"], {}).items()
        )
        rows.append(f"[{u['a']}] = {{{known}}}")
    return (
        _conns_lua(users)
        + "local stored = {"
        + ",\n".join(rows)
        + "}\n"
        + _LUA_COMMON
        + """
function init(args)
  c = conns[(cid % #conns) + 1]
  versions = {}
  values = {}
  for item, s in pairs(stored[c.a] or {}) do
    versions[item] = s[1]
    values[item] = s[2]
  end
  k = 0
  path = "/firms/" .. c.firm .. "/assessments/" .. c.a .. "/autosave"
  headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
             ["Cookie"] = c.cookie, ["X-CSRFToken"] = c.csrf, ["User-Agent"] = "qready-bench"}
end
function request()
  k = k + 1
  local it = c.items[((k - 1) % #c.items) + 1]
  current = it[1]
  sent = (values[it[1]] == it[2]) and it[3] or it[2]
  local body = '{"item": "' .. it[1] .. '", "version": ' .. (versions[it[1]] or 0) .. ', "value": ' .. sent .. '}'
  return wrk.format("POST", path, headers, body)
end
function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 return end
  local v = body:match('"version":%s*(%d+)')
  if v and current then
    versions[current] = tonumber(v)
    values[current] = sent
  end
end
"""
    )


def lua_minimal(users: list[dict[str, Any]]) -> str:
    return (
        _conns_lua(users)
        + _LUA_COMMON
        + """
function init(args)
  c = conns[(cid % #conns) + 1]
  k = 0
  headers = {["Content-Type"] = "application/json", ["User-Agent"] = "qready-bench"}
end
function request()
  k = k + 1
  local n = #c.items
  local it = c.items[((k - 1) % n) + 1]
  local value = (math.floor((k - 1) / n) % 2 == 0) and it[2] or it[3]
  local body = '{"firm": ' .. c.firm .. ', "a": ' .. c.a .. ', "user": ' .. c.user .. ', "item": "' .. it[1]
    .. '", "value": ' .. value .. '}'
  return wrk.format("POST", "/write", headers, body)
end
"""
    )


def lua_get(users: list[dict[str, Any]], page: str) -> str:
    """Each connection GETs `page` (after /firms/<firm>/assessments/<a>/) as its own signed-in user."""
    return (
        _conns_lua(users)
        + _LUA_COMMON
        + f"""
function init(args)
  c = conns[(cid % #conns) + 1]
  path = "/firms/" .. c.firm .. "/assessments/" .. c.a .. "/{page}"
  headers = {{["Cookie"] = c.cookie, ["User-Agent"] = "qready-bench", ["Accept"] = "text/html,application/json"}}
end
function request()
  return wrk.format("GET", path, headers)
end
"""
    )


def lua_floor() -> str:
    return _LUA_COMMON


# ---- running ------------------------------------------------------------------------------------------


def serve(
    target: str, chdir: Path, env: dict[str, str], log: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    # the server's messages go to a file: a pipe nobody reads would fill up and stop the server
    errors = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            GUNICORN,
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=chdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    if log is not None:
        errors.close()  # type: ignore[union-attr]
    _wait(port)
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wrk(port: int, script: str, scratch: Path, seconds: int) -> dict[str, Any]:
    path = scratch / "load.lua"
    path.write_text(script)
    cmd = [
        "wrk",
        "--threads",
        str(CONNECTIONS),
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--script",
        str(path),
        f"http://127.0.0.1:{port}/",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def _diagnose(log: Path) -> None:
    """No request finished: show what the database sessions wait for and what the server said."""
    with psycopg.connect(_admin_url(URL), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity"
            " WHERE datname = %s",
            (URL.rpartition("/")[2],),
        ).fetchall()
    print("  !! no request finished; database sessions:", *rows, sep="\n     ", flush=True)
    print("  !! the server's last messages:\n" + log.read_text(errors="replace")[-2000:], flush=True)


def _accept_queue(ports: list[int]) -> int:
    """Connections waiting on the servers' listening sockets to be accepted (a listening socket's
    rx_queue in /proc/net/tcp): requests wrk sent before it stopped, which a worker will still serve.
    The listening sockets come first in the file; the tens of thousands of TIME_WAIT ones after them
    (sync workers close every connection) take 0.1 s to list, so the reading stops there."""
    wanted = {f"0100007F:{port:04X}" for port in ports}
    waiting = 0
    with open("/proc/net/tcp") as table:
        next(table)  # the header
        for line in table:
            fields = line.split()
            if fields[3] != "0A":  # 0A: listening
                break
            if fields[1] in wanted:
                waiting += int(fields[4].partition(":")[2], 16)
    return waiting


def settle(ports: list[int], timeout: float = 5) -> None:
    """Wait until the servers have served what the last wrk left in flight: nothing queued on their
    sockets and no database session of the bench database busy, five times in a row 40 ms apart
    (longer than one request takes on an idle server)."""
    end = time.monotonic() + timeout
    quiet = 0
    queued: int = 0
    busy: list[tuple[Any, ...]] = []
    with psycopg.connect(URL, autocommit=True) as conn:
        while quiet < 5 and time.monotonic() < end:
            time.sleep(0.04)
            busy = conn.execute(
                "SELECT pid, state, wait_event, left(query, 60) FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_type = 'client backend'"
                " AND pid <> pg_backend_pid() AND state <> 'idle'"
            ).fetchall()
            queued = _accept_queue(ports)
            quiet = 0 if busy or queued else quiet + 1
    if quiet < 5:
        print(
            f"  !! the servers were still busy {timeout:.0f} s after wrk stopped: {queued} connections queued,"
            " database sessions:",
            *busy,
            sep="\n     ",
            flush=True,
        )


def stored_answers() -> Stored:
    with psycopg.connect(URL, autocommit=True) as conn:
        rows = conn.execute("SELECT assessment_id, item_id, version, value FROM answers").fetchall()
    stored: Stored = {}
    for a, item, version, value in rows:
        stored.setdefault(a, {})[item] = (version, json.dumps(value))
    return stored


def vacuum() -> None:
    """What autovacuum does after a burst of writes, done at once: the write pair rewrote 32 assessment
    rows (each save marks its assessment changed) and ~500 answers some 20,000 times in a minute, and
    the dead row versions left behind slow every later read of those rows until they are cleaned up
    — by a third for the section page. No real workload concentrates writes on so few rows."""
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _line(name: str, result: dict[str, Any]) -> None:
    print(
        f"  {name:<9} {result['rps']:8.0f} req/s   p50 {result['p50_ms']:6.1f} ms   p95 {result['p95_ms']:6.1f} ms"
        f"   p99 {result['p99_ms']:6.1f} ms   not 200 {result['non2xx']}   socket errors {result['socket_errors']}",
        flush=True,
    )


def run(
    name: str, target: str, chdir: Path, env: dict[str, str], script: str, scratch: Path
) -> dict[str, Any]:
    """One server measured alone: a warm-up, then BENCH_SECONDS of wrk (the reference runs; they only read)."""
    log = scratch / f"{name}.log"
    proc, port = serve(target, chdir, env, log)
    try:
        # warm-up: each worker's first requests load the frameworks and compile the templates (seconds)
        wrk(port, script, scratch, WARMUP)
        result = wrk(port, script, scratch, SECONDS)
        if result["requests"] == 0:
            _diagnose(log)
    finally:
        stop(proc)
    _line(name, result)
    return result


@dataclass
class Side:
    """One side of a pair: its server, and the wrk script of its next segment (made just before it)."""

    name: str
    target: str
    chdir: Path
    env: dict[str, str]
    script: Callable[[], str]


def pair(a: Side, b: Side, scratch: Path) -> tuple[dict[str, Any], dict[str, Any], list[float]]:
    """Both servers up and warmed up, then segments A B B A A B B A … until each side has SEGMENTS; each
    side's totals (its p50/p95/p99 the worst of its segments) and b/a for each adjacent segment pair."""
    sides = (a, b)
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    segments: list[list[dict[str, Any]]] = [[], []]
    ratios: list[float] = []
    try:
        for side in sides:
            servers.append(serve(side.target, side.chdir, side.env, scratch / f"{side.name}.log"))
        ports = [port for _, port in servers]
        settle(ports, timeout=60)  # until the workers are up: they accept _wait's connection once booted
        for side, (_, port) in zip(sides, servers, strict=True):
            settle(ports)
            wrk(port, side.script(), scratch, WARMUP)
        for n in range(2 * SEGMENTS):
            i = (0, 1, 1, 0)[n % 4]
            settle(ports)
            result = wrk(servers[i][1], sides[i].script(), scratch, SEGMENT)
            if result["requests"] == 0:
                _diagnose(scratch / f"{sides[i].name}.log")
            segments[i].append(result)
            if n % 2 == 1:  # segments n - 1 and n: one of each side
                ratios.append(
                    segments[1][-1]["rps"] / segments[0][-1]["rps"] if segments[0][-1]["rps"] else 0.0
                )
    finally:
        for proc, _ in servers:
            stop(proc)
    totals = []
    for side, results in zip(sides, segments, strict=True):
        total: dict[str, Any] = {
            "requests": sum(r["requests"] for r in results),
            "seconds": sum(r["seconds"] for r in results),
            "non2xx": sum(r["non2xx"] for r in results),
            "socket_errors": sum(r["socket_errors"] for r in results),
            # the worst segment's: a percentile of the merged latencies would lie between the segments'
            **{k: max(r[k] for r in results) for k in ("p50_ms", "p95_ms", "p99_ms")},
        }
        total["rps"] = total["requests"] / total["seconds"] if total["seconds"] else 0.0
        total["empty_segments"] = sum(1 for r in results if r["requests"] == 0)
        _line(side.name, total)
        totals.append(total)
    return totals[0], totals[1], ratios


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="qready-bench-autosave-"))
    try:
        instance = scratch / "instance"
        instance.mkdir()
        t0 = time.perf_counter()
        users = prepare(instance)
        print(
            f"  prepared {len(users)} users, firms and draft assessments in {time.perf_counter() - t0:.1f} s;"
            f" gunicorn {WORKERS} sync workers, {CONNECTIONS} connections; each goal's two sides"
            f" interleaved, {SEGMENTS} segments of {SEGMENT} s each",
            flush=True,
        )
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
        app_env = {
            **base,
            "DATABASE_URL": URL,
            "SECRET_KEY": SECRET,
            "QREADY_INSTANCE_PATH": str(instance),
            "PYTHONPATH": str(ROOT),
        }
        bench_env = {**base, "BENCH_DATABASE_URL": URL}
        here = ROOT / "bench"
        minimal_lua = lua_minimal(users)
        minimal, autosave, write_ratios = pair(
            Side("minimal", "autosave_apps:minimal", here, bench_env, lambda: minimal_lua),
            # the stored versions, read after the last segment's saves landed (`settle`)
            Side("autosave", "wsgi:app", ROOT, app_env, lambda: lua_autosave(users, stored_answers())),
            scratch,
        )
        vacuum()
        progress = run("progress", "wsgi:app", ROOT, app_env, lua_get(users, PROGRESS), scratch)
        page_lua = lua_get(users, PAGE)
        floor, section, page_ratios = pair(
            Side("floor", "autosave_apps:floor", here, bench_env, lua_floor),
            Side("section", "wsgi:app", ROOT, app_env, lambda: page_lua),
            scratch,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = (minimal, autosave, progress, floor, section)
    bad = sum(r["non2xx"] for r in results)
    bad += sum(1 for r in results if r["requests"] == 0 or r.get("empty_segments"))

    def ratio(b: dict[str, Any], a: dict[str, Any], segments: list[float]) -> str:
        overall = b["rps"] / a["rps"] if a["rps"] else 0.0
        return f"{overall:.0%} (segments {min(segments) * 100:.0f}–{max(segments):.0%})"

    print(
        f"  autosave / minimal write = {ratio(autosave, minimal, write_ratios)} (floor >= 25 %)\n"
        f"  fresh section page / bare endpoint = {ratio(section, floor, page_ratios)} (for the record)"
        + (
            f"\n  !! {bad} responses were not 200 OK: the numbers above do not measure the real work"
            if bad
            else ""
        ),
        flush=True,
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
