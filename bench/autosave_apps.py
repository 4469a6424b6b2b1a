"""The two reference apps of `bench_autosave.py`, served by gunicorn like the real one.

`floor`: a bare Flask endpoint that returns a constant, the most a Flask app on this machine can do.
`minimal`: a Flask endpoint that makes, with SQLAlchemy Core and no checks at all (no session, no
sign-in, no access rule, no version check, no validation, no scoring), the database writes of one
autosave: the answer's upsert and its history row, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import os

from flask import Flask, Response, request
from sqlalchemy import create_engine, text

floor = Flask("floor")


@floor.get("/")
def constant() -> Response:
    return Response("ok", mimetype="text/plain")


minimal = Flask("minimal")
_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/qready_bench_web")
_engine = create_engine(
    "postgresql+psycopg://" + _url.removeprefix("postgresql://"), pool_size=5, max_overflow=10
)

_UPSERT = text(
    "INSERT INTO answers (firm_id, assessment_id, item_id, value, version, updated_by_id, updated_at)"
    " VALUES (:firm, :a, :item, CAST(:value AS JSON), 1, :user, :now)"
    " ON CONFLICT (assessment_id, item_id) DO UPDATE SET value = excluded.value,"
    " version = answers.version + 1, updated_by_id = excluded.updated_by_id, updated_at = excluded.updated_at"
    " RETURNING version"
)
_HISTORY = text(
    "INSERT INTO answer_history (firm_id, assessment_id, item_id, old_value, new_value, version,"
    " changed_by_id, changed_at) VALUES (:firm, :a, :item, NULL, CAST(:value AS JSON), :version, :user, :now)"
)


@minimal.post("/write")
def write() -> Response:
    d = request.get_json()
    args = {
        "firm": d["firm"],
        "a": d["a"],
        "item": d["item"],
        "value": json.dumps(d["value"]),
        "user": d["user"],
        "now": dt.datetime.now(dt.UTC),
    }
    with _engine.begin() as conn:
        version = conn.execute(_UPSERT, args).scalar_one()
        conn.execute(_HISTORY, {**args, "version": version})
    return Response(json.dumps({"ok": True, "version": version}), mimetype="application/json")
