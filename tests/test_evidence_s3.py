"""Evidence kept in an S3-compatible bucket: moto's S3 server on a loopback port stands in for AWS, MinIO
or OSS. The store by itself (put, get, delete, a missing key, bad keys), the configuration that selects
it, and the questionnaire's evidence routes with it: upload, download only for the firm, removal."""

from __future__ import annotations

import copy
import functools
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from flask import Flask
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from webapp import config, db, tenancy
from webapp.commands.demo.assessments import pdf_bytes
from webapp.models import Evidence
from webapp.questionnaire import storage

KEY_ID = "qready-test-key"
SECRET = "qready-test-secret"


@pytest.fixture(autouse=True)
def _no_storage_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests say what they configure: nothing from the shell that runs them."""
    for var in config.ENV_VARS:
        if var == "EVIDENCE_STORAGE" or var.startswith("S3_"):
            monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # port 0: a free one
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3_bucket(s3_endpoint: str) -> str:
    name = f"qready-{uuid.uuid4().hex[:12]}"
    observer(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_config(s3_endpoint: str, s3_bucket: str) -> dict[str, Any]:
    """The config keys that select the bucket, emptied for each test."""
    cfg = {
        "EVIDENCE_STORAGE": "s3",
        "S3_BUCKET": s3_bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": KEY_ID,
        "S3_SECRET_ACCESS_KEY": SECRET,
        "S3_PREFIX": "evidence/",
    }
    for key in objects(cfg):
        observer(s3_endpoint).delete_object(Bucket=s3_bucket, Key=key)
    return cfg


@pytest.fixture(scope="module")
def _module_store(s3_endpoint: str, s3_bucket: str) -> storage.S3Store:
    return storage.S3Store(
        s3_bucket, access_key_id=KEY_ID, secret_access_key=SECRET, endpoint_url=s3_endpoint
    )


@pytest.fixture
def s3_store(_module_store: storage.S3Store, s3_config: dict[str, Any]) -> storage.S3Store:
    """One store for the unit tests (making a boto3 client takes half a second), on an empty bucket."""
    return _module_store


@functools.cache
def observer(endpoint: str) -> Any:
    """A client of our own, apart from the app's, to look into the bucket."""
    return boto3.session.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1"
    ).client("s3", endpoint_url=endpoint)


def bucket(cfg: dict[str, Any]) -> Any:
    return observer(cfg["S3_ENDPOINT_URL"])


def objects(cfg: dict[str, Any]) -> list[str]:
    listing = bucket(cfg).list_objects_v2(Bucket=cfg["S3_BUCKET"])
    return [o["Key"] for o in listing.get("Contents", [])]


# ---- the store ----------------------------------------------------------------------------------------


def test_put_get_delete(s3_store, s3_config):
    store = s3_store
    key = storage.new_key()
    data = pdf_bytes("质量手册")
    store.put(key, data)
    assert store.get(key) == data
    assert objects(s3_config) == [f"evidence/{key}"]
    head = bucket(s3_config).head_object(Bucket=s3_config["S3_BUCKET"], Key=f"evidence/{key}")
    assert head["ContentType"] == "application/octet-stream"
    store.put(key, b"second version")
    assert store.get(key) == b"second version"
    store.delete(key)
    assert objects(s3_config) == []
    store.delete(key)  # deleting what is not there is no error, as for a local file


def test_a_copy_is_an_object_of_its_own(s3_store, s3_config):
    """A new round's copy of a file: removing either object leaves the other."""
    store = s3_store
    first, second = storage.new_key(), storage.new_key()
    data = pdf_bytes("上一轮的证书")
    store.put(first, data)
    storage.copy(store, first, second)
    assert sorted(objects(s3_config)) == sorted([f"evidence/{first}", f"evidence/{second}"])
    store.delete(second)
    assert store.get(first) == data
    storage.copy(store, first, second)
    store.delete(first)
    assert store.get(second) == data
    store.delete(second)
    with pytest.raises(FileNotFoundError):
        storage.copy(store, first, second)
    assert objects(s3_config) == []


def test_objects_are_private(s3_store, s3_config):
    store = s3_store
    key = storage.new_key()
    store.put(key, b"%PDF-private")
    acl = bucket(s3_config).get_object_acl(Bucket=s3_config["S3_BUCKET"], Key=f"evidence/{key}")
    grantees = [g["Grantee"] for g in acl["Grants"]]
    assert grantees and all(g["Type"] == "CanonicalUser" for g in grantees), grantees  # no AllUsers group


