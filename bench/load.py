"""Load and faults: N simulated people on the real server (gunicorn, 2 workers, as `make run` serves)
with PostgreSQL, for a set time, without think time; then the database is checked against what the
people were told was saved.

Each person owns a firm with a draft `pinzibiao`, signs in through the served form (CSRF on) and, until
the time is up, does one thing after another:
  autosave   answer a yes/no or choice question of the section it is on, always changing the answer  60 %
  section    open a section (this one or another)                                                  15 %
  progress   the figures the page asks for once its saves settle                                   12 %
  verdict    the verdict page                                                                       5 %
  report     the report (HTML view)                                                                 5 %
  sign-in    sign out (which ends the session server-side) and sign in again                        3 %
Printed: per kind of request, the requests, the retriable and the other errors, p50 and p95.

What is retriable is what a person's browser retries by itself, so that nothing is lost and nobody
has to do anything: a connection reset or closed without an answer (a worker killed mid-request), and
502/503/504 (the app answers 503 with Retry-After when its database connection broke mid-request,
see webapp/errors.py). The questionnaire keeps an unconfirmed answer in localStorage and sends it again
after such an error (static/js/questionnaire.js, `retryLater`); a page is reloaded. The simulation does
the same: it sends the same request again (the same answer with the same version) after 0.25 s, then
0.5 s, ... up to 2 s, until it is answered. Any other error (a 500, a 409 conflict on one's own answer,
a 429, a 4xx) is not retriable and fails the run.

Afterwards, straight from the database: every answer a person was told was saved is there with its
value and version; an answer's history has exactly one row per version (1..N, N its version), and the
row of each acknowledged version holds the value that was sent; no answer the people did not send.

With --faults, mid-run (at 30 %, 50 % and 70 % of the time): one gunicorn worker is killed (SIGKILL; the
master starts another), every database connection of the app is terminated (`pg_terminate_backend`),
and the Redis this run started (the rate limits' counts) is restarted. On SQLite there are no
connections to terminate: the other two faults still run.

Goal: 0 errors without faults; with faults only retriable errors, and nothing lost or half-written.

    .venv/bin/python bench/load.py [--users 50] [--seconds 120] [--faults]

Scratch database: LOAD_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/qready_bench_load),
dropped and created (a sqlite:/// URL runs against a SQLite file).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/qready_bench_load"
SECRET = "load-secret-key-not-for-production"
PASSWORD = "load-password-1"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
KINDS = ("sign-in", "autosave", "section", "progress", "verdict", "report")
WEIGHTS = (("autosave", 60), ("section", 15), ("progress", 12), ("verdict", 5), ("report", 5), ("sign-in", 3))
RETRIABLE_STATUS = frozenset({502, 503, 504})
RETRY_FOR = 60.0  # seconds a person keeps retrying one request after the time is up
FAULTS_AT = (("worker killed", 0.3), ("database connections terminated", 0.5), ("redis restarted", 0.7))


def _engine(url: str, **kw: Any) -> Any:
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


# ---- the scratch database ---------------------------------------------------------------------------


def fresh_database(url: str, instance: Path) -> None:
    """Drop and create `url` (PostgreSQL) or start a new SQLite file, and migrate it as an operator would."""
    if is_postgres(url):
        name = make_url(url).database
        admin = _engine(
            make_url(url).set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        path = Path(make_url(url).database or "")
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "QREADY_INSTANCE_PATH": str(instance)}
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def drop_database(url: str) -> None:
    if not is_postgres(url):
        return
    name = make_url(url).database
    admin = _engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


Sections = dict[str, list[tuple[str, list[Any]]]]


def prepare(url: str, instance: Path, users: int) -> tuple[list[dict[str, Any]], Sections]:
    """A fresh migrated database with `users` firm owners, each with a draft `pinzibiao`; the questions
    each section offers (yes/no and choice items that are not shared facts: a save changes one answer)."""
    fresh_database(url, instance)
    from assessments.loader import load_framework
    from webapp import create_app, db, tenancy
    from webapp.auth.util import hash_password
    from webapp.models import Answer, Firm, Membership, User
    from webapp.questionnaire import rounds
    from webapp.refdata import credit_code

    fw = load_framework("pinzibiao")
    sections: Sections = {}
    for section in fw.sections:
        for item in section.items:
            if item.fact or item.answer_type.value not in ("yes_no", "choice"):
                continue
            values = (
                [True, False] if item.answer_type.value == "yes_no" else [o.value for o in item.options[:2]]
            )
            sections.setdefault(section.id, []).append((item.id, values))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_STORAGE_URI": "memory://"})
    app.instance_path = str(instance)
    rng = random.Random(1)
    people = []
    with app.app_context(), tenancy.bypass():
        password_hash = hash_password(PASSWORD)
        for n in range(users):
            user = User(
                email=f"load{n}@example.cn",
                name=f"负载用户 {n}",
                password_hash=password_hash,
                email_verified_at=db.utcnow(),
                locale="zh" if n % 2 else "en",
            )
            firm = Firm(
                name=f"杭州负载{n}号有限公司",
                credit_code=credit_code.generate(rng, "330106"),
                region_code="330106",
                industry_division="34",
                employees=120,
                size_class="small",
            )
            db.session.add_all([user, firm])
            db.session.flush()
            db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
            a, _ = rounds.start(firm.id, "pinzibiao", None, user)
            initial = {
                x.item_id for x in db.session.scalars(select(Answer).where(Answer.assessment_id == a.id))
            }
            people.append({"email": user.email, "firm": firm.id, "a": a.id, "initial": initial})
        db.session.commit()
    db.dispose(app)
    return people, sections


# ---- the servers ------------------------------------------------------------------------------------


class Gunicorn:
    """`gunicorn --workers 2 wsgi:app`, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.port = _free_port()
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    str(workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_port(self.port)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Redis:
    """A redis-server of this run's own, on a free port, keeping nothing on disk."""

    def __init__(self, scratch: Path) -> None:
        self.port = _free_port()
        self.scratch = scratch
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.scratch),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self._start()


