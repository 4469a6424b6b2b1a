"""schemathesis against the OpenAPI document, a bounded number of examples per operation: no 5xx,
and every response matches the document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from webapp import db
from webapp.api import tokens as token_service
from webapp.models import User


@pytest.fixture
def api_schema(app, dbconn, create_user, create_firm):
    owner = create_user()
    firm = create_firm(owner=owner)
    with app.app_context():
        _row, token = token_service.create(db.session.get(User, owner.id), "fuzz")
        db.session.commit()
    client = app.test_client()
    made = client.post(
        f"/api/v1/firms/{firm.id}/assessments",
        json={"framework": "pinzibiao"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    app.config["FUZZ_TOKEN"] = token
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, app):
    case.call_and_validate(headers={"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"})