def test_missing_key_is_file_not_found(s3_store, s3_config):
    store = s3_store
    with pytest.raises(FileNotFoundError):
        store.get(storage.new_key())


def test_custom_prefix(s3_config):
    store = storage.S3Store.from_config({**s3_config, "S3_PREFIX": "qready/prod/"})
    key = storage.new_key()
    store.put(key, b"x")
    assert objects(s3_config) == [f"qready/prod/{key}"]
    assert store.get(key) == b"x"


@pytest.mark.parametrize(
    "key", ["", "../secret", "a/b", "a/../../b", "..", "key with space", "k%2Fk", "键", "a\x00b", "a.b"]
)
def test_bad_keys_are_refused_before_any_request(s3_store, s3_config, key):
    store = copy.copy(s3_store)
    store.client = None  # any request would fail with AttributeError, not the ValueError expected
    for call in (lambda: store.put(key, b"x"), lambda: store.get(key), lambda: store.delete(key)):
        with pytest.raises(ValueError, match="bad storage key"):
            call()
    assert objects(s3_config) == []


def test_a_missing_bucket_is_an_error_not_a_missing_file(s3_store):
    store = copy.copy(s3_store)
    store.bucket = "no-such-bucket-here"
    with pytest.raises(ClientError):
        store.get(storage.new_key())


# ---- the configuration --------------------------------------------------------------------------------


def test_environment_selects_s3(monkeypatch, tmp_path, s3_config):
    for k, v in s3_config.items():
        monkeypatch.setenv(k, v)
    cfg = config.load(str(tmp_path), {"SECRET_KEY": "x"})
    assert {k: cfg[k] for k in s3_config} == s3_config
    app = Flask("t")
    app.config.update(cfg)
    made = storage.store(app)
    assert isinstance(made, storage.S3Store) and made.bucket == s3_config["S3_BUCKET"]
    made.put("abc", b"through the environment")
    assert objects(s3_config) == ["evidence/abc"]


def test_defaults_stay_local(tmp_path):
    cfg = config.load(str(tmp_path), {"SECRET_KEY": "x"})
    assert cfg["EVIDENCE_STORAGE"] == "local" and cfg["S3_PREFIX"] == "evidence/"
    app = Flask("t", instance_path=str(tmp_path))
    app.config.update(cfg)
    assert isinstance(storage.store(app), storage.LocalStore)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"EVIDENCE_STORAGE": "s3"},
            "EVIDENCE_STORAGE=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY",
        ),
        (
            {"EVIDENCE_STORAGE": "s3", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"},
            "EVIDENCE_STORAGE=s3 needs S3_BUCKET:",
        ),
        ({"EVIDENCE_STORAGE": "s3", "S3_BUCKET": "b"}, "needs S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY"),
        ({"EVIDENCE_STORAGE": "gcs"}, "EVIDENCE_STORAGE must be 'local' or 's3', not 'gcs'"),
    ],
)
def test_misconfiguration_stops_start_up_naming_the_key(tmp_path, overrides, message):
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.load(str(tmp_path), {"SECRET_KEY": "x", **overrides})
    # and a running app whose config was changed afterwards fails at the first use, the same way
    app = Flask("t", instance_path=str(tmp_path))
    app.config.update(config.load(str(tmp_path), {"SECRET_KEY": "x"}))
    app.config.update(overrides)
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        storage.store(app)


# ---- through the questionnaire's routes ---------------------------------------------------------------


@pytest.fixture
def s3_app(app, s3_config, monkeypatch) -> Iterator[Flask]:
    """The test app with EVIDENCE_STORAGE=s3; its usual (local) store is back afterwards."""
    for k, v in s3_config.items():
        monkeypatch.setitem(app.config, k, v)
    saved = app.extensions.pop("qready.evidence", None)
    yield app
    app.extensions.pop("qready.evidence", None)
    if saved is not None:
        app.extensions["qready.evidence"] = saved


def start(client, firm_id: int) -> int:
    r = client.post(f"/firms/{firm_id}/assessments", data={"framework": "pinzibiao"})
    assert r.status_code == 303, r.data
    return int(re.search(r"/assessments/(\d+)/", r.headers["Location"]).group(1))