def terminate_backends(url: str) -> int:
    """End every connection to the app's database but this one: `pg_terminate_backend`."""
    engine = _engine(url)
    with engine.connect() as conn:
        n = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return int(n)


# ---- the people -------------------------------------------------------------------------------------


class Retriable(Exception):
    pass


@dataclass
class Ack:
    item: str
    version: int
    value: Any


@dataclass
class Tally:
    samples: list[tuple[str, float]] = field(default_factory=list)  # (kind, ms) of each answered request
    retriable: list[tuple[str, str]] = field(default_factory=list)  # (kind, what)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, what): not retriable


class Person(threading.Thread):
    def __init__(
        self, n: int, base: str, who: dict[str, Any], sections: Sections, deadline: Callable[[], float]
    ) -> None:
        super().__init__(daemon=True, name=f"person-{n}")
        self.rng = random.Random(n)
        self.base, self.who, self.sections, self.deadline = base, who, sections, deadline
        self.tally = Tally()
        self.acks: list[Ack] = []
        self.state: dict[str, tuple[int, Any]] = {}  # item -> (version, value) as last acknowledged
        self.csrf = ""
        self.path = f"/firms/{who['firm']}/assessments/{who['a']}"
        self.here = self.rng.choice(list(sections))
        self.client = httpx.Client(
            base_url=base, timeout=60, headers={"User-Agent": "qready-load-person"}, follow_redirects=False
        )

    # one request, retried as the browser would
    def _request(
        self, kind: str, method: str, url: str, ok: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response:
        delay = 0.25
        give_up = max(self.deadline(), time.monotonic()) + RETRY_FOR
        while True:
            t0 = time.perf_counter()
            try:
                r = self.client.request(method, url, **kw)
            except httpx.TransportError as exc:
                what = type(exc).__name__
            else:
                if r.status_code not in RETRIABLE_STATUS:
                    self.tally.samples.append((kind, (time.perf_counter() - t0) * 1000))
                    if r.status_code not in ok:
                        self.tally.errors.append((kind, f"HTTP {r.status_code}"))
                    return r
                what = f"HTTP {r.status_code}"
            self.tally.retriable.append((kind, what))
            if time.monotonic() > give_up:
                self.tally.errors.append((kind, f"gave up after {what}"))
                raise Retriable(what)
            time.sleep(delay)
            delay = min(2.0, delay * 2)

    def sign_in(self) -> None:
        page = self._request("sign-in", "GET", "/account/signin")
        token = TOKEN.search(page.text)
        if not token:
            self.tally.errors.append(("sign-in", "no CSRF token on the sign-in page"))
            return
        r = self._request(
            "sign-in",
            "POST",
            "/account/signin",
            ok=(302,),
            data={"email": self.who["email"], "password": PASSWORD, "csrf_token": token[1]},
        )
        if r.status_code == 302:
            self.section(self.here)

    def sign_out_and_in(self) -> None:
        self._request("sign-in", "POST", "/account/signout", ok=(302,), data={"csrf_token": self.csrf})
        self.client.cookies.clear()
        self.sign_in()

    def section(self, section: str) -> None:
        r = self._request("section", "GET", f"{self.path}/sections/{section}")
        token = TOKEN.search(r.text)
        if r.status_code == 200 and token:
            self.here, self.csrf = section, token[1]
        elif r.status_code == 200:
            self.tally.errors.append(("section", "no CSRF token on the section page"))

    def autosave(self) -> None:
        item, values = self.rng.choice(self.sections[self.here])
        version, current = self.state.get(item, (0, None))
        value = values[1] if current == values[0] else values[0]  # always a change
        body = {"item": item, "version": version, "value": value}
        r = self._request(
            "autosave",
            "POST",
            f"{self.path}/autosave",
            json=body,
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
        )
        if r.status_code != 200:
            return
        got = r.json()
        if not got.get("ok") or got.get("version") != version + 1:
            self.tally.errors.append(("autosave", f"unexpected answer {got!r} to {body!r}"))
            return
        self.state[item] = (version + 1, value)
        self.acks.append(Ack(item, version + 1, value))

    def run(self) -> None:
        try:
            self.sign_in()
            kinds = [k for k, _ in WEIGHTS]
            weights = [w for _, w in WEIGHTS]
            while time.monotonic() < self.deadline():
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "autosave":
                    self.autosave()
                elif kind == "section":
                    self.section(
                        self.here if self.rng.random() < 0.5 else self.rng.choice(list(self.sections))
                    )
                elif kind == "progress":
                    self._request("progress", "GET", f"{self.path}/progress?section={self.here}")
                elif kind == "verdict":
                    self._request("verdict", "GET", f"{self.path}/verdict")
                elif kind == "report":
                    self._request(
                        "report", "GET", f"/firms/{self.who['firm']}/assessments/{self.who['a']}/report"
                    )
                else:
                    self.sign_out_and_in()
        except Retriable:
            pass
        except Exception as exc:  # a bug in the simulation or an answer it cannot read: an error
            self.tally.errors.append(("person", repr(exc)))
        finally:
            self.client.close()


# ---- the check --------------------------------------------------------------------------------------


def check_database(url: str, people: list[Person]) -> list[str]:
    """What the database holds against what each person was told was saved; one line per problem."""
    from webapp.models import Answer, AnswerHistory

    answers_t, history_t = Answer.__table__, AnswerHistory.__table__  # JSON read as JSON on both backends
    problems: list[str] = []
    engine = _engine(url)
    with engine.connect() as conn:
        for p in people:
            a = p.who["a"]
            answers = {
                row.item_id: (row.version, row.value)
                for row in conn.execute(
                    select(answers_t.c.item_id, answers_t.c.version, answers_t.c.value).where(
                        answers_t.c.assessment_id == a
                    )
                )
            }
            history: dict[str, dict[int, list[Any]]] = {}
            for row in conn.execute(
                select(history_t.c.item_id, history_t.c.version, history_t.c.new_value).where(
                    history_t.c.assessment_id == a, history_t.c.evidence_action.is_(None)
                )
            ):
                history.setdefault(row.item_id, {}).setdefault(row.version, []).append(row.new_value)
            for item in sorted(set(answers) - set(p.state) - p.who["initial"]):
                problems.append(f"assessment {a}: an answer to {item} nobody acknowledged")
            for item, (version, value) in p.state.items():
                if item not in answers:
                    problems.append(f"assessment {a}: the acknowledged answer to {item} is missing")
                    continue
                if answers[item] != (version, value):
                    problems.append(
                        f"assessment {a}: {item} holds version/value {answers[item]}, "
                        f"acknowledged {(version, value)}"
                    )
                rows = history.get(item, {})
                if sorted(rows) != list(range(1, answers[item][0] + 1)) or any(
                    len(v) != 1 for v in rows.values()
                ):
                    counts = {v: len(r) for v, r in sorted(rows.items())}
                    problems.append(
                        f"assessment {a}: {item} at version {answers[item][0]} has history rows {counts} "
                        "(one per version expected)"
                    )
            for ack in p.acks:
                if history.get(ack.item, {}).get(ack.version, [None])[0] != ack.value:
                    problems.append(
                        f"assessment {a}: no history row of {ack.item} v{ack.version} = {ack.value!r}"
                    )
    engine.dispose()
    return problems


# ---- a run ------------------------------------------------------------------------------------------


@dataclass
class Result:
    users: int
    seconds: float
    faults: list[tuple[float, str, str]]  # (seconds into the run, fault, detail)
    samples: list[tuple[str, float]]
    retriable: list[tuple[str, str]]
    errors: list[tuple[str, str]]
    acknowledged: int
    problems: list[str]
    server_errors: list[str]  # lines of the server's log that tell of an unhandled error

    def ok(self) -> bool:
        return not self.errors and not self.problems and not self.server_errors


BAD_LOG = re.compile(r"Exception on |Traceback|Error handling request|WORKER TIMEOUT")


def run(
    url: str, users: int, seconds: float, faults: bool, scratch: Path, out: Callable[[str], None] = print
) -> Result:
    instance = scratch / "instance"
    people_ids, sections = prepare(url, instance, users)
    redis = Redis(scratch)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("QREADY_", "S3_", "REDIS_", "RATELIMIT_"))
        },
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "QREADY_INSTANCE_PATH": str(instance),
        "REDIS_URL": redis.url,
        "SIGNIN_ADDRESS_LIMIT": "100000",  # every person signs in from 127.0.0.1
    }
    log = scratch / "gunicorn.log"
    try:
        server = Gunicorn(env, log)
    except BaseException:
        redis.stop()
        raise
    done: list[tuple[float, str, str]] = []
    try:
        # warm both workers (frameworks loaded, templates compiled) before the clock starts
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for _ in range(6):
                c.get("/account/signin")
        clock: dict[str, float] = {"deadline": time.monotonic() + 3600}
        people = [
            Person(n, server.url, who, sections, lambda: clock["deadline"])
            for n, who in enumerate(people_ids)
        ]
        start = time.monotonic()
        clock["deadline"] = start + seconds
        for p in people:
            p.start()
        if faults:
            for name, at in FAULTS_AT:
                time.sleep(max(0.0, start + at * seconds - time.monotonic()))
                t = time.monotonic() - start
                if name == "worker killed":
                    victim = server.workers()[0]
                    os.kill(victim, signal.SIGKILL)
                    detail = f"pid {victim}"
                elif name == "database connections terminated":
                    if not is_postgres(url):
                        continue
                    detail = f"{terminate_backends(url)} connections"
                else:
                    redis.restart()
                    detail = f"port {redis.port}"
                done.append((t, name, detail))
                out(f"  {t:5.1f} s  {name} ({detail})")
        for p in people:
            p.join(seconds + RETRY_FOR + 120)
        elapsed = time.monotonic() - start
    finally:
        server.stop()
        redis.stop()
    problems = check_database(url, people)
    text_log = log.read_text("utf-8", "replace")
    server_errors = [line for line in text_log.splitlines() if BAD_LOG.search(line)]
    return Result(
        users=users,
        seconds=elapsed,
        faults=done,
        samples=[s for p in people for s in p.tally.samples],
        retriable=[s for p in people for s in p.tally.retriable],
        errors=[s for p in people for s in p.tally.errors],
        acknowledged=sum(len(p.acks) for p in people),
        problems=problems,
        server_errors=server_errors,
    )


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def report(r: Result, out: Callable[[str], None] = print) -> None:
    out(f"{r.users} people without think time for {r.seconds:.0f} s; gunicorn 2 workers")
    out(f"{'request':<10}{'answered':>9}{'retriable':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for kind in KINDS:
        ms = [m for k, m in r.samples if k == kind]
        retried = sum(1 for k, _ in r.retriable if k == kind)
        errs = sum(1 for k, _ in r.errors if k == kind)
        out(f"{kind:<10}{len(ms):>9}{retried:>10}{errs:>8}{_pct(ms, 0.5):>9.1f}{_pct(ms, 0.95):>9.1f}")
    total = len(r.samples)
    out(
        f"all       {total:>9}{len(r.retriable):>10}{len(r.errors):>8}   ({total / max(r.seconds, 1e-9):.0f} requests/s)"
    )
    if r.retriable:
        kinds: dict[str, int] = {}
        for _, what in r.retriable:
            kinds[what] = kinds.get(what, 0) + 1
        out(
            "retriable errors, all retried until answered: "
            + ", ".join(f"{k} × {n}" for k, n in sorted(kinds.items()))
        )
    if r.errors:
        out(f"ERRORS (not retriable): {r.errors[:10]}")
    out(
        f"saves acknowledged: {r.acknowledged}; checked in the database: "
        + ("all there, one history row each" if not r.problems else f"{len(r.problems)} PROBLEMS")
    )
    for line in r.problems[:20]:
        out("  " + line)
    if r.server_errors:
        out(f"the server logged {len(r.server_errors)} errors, first: {r.server_errors[:3]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", "50")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", "120")))
    parser.add_argument(
        "--faults", action="store_true", help="kill a worker, end the database connections, restart Redis"
    )
    parser.add_argument("--database", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    scratch = Path(tempfile.mkdtemp(prefix="qready-load-"))
    print(
        f"load: {args.users} people, {args.seconds:.0f} s, faults {'on' if args.faults else 'off'}, {make_url(args.database).render_as_string()}",
        flush=True,
    )
    try:
        result = run(args.database, args.users, args.seconds, args.faults, scratch)
    finally:
        drop_database(args.database)
    report(result)
    print(
        "RESULT "
        + json.dumps(
            {
                "requests": len(result.samples),
                "retriable": len(result.retriable),
                "errors": len(result.errors),
                "acknowledged": result.acknowledged,
                "problems": len(result.problems),
                "faults": [f for _, f, _ in result.faults],
            }
        )
    )
    if result.ok():
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"the server's log: {scratch / 'gunicorn.log'}")
    return 0 if result.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
