"""What a person at the keyboard feels: simulated users on gunicorn (2 workers) + PostgreSQL, each
thinking 2-5 s between actions, the way a browser behaves (it revalidates a page it has with
If-None-Match), all in one run beside the bare endpoint.

Each of BENCH_USERS (default 50) users owns a firm with a draft `pinzibiao`, signs in through the
served sign-in form (CSRF on, as in production) and then, until BENCH_USERS_SECONDS (default 60) have
passed, repeats: think 2-5 s, then one of
  - answer a question of the section it is on (the page's autosave request)           60 %
  - look at its section again (If-None-Match with the ETag it has)                     25 %
  - move to another section (a page it may have seen before: If-None-Match too)        15 %
A section page answered 200 after the user changed it is a fresh render ("section fresh"); a 200 for a
page the user had not changed counts as "section other"; 304 is "section revalidated". A bare Flask
endpoint (bench/autosave_apps.py:floor) is asked by a 51st user at the same pace, as the baseline of
what the machine and HTTP alone cost.

Goals (issue 15): autosave p95 <= 100 ms; a fresh section render p95 <= 150 ms; a revalidated page p95
<= 20 ms. Also printed: the CPU of one fresh section render measured in-process (goal <= 10 ms), over
BENCH_RENDERS (default 30) renders of the same page with nothing kept between them.

Scratch database: BENCH_USERS_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/qready_bench_users),
dropped and created.

    .venv/bin/python bench/bench_users.py
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_autosave import SECRET, fresh_database, serve, stop  # noqa: E402

URL = os.environ.get("BENCH_USERS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench_users")
USERS = int(os.environ.get("BENCH_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_USERS_SECONDS", "60"))
RENDERS = int(os.environ.get("BENCH_RENDERS", "30"))
PASSWORD = "bench-password-1"
THINK = (2.0, 5.0)
GOALS = {"autosave": 100.0, "section fresh": 150.0, "section revalidated": 20.0}
CPU_GOAL_MS = 10.0
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def prepare(instance: Path) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, list[Any]]]]]:
    """A fresh migrated database with USERS firm owners, each with a draft `pinzibiao`; the questions
    each section offers to the simulation (yes/no and choice items that are not shared facts)."""
    fresh_database(URL, instance)
    from assessments.loader import load_framework
    from webapp import create_app, db, tenancy
    from webapp.auth.util import hash_password
    from webapp.models import Firm, Membership, User
    from webapp.questionnaire import rounds
    from webapp.refdata import credit_code

    fw = load_framework("pinzibiao")
    sections: dict[str, list[tuple[str, list[Any]]]] = {}
    for section in fw.sections:
        for item in section.items:
            if item.fact or item.answer_type.value not in ("yes_no", "choice"):
                continue
            values = (
                [True, False] if item.answer_type.value == "yes_no" else [o.value for o in item.options[:2]]
            )
            sections.setdefault(section.id, []).append((item.id, values))
    app = create_app({"DATABASE_URL": URL, "SECRET_KEY": SECRET})
    app.instance_path = str(instance)
    rng = random.Random(1)
    users = []
    with app.app_context(), tenancy.bypass():
        password_hash = hash_password(PASSWORD)
        for n in range(USERS):
            user = User(
                email=f"person{n}@example.cn",
                name=f"压测用户 {n}",
                password_hash=password_hash,
                email_verified_at=db.utcnow(),
                locale="zh" if n % 2 else "en",
            )
            firm = Firm(
                name=f"杭州体验{n}号有限公司",
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
            users.append({"email": user.email, "firm": firm.id, "a": a.id})
        db.session.commit()
    db.dispose(app)
    return users, sections


class Person(threading.Thread):
    def __init__(
        self,
        n: int,
        base: str,
        user: dict[str, Any] | None,
        sections: dict[str, list[tuple[str, list[Any]]]],
        clock: dict[str, float],
        ready: threading.Barrier,
    ) -> None:
        super().__init__(daemon=True)
        self.rng = random.Random(n)
        self.base, self.user, self.sections = base, user, sections
        self.clock, self.ready = clock, ready
        self.samples: list[tuple[str, float, int]] = []  # (kind, ms, status)
        self.errors: list[str] = []

    def _timed(self, kind: str, fn: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = fn()
        except httpx.HTTPError as exc:
            self.errors.append(f"{kind}: {exc!r}")
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.samples.append((kind, ms, r.status_code))
        if r.status_code >= 400:
            self.errors.append(f"{kind}: HTTP {r.status_code}")
        return r

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30, headers={"User-Agent": "qready-bench-person"}) as c:
            if self.user is None:
                self._floor(c)
            else:
                self._person(c, self.user)

    def _think(self) -> bool:
        pause = self.rng.uniform(*THINK)
        if time.monotonic() + pause >= self.clock["deadline"]:
            return False
        time.sleep(pause)
        return True

    def _floor(self, c: httpx.Client) -> None:
        self.ready.wait()
        while self._think():
            self._timed("bare endpoint", lambda: c.get("/"))

    def _person(self, c: httpx.Client, u: dict[str, Any]) -> None:
        token = TOKEN.search(c.get("/account/signin").text)
        assert token, "no CSRF token on the sign-in page"
        r = c.post(
            "/account/signin", data={"email": u["email"], "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 302, f"sign-in answered {r.status_code}"
        ids = list(self.sections)
        here = self.rng.choice(ids)
        base = f"/firms/{u['firm']}/assessments/{u['a']}"
        page = c.get(f"{base}/sections/{here}")
        csrf = TOKEN.search(page.text)
        assert page.status_code == 200 and csrf, f"section page answered {page.status_code}"
        etags: dict[str, str] = {here: page.headers.get("ETag", "")}
        changed: set[str] = set()
        versions: dict[str, int] = {}
        self.ready.wait()  # every person signed in before anyone acts
        while self._think():
            roll = self.rng.random()
            if roll < 0.60:
                item, values = self.rng.choice(self.sections[here])
                body = {"item": item, "version": versions.get(item, 0), "value": self.rng.choice(values)}
                r = self._timed(
                    "autosave",
                    lambda body=body: c.post(
                        f"{base}/autosave",
                        json=body,
                        headers={"X-CSRFToken": csrf[1], "Accept": "application/json"},
                    ),
                )
                if r is not None and r.status_code == 200:
                    versions[item] = int(r.json()["version"])
                    changed.add(here)
                continue
            if roll >= 0.85:
                here = self.rng.choice(ids)
            headers = {"If-None-Match": etags[here]} if etags.get(here) else {}
            kind = "section fresh" if here in changed else "section other"
            r = self._timed(
                kind, lambda here=here, headers=headers: c.get(f"{base}/sections/{here}", headers=headers)
            )
            if r is None:
                continue
            if r.status_code == 304:
                self.samples[-1] = ("section revalidated", self.samples[-1][1], 304)
            elif r.status_code == 200:
                etags[here] = r.headers.get("ETag", "")
                changed.discard(here)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def cpu_of_a_fresh_render(user: dict[str, Any], section: str, instance: Path) -> float:
    """Milliseconds of this process's CPU for one section page rendered from scratch, in-process."""
    from webapp import create_app, db

    app = create_app({"DATABASE_URL": URL, "SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": False})
    app.instance_path = str(instance)
    client = app.test_client()
    r = client.post("/account/signin", data={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 302
    url = f"/firms/{user['firm']}/assessments/{user['a']}/sections/{section}"
    for _ in range(5):  # templates compiled, frameworks loaded
        assert client.get(url).status_code == 200
    t0 = time.process_time()
    for _ in range(RENDERS):
        assert client.get(url).status_code == 200
    ms = (time.process_time() - t0) * 1000 / RENDERS
    db.dispose(app)
    return ms


def main() -> int:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    scratch = Path(tempfile.mkdtemp(prefix="qready-bench-users-"))
    instance = scratch / "instance"
    users, sections = prepare(instance)
    env = {**os.environ, "DATABASE_URL": URL, "SECRET_KEY": SECRET, "QREADY_INSTANCE_PATH": str(instance)}
    app_proc, app_port = serve("wsgi:app", ROOT, env, scratch / "app.log")
    floor_proc, floor_port = serve("autosave_apps:floor", HERE, env, scratch / "floor.log")
    try:
        clock: dict[str, float] = {}
        ready = threading.Barrier(USERS + 1, action=lambda: clock.update(deadline=time.monotonic() + SECONDS))
        people = [
            Person(n, f"http://127.0.0.1:{app_port}", u, sections, clock, ready) for n, u in enumerate(users)
        ]
        people.append(Person(USERS, f"http://127.0.0.1:{floor_port}", None, sections, clock, ready))
        for p in people:
            p.start()
        for p in people:
            p.join(SECONDS + 600)
    finally:
        stop(app_proc)
        stop(floor_proc)
    samples = [s for p in people for s in p.samples]
    errors = [e for p in people for e in p.errors]
    print(
        f"{USERS} users thinking {THINK[0]:.0f}-{THINK[1]:.0f} s for {SECONDS} s; gunicorn 2 workers, PostgreSQL"
    )
    print(f"{'request':<22}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'goal p95':>10}")
    ok = True
    for kind in ("autosave", "section fresh", "section revalidated", "section other", "bare endpoint"):
        ms = [m for k, m, _ in samples if k == kind]
        goal = GOALS.get(kind)
        p95 = _pct(ms, 0.95)
        verdict = "" if goal is None else (" met" if ms and p95 <= goal else " NOT MET")
        ok = ok and (goal is None or (bool(ms) and p95 <= goal))
        goal_text = f"<= {goal:.0f}" if goal is not None else "-"
        print(f"{kind:<22}{len(ms):>7}{_pct(ms, 0.5):>9.1f}{p95:>9.1f}{goal_text:>10}{verdict}")
    print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
    cpu = cpu_of_a_fresh_render(users[0], next(iter(sections)), instance)
    met = "met" if cpu <= CPU_GOAL_MS else "NOT MET"
    print(f"CPU of one fresh section render, in-process: {cpu:.1f} ms (goal <= {CPU_GOAL_MS:.0f} ms: {met})")
    print("RESULT " + json.dumps({"samples": len(samples), "errors": len(errors), "cpu_ms": round(cpu, 2)}))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