def upload(client, firm_id: int, aid: int, item: str, name: str, data: bytes):
    return client.post(
        f"/firms/{firm_id}/assessments/{aid}/evidence",
        data={"item": item, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def evidence_rows(app, aid: int) -> list[Evidence]:
    with app.app_context(), tenancy.bypass():
        return list(db.session.scalars(select(Evidence).where(Evidence.assessment_id == aid)))


def test_evidence_through_the_routes_lives_in_the_bucket(
    s3_app, s3_config, client, create_user, create_firm, login
):
    owner = create_user(name="王丽 Owner")
    firm = create_firm(owner=owner)
    login(client, owner)
    aid = start(client, firm.id)
    data = pdf_bytes("品字标 证书")

    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", data).status_code == 303
    (ev,) = evidence_rows(s3_app, aid)
    assert isinstance(storage.store(s3_app), storage.S3Store)
    # the object is really in the bucket, under the random key and nothing of the name
    assert objects(s3_config) == [f"evidence/{ev.storage_key}"]
    stored = bucket(s3_config).get_object(Bucket=s3_config["S3_BUCKET"], Key=f"evidence/{ev.storage_key}")
    assert stored["Body"].read() == data
    assert not list(Path(s3_app.instance_path).rglob(ev.storage_key))  # and not on the local disk

    # the owner downloads the same bytes, through the app
    r = client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}")
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "private, no-store"

    # another firm's user does not
    stranger = create_user()
    own = create_firm("宁波别家有限公司", owner=stranger, region="330203")
    other = s3_app.test_client()
    login(other, stranger)
    assert other.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}").status_code == 404
    assert other.get(f"/firms/{own.id}/assessments/{aid}/evidence/{ev.id}").status_code == 404
    assert other.post(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}/delete").status_code == 404
    assert objects(s3_config) == [f"evidence/{ev.storage_key}"]

    # removing it removes the object
    r = client.post(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}/delete")
    assert r.status_code == 303
    assert evidence_rows(s3_app, aid) == []
    assert objects(s3_config) == []
    assert client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}").status_code == 404


def test_a_refused_file_leaves_nothing_in_the_bucket(
    s3_app, s3_config, client, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    aid = start(client, firm.id)
    r = upload(client, firm.id, aid, "pzb-certified", "report.pdf", b"MZ\x90\x00" + b"\0" * 200)
    assert r.status_code == 303 and r.headers["Location"].endswith("#item-pzb-certified")
    assert evidence_rows(s3_app, aid) == [] and objects(s3_config) == []


def test_an_object_gone_from_the_bucket_is_gone_for_the_user(
    s3_app, s3_config, client, create_user, create_firm, login
):
    owner = create_user()
    firm = create_firm(owner=owner)
    login(client, owner)
    aid = start(client, firm.id)
    assert upload(client, firm.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("x")).status_code == 303
    (ev,) = evidence_rows(s3_app, aid)
    bucket(s3_config).delete_object(Bucket=s3_config["S3_BUCKET"], Key=f"evidence/{ev.storage_key}")
    assert client.get(f"/firms/{firm.id}/assessments/{aid}/evidence/{ev.id}").status_code == 410


def test_reports_bulk_zips_and_logos_live_in_the_bucket(s3_app, s3_config, dbconn, tmp_path, monkeypatch):
    """With S3, nothing a node renders or reads for reports is on its own disk: cached reports and bulk
    zips go to `report-cache/`, a consultancy's logo comes from `branding/<id>`."""
    from webapp.reports import services

    s3_app.extensions.pop("qready.buckets", None)
    monkeypatch.setattr(s3_app, "instance_path", str(tmp_path / "node"))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with s3_app.app_context():
        cache = services.report_cache()
        assert cache.get("ab12", "pdf") is None
        cache.put("ab12", "pdf", b"%PDF-1.7 cached")
        cache.put_bulk("job-1", b"PK zip")
        assert cache.get("ab12", "pdf") == b"%PDF-1.7 cached" and cache.get_bulk("job-1") == b"PK zip"
        assert services.branding_logo(7) is None
        bucket(s3_config).put_object(Bucket=s3_config["S3_BUCKET"], Key="branding/7", Body=png)
        assert services.branding_logo(7) == png
        bucket(s3_config).put_object(Bucket=s3_config["S3_BUCKET"], Key="branding/8", Body=b"<svg/>")
        assert services.branding_logo(8) is None  # not a PNG
    assert {"report-cache/ab12-pdf", "report-cache/bulk-job-1", "branding/7"} <= set(objects(s3_config))
    assert not (tmp_path / "node").exists()
    s3_app.extensions.pop("qready.buckets", None)
