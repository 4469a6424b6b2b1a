"""Tenancy fails closed: a firm's user can neither read nor change another firm's rows, through any
route; with no firm in context the ORM finds nothing; a write outside the context is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from webapp import db, tenancy
from webapp.models import Firm, Membership


def _dump(app, firm_id):
    """Everything stored about a firm, to compare before and after."""
    with app.app_context(), tenancy.bypass():
        firm = db.session.get(Firm, firm_id)
        members = db.session.execute(
            select(Membership.user_id, Membership.role)
            .where(Membership.firm_id == firm_id)
            .order_by(Membership.id)
        ).all()
        return {c.name: getattr(firm, c.name) for c in Firm.__table__.columns}, members


def _fill(rule, firm_id):
    values = {"firm_id": firm_id, "membership_id": 1, "grant_id": 1, "token": "x", "lang": "zh"}
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(values.get(arg, 1)), url)
    return url


def test_no_route_reads_or_changes_another_firms_rows(app, create_user, create_firm, login):
    mine_owner = create_user()
    create_firm("我的企业", owner=mine_owner)
    other = create_firm("别人的企业", owner=create_user(), region="330203")
    before = _dump(app, other.id)
    client = login(app.test_client(), mine_owner)
    # The API's own routes are checked with tokens in tests/test_api.py and tests/test_access_matrix.py.
    firm_rules = [
        r for r in app.url_map.iter_rules() if "firm_id" in r.arguments and not r.rule.startswith("/api/")
    ]
    assert len(firm_rules) >= 8
    for rule in firm_rules:
        url = _fill(rule, other.id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(
                url,
                method=method,
                data={"name": "hacked", "email": "x@example.cn", "role": "owner", "code": "ZJQC2026"},
            )
            assert r.status_code == 404, (method, url, r.status_code)
            assert "别人的企业" not in r.get_data(as_text=True)
    assert _dump(app, other.id) == before


def test_no_context_finds_nothing(app, create_firm, create_user):
    create_firm(owner=create_user())
    with app.app_context():
        assert db.session.scalars(select(Firm)).all() == []
        assert db.session.get(Firm, 1) is None
        with tenancy.bypass():
            assert len(db.session.scalars(select(Firm)).all()) == 1


def test_context_limits_reads_and_bulk_updates(app, create_firm, create_user):
    a = create_firm("甲", owner=create_user())
    b = create_firm("乙", owner=create_user())
    with app.app_context():
        tenancy.set_context(tenancy.TenantContext(roles={a.id: "owner"}))
        assert [f.name for f in db.session.scalars(select(Firm))] == ["甲"]
        db.session.execute(update(Firm).values(name="改"))
        db.session.commit()
    with app.app_context(), tenancy.bypass():
        assert db.session.get(Firm, a.id).name == "改"
        assert db.session.get(Firm, b.id).name == "乙"


def test_write_outside_context_is_refused(app, create_firm, create_user):
    a = create_firm("甲", owner=create_user())
    b = create_firm("乙", owner=create_user())
    with app.app_context():
        with tenancy.bypass():
            firm_b = db.session.get(Firm, b.id)
        tenancy.set_context(tenancy.TenantContext(roles={a.id: "owner"}))
        firm_b.name = "改"
        with pytest.raises(tenancy.TenancyError):
            db.session.flush()
        db.session.rollback()


def test_joins_and_subqueries_through_a_firm_are_filtered_too(app, create_firm, create_user):
    from webapp.models import User

    owner = create_user()
    create_firm(owner=owner)
    joined = (
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .join(Firm, Firm.id == Membership.firm_id)
    )
    nested = select(User.email).where(
        User.id.in_(select(Membership.user_id).join(Firm, Firm.id == Membership.firm_id))
    )
    with app.app_context():
        assert db.session.execute(joined).all() == []
        assert db.session.execute(nested).all() == []
        assert db.session.get(User, owner.id) is not None  # no firm-owned table: not filtered
        with tenancy.bypass():
            assert len(db.session.execute(joined).all()) == 1
            assert len(db.session.execute(nested).all()) == 1
