"""Autosave and the questionnaire page under load: gunicorn (2 sync workers, as `make run` serves),
32 concurrent connections, PostgreSQL, loopback only. Load generator: Debian's `wrk` with Lua scripts.

Six runs, each against its own gunicorn:
  floor     a bare Flask endpoint returning a constant (bench/autosave_apps.py:floor)
  minimal   the database writes of one autosave with SQLAlchemy Core and no checks (autosave_apps:minimal)
  autosave  the real endpoint: session, CSRF, sign-in, access rule, validation, version check,
            conditional update, history, the assessment marked changed (32 users, each editing its
            own firm's draft). It only writes: the page asks for the new figures separately
  progress  those figures, as the page asks for them once its saves settle: every answer read, the
            assessment scored, the section's items (printed for reference; no goal)
  section   the real questionnaire section page (12 questions), each connection its own user; pages are
            kept once rendered (webapp/questionnaire/pagecache.py): the warm-up fills the cache and
            nothing changes during the run, so this is the steady state of people reloading and moving
            between sections
  rendered  the same page with the cache off (SECTION_CACHE_SIZE=0): the cost of a page after a change
            (printed for reference; no goal)

Goals printed at the end: autosave >= 70 % of the minimal write's requests/s with p95 < 150 ms; the
section page >= 25 % of the floor's requests/s.

Scratch database: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/qready_bench_web),
dropped and created. Duration per run: BENCH_SECONDS (default 10) after a 10 s warm-up (a worker's first
requests load the frameworks and compile the templates).

    .venv/bin/python bench/bench_autosave.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench_web")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
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


def prepare(instance: Path) -> list[dict[str, Any]]:
    """Migrate a fresh database; 32 users, each the owner of a firm with a draft `pinzibiao`; sign each
    in and read a page, for its session cookie and CSRF token."""
    name = URL.rpartition("/")[2]
    with psycopg.connect(_admin_url(URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": URL, "SECRET_KEY": SECRET, "QREADY_INSTANCE_PATH": str(instance)}
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )

    import random

    from assessments.loader import load_framework
    from webapp import create_app, db, tenancy
    from webapp.auth.util import hash_password
    from webapp.db import utcnow
    from webapp.models import Firm, Membership, User
    from webapp.questionnaire import services
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
            a, _ = services.start(firm.id, "pinzibiao", None, user)
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
    app.extensions["qready.db"]["engine"].dispose()
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


def lua_autosave(users: list[dict[str, Any]]) -> str:
    return (
        _conns_lua(users)
        + _LUA_COMMON
        + """
function init(args)
  c = conns[(cid % #conns) + 1]
  versions = {}
  k = 0
  path = "/firms/" .. c.firm .. "/assessments/" .. c.a .. "/autosave"
  headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
             ["Cookie"] = c.cookie, ["X-CSRFToken"] = c.csrf, ["User-Agent"] = "qready-bench"}
end
function request()
  k = k + 1
  local n = #c.items
  local it = c.items[((k - 1) % n) + 1]
  current = it[1]
  local value = (math.floor((k - 1) / n) % 2 == 0) and it[2] or it[3]
  local body = '{"item": "' .. it[1] .. '", "version": ' .. (versions[it[1]] or 0) .. ', "value": ' .. value .. '}'
  return wrk.format("POST", path, headers, body)
end
function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
  local v = body:match('"version":%s*(%d+)')
  if v and current then versions[current] = tonumber(v) end
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


def reset_answers() -> None:
    """Forget the answers written so far: each run starts from version 0, as its script assumes."""
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("TRUNCATE answers, answer_history")


def run(
    name: str,
    target: str,
    chdir: Path,
    env: dict[str, str],
    script: str,
    scratch: Path,
    *,
    writes: bool = True,
) -> dict[str, Any]:
    log = scratch / f"{name}.log"
    proc, port = serve(target, chdir, env, log)
    try:
        # warm-up: each worker's first requests load the frameworks and compile the templates (seconds)
        wrk(port, script, scratch, WARMUP)
        if writes:
            time.sleep(1)  # requests still in flight when wrk stopped must land before the truncate
            reset_answers()  # the write scripts count versions from 0; reads change nothing
        result = wrk(port, script, scratch, SECONDS)
        if result["requests"] == 0:
            _diagnose(log)
    finally:
        stop(proc)
    print(
        f"  {name:<9} {result['rps']:8.0f} req/s   p50 {result['p50_ms']:6.1f} ms   p95 {result['p95_ms']:6.1f} ms"
        f"   p99 {result['p99_ms']:6.1f} ms   not 200 {result['non2xx']}   socket errors {result['socket_errors']}",
        flush=True,
    )
    return result


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
            f" gunicorn {WORKERS} sync workers, {CONNECTIONS} connections, {SECONDS} s per run",
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
        floor = run("floor", "autosave_apps:floor", here, bench_env, lua_floor(), scratch)
        minimal = run("minimal", "autosave_apps:minimal", here, bench_env, lua_minimal(users), scratch)
        autosave = run("autosave", "wsgi:app", ROOT, app_env, lua_autosave(users), scratch)
        run("progress", "wsgi:app", ROOT, app_env, lua_get(users, PROGRESS), scratch, writes=False)
        section = run("section", "wsgi:app", ROOT, app_env, lua_get(users, PAGE), scratch, writes=False)
        # the same page rendered on every request (the page cache off): what a change costs
        cold_env = {**app_env, "SECTION_CACHE_SIZE": "0"}
        run("rendered", "wsgi:app", ROOT, cold_env, lua_get(users, PAGE), scratch, writes=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio_write = autosave["rps"] / minimal["rps"]
    ratio_page = section["rps"] / floor["rps"]
    bad = autosave["non2xx"] + section["non2xx"] + minimal["non2xx"]
    bad += sum(1 for r in (floor, minimal, autosave, section) if r["requests"] == 0)
    print(
        f"  autosave / minimal write = {ratio_write:.0%} (goal >= 70 %), autosave p95 = {autosave['p95_ms']:.0f} ms"
        f" (goal < 150 ms)\n"
        f"  section page / floor     = {ratio_page:.0%} (goal >= 25 %)"
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
