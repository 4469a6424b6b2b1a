"""Every download carries a Content-Disposition any server passes on: pure ASCII, RFC 6266, with
the real (Chinese) file name in `filename*=UTF-8''...` (RFC 5987). gunicorn drops a response whose
header holds raw UTF-8 ("Invalid HTTP Header"), so the test client alone would not notice."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from webapp import ROOT, db, tenancy
from webapp.api import tokens as token_service
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Evidence, User
from webapp.reports import sample
from webapp.util import ascii_filename, content_disposition

FIRM = "杭州“精工”阀门有限公司"


@pytest.fixture(autouse=True)
def _own_cache(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_CACHE_DIR", str(tmp_path / "report-cache"))


def assert_good_disposition(header: str, filename: str) -> None:
    """Latin-1 safe (in fact ASCII); the ASCII fallback quoted; a strict parser gets the real name
    back; a non-ASCII name is there percent-encoded as UTF-8."""
    header.encode("ascii")  # raises on any raw non-ASCII character (and so would gunicorn)
    fallback = r'attachment; filename="[A-Za-z0-9 ._()+-]+"'
    encoded = r"; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]+"
    assert re.fullmatch(f"{fallback}({encoded})?", header), header
    assert filename.isascii() or "; filename*=UTF-8''" in header
    kind, params = parse_options_header(header)
    assert kind == "attachment" and params["filename"] == filename
    for chinese in re.findall(r"[\u4e00-\u9fff]+", filename):
        assert quote(chinese) in header


def test_the_helper_writes_rfc_6266_headers():
    for name in [
        f"{FIRM}-pzb-R1-zh.pdf",
        "Café Müller.pdf",
        'a "b";c\r\n.zip',
        "证据.docx",
        "报告",
        "100%.pdf",
    ]:
        assert_good_disposition(content_disposition(name), name)
    assert (
        content_disposition("qready-reports-2026-12-01.zip")
        == 'attachment; filename="qready-reports-2026-12-01.zip"'
    )
    assert ascii_filename(f"{FIRM}-pzb-R1-zh.pdf") == "pzb-R1-zh.pdf"
    assert ascii_filename("证据.docx") == "download.docx"
    assert ascii_filename("Café Müller.pdf") == "Cafe Muller.pdf"


@pytest.fixture
def world(app, dbconn, create_user, create_firm) -> dict[str, Any]:
    from webapp.models import Consultancy, ConsultancyGrant, Membership

    owner = create_user(email="owner@downloads.cn", name="王丽")
    consultant = create_user(email="consultant@downloads.cn", name="陈明")
    firm = create_firm(FIRM, owner=owner)
    with app.app_context(), tenancy.bypass():
        c = Consultancy(name="浙江卓越质量管理咨询有限公司", code="DLOAD1")
        db.session.add(c)
        db.session.flush()
        db.session.add(Membership(user_id=consultant.id, consultancy_id=c.id, role="consultant"))
        db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=owner.id)
        _row, token = token_service.create(db.session.get(User, owner.id), "test")
        db.session.commit()
        return {"owner": owner, "consultant": consultant, "firm": firm.id, "aid": a.id, "token": token}


def test_the_report_pdf_of_a_firm_with_a_chinese_name(client, login, world):
    login(client, world["owner"])
    r = client.get(f"/firms/{world['firm']}/assessments/{world['aid']}/report.pdf?lang=zh")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert_good_disposition(r.headers["Content-Disposition"], f"{FIRM}-chief-quality-officer-R1-zh.pdf")


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_the_api_report_of_a_firm_with_a_chinese_name(client, world, fmt):
    r = client.get(
        f"/api/v1/assessments/{world['aid']}/report?format={fmt}&lang=en",
        headers={"Authorization": f"Bearer {world['token']}"},
    )
    assert r.status_code == 200
    assert_good_disposition(r.headers["Content-Disposition"], f"{FIRM}-chief-quality-officer-R1-en.{fmt}")


def test_an_evidence_file_with_a_chinese_name(app, client, login, world):
    login(client, world["owner"])
    r = client.post(f"/firms/{world['firm']}/assessments", data={"framework": "pinzibiao"})
    assert r.status_code == 303, r.data
    base = r.headers["Location"].split("/sections")[0].rstrip("/")
    base = re.match(r".*/assessments/\d+", base).group(0)
    r = client.post(
        f"{base}/evidence",
        data={"item": "pzb-certified", "file": (io.BytesIO(pdf_bytes("证书")), "品字标 证书（2026）.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code < 400, r.get_data(as_text=True)[:500]
    with app.app_context(), tenancy.bypass():
        ev = db.session.scalar(select(Evidence).where(Evidence.filename == "品字标 证书（2026）.pdf"))
    d = client.get(f"{base}/evidence/{ev.id}")
    assert d.status_code == 200 and d.data.startswith(b"%PDF")
    assert_good_disposition(d.headers["Content-Disposition"], "品字标 证书（2026）.pdf")


def test_the_bulk_zip(app, client, login, world):
    from webapp import dbqueue

    login(client, world["consultant"])
    r = client.post(
        "/consultant/reports", data={"assessment": [world["aid"]], "lang": "zh", "format": "html"}
    )
    assert r.status_code == 302  # queued; a worker builds the zip
    job_id = r.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        assert dbqueue.work_one()
    d = client.get(f"/consultant/reports/jobs/{job_id}/download")
    assert d.status_code == 200 and d.mimetype == "application/zip"
    assert d.headers["Content-Disposition"] == f'attachment; filename="qready-reports-{job_id[:8]}.zip"'
    with zipfile.ZipFile(io.BytesIO(d.data)) as zf:
        assert any(n.startswith(f"{FIRM}/") for n in zf.namelist())


def test_every_download_goes_through_the_one_helper():
    """No `send_file` or hand-built Content-Disposition anywhere but webapp/util.py."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "webapp").rglob("*.py")
        if path.name != "util.py" or path.parent.name != "webapp"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bsend_file\b|Content-Disposition|download_name", line)
    ]
    assert offenders == []


