"""Benchmark of the improvement reports: a standard report rendered, WeasyPrint alone, a cached report.

    python bench/bench_reports.py [--rounds N] [--lang zh|en] [--keep DIR]

The standard report is a full-mode performance-excellence assessment with every question answered,
a self-evaluation for each item, evidence on file and a previous round to compare with (Chinese by
default, with its charts). In a temporary instance (SQLite, migrated) it measures, in one run:

* the whole report, uncached: loading the rows, scoring, charts, templates, the PDF in the render
  worker, writing the cache;
* WeasyPrint alone on the very same final HTML, in this process (the floor the report is held to);
* the cached report: the rows read again, the key computed, the file read; and the same through the
  app (a signed-in GET of report.pdf: session, access rule, tenancy, the response).

Goals: report median <= 2 s, <= 1.2x WeasyPrint alone, cached <= 50 ms, PDF <= 400 KB, >= 8 pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_REPORT_S = 2.0
GOAL_RATIO = 1.2
GOAL_CACHED_MS = 50.0
GOAL_KB = 400
GOAL_PAGES = 8
PASSWORD = "bench-reports-password"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--lang", choices=["zh", "en"], default="zh")
    ap.add_argument("--keep", default=None, help="write the last PDF here")
    args = ap.parse_args()

    from alembic import command

    from webapp import create_app, db, tenancy
    from webapp.auth.util import hash_password
    from webapp.commands.db import alembic_config
    from webapp.models import Firm, Membership, User
    from webapp.reports import render, sample, services
    from webapp.reports.fetcher import Asset, static_assets

    tmp = Path(tempfile.mkdtemp(prefix="qready-bench-reports-"))
    try:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-reports",
                "REPORT_CACHE_DIR": str(tmp / "cache"),
                "WTF_CSRF_ENABLED": False,  # the benchmark signs in with a plain POST
            }
        )
        app.instance_path = str(tmp)
        with app.app_context():
            command.upgrade(alembic_config(url), "head")
            with tenancy.bypass():
                user = User(
                    email="bench@example.cn",
                    name="王丽 Wang Li",
                    password_hash=hash_password(PASSWORD),
                    email_verified_at=db.utcnow(),
                )
                firm = Firm(
                    name="杭州精工阀门有限公司",
                    credit_code="91330110MA2B3C4D5E",
                    region_code="330110",
                    industry_division="34",
                    employees=420,
                    size_class="medium",
                    above_scale=True,
                    founded_on=dt.date(2008, 5, 12),
                )
                db.session.add_all([user, firm])
                db.session.flush()
                db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
                before = sample.create_assessment(firm.id, seed=3, level=0.4, as_of=dt.date(2025, 11, 20))
                current = sample.create_assessment(
                    firm.id, seed=7, level=0.55, round=2, previous_id=before.id, user_id=user.id
                )
                db.session.commit()
                assessment_id, firm_id = current.id, firm.id
                preparer = services.Preparer(name=user.name, org_kind="firm")

            render.warm_up()
            real_render_pdf = services.render_pdf
            last: list[render.Rendered] = []

            def spy(html: str, assets: dict[str, Asset]) -> render.Rendered:
                last.append(real_render_pdf(html, assets))
                return last[-1]

            services.render_pdf = spy  # type: ignore[assignment]
            full, full_cpu, alone, alone_cpu, cached = [], [], [], [], []
            pages, size, pdf = 0, 0, b""
            with app.test_request_context(), tenancy.bypass():
                for i in range(args.rounds + 1):  # the first round warms up and is not counted
                    shutil.rmtree(tmp / "cache", ignore_errors=True)
                    c0, t0 = time.process_time(), time.perf_counter()
                    inputs = services.load_inputs(assessment_id, preparer=preparer)
                    assert inputs is not None
                    report = services.get_report(inputs, args.lang, "pdf")
                    t1, c1 = time.perf_counter(), time.process_time()
                    assert not report.cached
                    worker_cpu = last[-1].cpu_seconds

                    data = services.assemble(inputs, args.lang)
                    html = services.render_html(data, kind="pdf")
                    assets = static_assets()
                    c2, t2 = time.process_time(), time.perf_counter()
                    rendered = render.render_in_process(html, assets)
                    t3, c3 = time.perf_counter(), time.process_time()

                    t4 = time.perf_counter()
                    again_inputs = services.load_inputs(assessment_id, preparer=preparer)
                    assert again_inputs is not None
                    again = services.get_report(again_inputs, args.lang)
                    t5 = time.perf_counter()
                    assert again.cached and again.content == report.content
                    if i:
                        full.append(t1 - t0)
                        full_cpu.append(c1 - c0 + worker_cpu)  # this process and the render worker
                        alone.append(t3 - t2)
                        alone_cpu.append(c3 - c2)
                        cached.append((t5 - t4) * 1000)
                    pages, size, pdf = rendered.pages, len(report.content), report.content
            db.session.rollback()

        # the cached PDF through the app: sign in, ask once (rendered), then time the cached answers
        client = app.test_client()
        signin = client.post("/account/signin", data={"email": "bench@example.cn", "password": PASSWORD})
        assert signin.status_code == 302, signin.status_code
        url = f"/firms/{firm_id}/assessments/{assessment_id}/report.pdf?lang={args.lang}"
        assert client.get(url).status_code == 200
        http_cached = []
        for _ in range(20):
            t6 = time.perf_counter()
            r = client.get(url)
            http_cached.append((time.perf_counter() - t6) * 1000)
            assert r.status_code == 200 and r.data.startswith(b"%PDF")
        render.shutdown()
        if args.keep:
            Path(args.keep).write_bytes(pdf)

        m_full, m_alone, m_cached = (
            statistics.median(full),
            statistics.median(alone),
            statistics.median(cached),
        )
        ratio = m_full / m_alone
        cpu_full, cpu_alone = statistics.median(full_cpu), statistics.median(alone_cpu)
        kb = size / 1024

        def verdict(ok: bool) -> str:
            return "goal met" if ok else "GOAL MISSED"

        print(f"standard report: performance-excellence, full mode, {args.lang}; {pages} pages; {kb:.0f} KB")
        print(
            f"reports.pdf median {m_full:.3f} s (min {min(full):.3f}, max {max(full):.3f}, n={len(full)})"
            f"  [goal <= {GOAL_REPORT_S} s: {verdict(m_full <= GOAL_REPORT_S)}]"
        )
        print(f"weasyprint.alone median {m_alone:.3f} s (the same final HTML, in this process)")
        print(
            f"ratio report / weasyprint alone {ratio:.2f}x  [goal <= {GOAL_RATIO}x: {verdict(ratio <= GOAL_RATIO)}]"
        )
        print(
            f"cpu time: report {cpu_full:.3f} s (this process + the render worker), weasyprint alone"
            f" {cpu_alone:.3f} s, ratio {cpu_full / cpu_alone:.2f}x"
        )
        print(
            f"reports.cached median {m_cached:.1f} ms  [goal <= {GOAL_CACHED_MS:.0f} ms: {verdict(m_cached <= GOAL_CACHED_MS)}]"
        )
        m_http = statistics.median(http_cached)
        print(
            f"reports.cached_http median {m_http:.1f} ms (GET report.pdf through the app, signed in)"
            f"  [goal <= {GOAL_CACHED_MS:.0f} ms: {verdict(m_http <= GOAL_CACHED_MS)}]"
        )
        print(f"pdf size {kb:.0f} KB  [goal <= {GOAL_KB} KB: {verdict(kb <= GOAL_KB)}]")
        print(f"pages {pages}  [goal >= {GOAL_PAGES}: {verdict(pages >= GOAL_PAGES)}]")
        load = os.getloadavg()[0]
        print(f"machine: load average {load:.1f} on {os.cpu_count()} CPUs (timings stretch when it is busy)")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
