"""Account changes that must be kept, tried with a database that really commits (no outer transaction
to hide a change that was never written): a firm user's password, name and language. On PostgreSQL
the signed-in user of a request that made no SQLAlchemy session of its own used to be attached to
none, so these changes were acknowledged and then lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from tests.conftest import PASSWORD
from webapp import db, tenancy
from webapp.auth.util import hash_password
from webapp.models import Firm, Membership, User

pytestmark = pytest.mark.db

EMAIL = "committed-account@example.cn"


@pytest.fixture
def firm_user(app: Any) -> Iterator[Any]:
    """A committed firm owner (not in a consultancy) signed in on a test client; removed afterwards."""
    import random

    from webapp.refdata import credit_code

    with app.app_context(), tenancy.bypass():
        user = User(
            email=EMAIL,
            name="提交 Owner",
            password_hash=hash_password(PASSWORD),
            email_verified_at=db.utcnow(),
            locale="zh",
        )
        firm = Firm(
            name="杭州提交测试有限公司",
            credit_code=credit_code.generate(random.Random(23), "330106"),
            region_code="330106",
            industry_division="34",
            employees=50,
            size_class="small",
        )
        db.session.add_all([user, firm])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, firm_id=firm.id, role="owner"))
        db.session.commit()
        ids = (user.id, firm.id)
    client = app.test_client()
    try:
        r = client.post("/account/signin", data={"email": EMAIL, "password": PASSWORD})
        assert r.status_code == 302
        yield client
    finally:
        with app.app_context(), tenancy.bypass():
            db.session.execute(delete(Firm).where(Firm.id == ids[1]))
            db.session.execute(delete(User).where(User.id == ids[0]))
            db.session.commit()


def _stored(app: Any) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        assert user is not None
        return user


def test_a_firm_users_new_password_is_kept(app, firm_user):
    new = "a-brand-new-password-2026"
    r = firm_user.post(
        "/account/password",
        data={"pw-current": PASSWORD, "pw-password": new, "pw-confirm": new},
    )
    assert r.status_code == 302, r.data
    fresh = app.test_client()
    assert fresh.post("/account/signin", data={"email": EMAIL, "password": PASSWORD}).status_code != 302
    assert fresh.post("/account/signin", data={"email": EMAIL, "password": new}).status_code == 302


def test_a_firm_users_name_and_language_are_kept(app, firm_user):
    r = firm_user.post("/account/settings", data={"name": "Renamed Owner", "locale": "en"})
    assert r.status_code == 302, r.data
    stored = _stored(app)
    assert (stored.name, stored.locale) == ("Renamed Owner", "en")
    page = firm_user.get("/account/settings")
    assert 'value="Renamed Owner"' in page.get_data(as_text=True)