# ---- through a real gunicorn ------------------------------------------------------------------------

SETUP = """
import os, random
from alembic import command
from webapp import create_app, db, tenancy
from webapp.api import tokens
from webapp.commands.db import alembic_config
from webapp.models import Firm, Membership, User
from webapp.refdata import credit_code
from webapp.reports import sample

app = create_app()
with app.app_context():
    command.upgrade(alembic_config(os.environ["DATABASE_URL"]), "head")
    with tenancy.bypass():
        user = User(email="owner@gunicorn.cn", name="王丽", password_hash="x", locale="zh")
        firm = Firm(name=os.environ["FIRM"], credit_code=credit_code.generate(random.Random(7), "330106"),
                    region_code="330106", industry_division="34", employees=120, size_class="small")
        db.session.add_all([user, firm])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
        a = sample.create_assessment(firm.id, "chief-quality-officer", mode="default", user_id=user.id)
        _row, token = tokens.create(user, "gunicorn")
        db.session.commit()
        print(a.id, token)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_api_report_arrives_through_gunicorn(tmp_path):
    """The download the real server dropped ("Invalid HTTP Header"): through gunicorn, end to end."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "QREADY_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "gunicorn-test-secret",
        "FIRM": FIRM,
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr
    aid, token = setup.stdout.split()[-2:]
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=60) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/api/v1/frameworks")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                    time.sleep(0.3)
            r = http.get(
                f"/api/v1/assessments/{aid}/report?format=pdf&lang=zh",
                headers={"Authorization": f"Bearer {token}"},
            )
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        assert_good_disposition(r.headers["Content-Disposition"], f"{FIRM}-chief-quality-officer-R1-zh.pdf")
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert "Invalid HTTP Header" not in err, err
