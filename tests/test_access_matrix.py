"""Every URL rule of the app (UI and API), against every role — anonymous, firm owner / editor /
viewer, consultant, regulator, admin, another firm's owner — and against another firm's objects.

The expected answer comes from the rule each view declares (`webapp.access`, `webapp.api.access`);
a view without a rule fails `tests/test_routes.py`, so a new route cannot ship unguarded."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp import db, tenancy
from webapp.access import FIRM_ROLE_RANK, rule_of
from webapp.api import tokens as token_service
from webapp.models import (
    Assessment,
    Consultancy,
    ConsultancyGrant,
    Evidence,
    Membership,
    Regulator,
    User,
)

ROLES = ("anonymous", "owner", "editor", "viewer", "consultant", "regulator", "admin", "outsider")
FIRM_ROLE = {"owner": "owner", "editor": "editor", "viewer": "viewer", "consultant": "consultant"}
# URL arguments that name no real object in this test: an allowed caller may still get 404 for them.
SECTION, ITEM = "basic", "pzb-certified"
# Endpoints whose form names an object: with the empty form of this test, "not found" is their answer.
BODY_404 = {"orgs.switch"}
DUMMY_ARGS = {"token", "job_id", "token_id", "grant_id", "invitation_id", "user_id", "action_id"}


@pytest.fixture
def world(app, dbconn, create_user, create_firm):
    users = {r: create_user(email=f"{r}@matrix.cn") for r in ROLES if r != "anonymous"}
    firm = create_firm(
        "矩阵企业", owner=users["owner"], members={"editor": users["editor"], "viewer": users["viewer"]}
    )
    other = create_firm("别家企业", owner=users["outsider"], region="330203")
    with app.app_context(), tenancy.bypass():
        db.session.get(User, users["admin"].id).is_platform_admin = True
        c = Consultancy(name="矩阵咨询", code="MATRIX1")
        r = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
        db.session.add_all([c, r])
        db.session.flush()
        db.session.add(Membership(user_id=users["consultant"].id, consultancy_id=c.id, role="owner"))
        db.session.add(Membership(user_id=users["regulator"].id, regulator_id=r.id, role="owner"))
        db.session.add(ConsultancyGrant(firm_id=firm.id, consultancy_id=c.id))
        mine = Assessment(
            firm_id=firm.id, framework_id="pinzibiao", framework_version="1.0.0", mode="default"
        )
        theirs = Assessment(
            firm_id=other.id, framework_id="pinzibiao", framework_version="1.0.0", mode="default"
        )
        db.session.add_all([mine, theirs])
        db.session.flush()
        ev = Evidence(
            firm_id=firm.id,
            assessment_id=mine.id,
            item_id=ITEM,
            filename="a.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            storage_key="matrix-test-key",
        )
        db.session.add(ev)
        membership = db.session.scalar(select(Membership.id).where(Membership.user_id == users["viewer"].id))
        tokens = {}
        for role, u in users.items():
            _row, tokens[role] = token_service.create(db.session.get(User, u.id), "matrix")
        db.session.commit()
        args = {
            "firm_id": firm.id,
            "assessment_id": mine.id,
            "evidence_id": ev.id,
            "membership_id": membership,
            "section_id": "basic",
            "item_id": ITEM,
            "framework_id": "pinzibiao",
            "lang": "zh",
            "token": "x",
            "job_id": "nope",
            "token_id": 999999,
            "grant_id": 999999,
            "invitation_id": 999999,
            "user_id": 999999,
            "action_id": 999999,
        }
        return {"users": users, "tokens": tokens, "args": args, "theirs": theirs.id}


def _url(rule, args):
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(args[arg]), url)
    return url


def _expect(rule_name, role, method):
    """(allowed?, the status a refused caller gets)."""
    kind, _, rest = rule_name.partition(":")
    if kind == "public":
        return True, None
    if kind == "token":
        if role == "anonymous":
            return False, 401
        if not rest:
            return True, None
        if rest == "regulator":
            return (True, None) if role == "regulator" else (False, 403)
        minimum = rest.split(":")[1]
        return _firm_expect(role, minimum)
    if role == "anonymous":
        return False, 302
    if kind == "authed":
        return True, None
    if kind == "admin":
        return (True, None) if role == "admin" else (False, 403)
    if kind == "firm":
        read, _, write = rest.partition("/")
        return _firm_expect(role, write if write and method not in ("GET", "HEAD") else read)
    if kind == "client":  # a consultancy working for a client with an edit grant: the firm's people 403
        if role == "consultant":
            return True, None
        return (False, 403) if role in FIRM_ROLE else (False, 404)
    if kind in ("consultancy", "regulator", "firm-kind"):
        wanted = {"consultancy": "consultant", "regulator": "regulator"}[kind]
        return (True, None) if role == wanted else (False, 403)
    raise AssertionError(f"unknown rule {rule_name}")


def _firm_expect(role, minimum):
    firm_role = FIRM_ROLE.get(role)
    if firm_role is None:
        return False, 404
    if FIRM_ROLE_RANK[firm_role] < FIRM_ROLE_RANK[minimum]:
        return False, 403
    return True, None


def _client(app, world, role, api):
    client = app.test_client()
    headers = {}
    if role == "anonymous":
        return client, headers
    if api:
        headers["Authorization"] = f"Bearer {world['tokens'][role]}"
    else:
        r = client.post(
            "/account/signin", data={"email": f"{role}@matrix.cn", "password": "correct-horse-battery"}
        )
        assert r.status_code == 302
    return client, headers


def test_every_route_against_every_role(app, dbconn, world):
    failures = []
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        name = rule_of(app.view_functions[rule.endpoint])
        assert name, rule.rule
        api = rule.rule.startswith("/api/")
        url = _url(rule, world["args"])
        has_dummy = bool(set(rule.arguments) & DUMMY_ARGS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                allowed, refused = _expect(name, role, method)
                client, headers = _client(app, world, role, api)
                nested = dbconn.begin_nested()
                try:
                    r = client.open(
                        url,
                        method=method,
                        headers=headers,
                        json={} if api else None,
                        data=None if api else {},
                    )
                finally:
                    nested.rollback()
                checked += 1
                status = r.status_code
                r.close()  # a file sent as it is read (a firm's export) is closed with its response
                if allowed:
                    bad = {401, 403} | (set() if has_dummy or rule.endpoint in BODY_404 else {404})
                    to_signin = status == 302 and "/account/signin" in r.headers.get("Location", "")
                    if status in bad or (to_signin and name != "public"):
                        failures.append(f"{role} {method} {url} [{name}] -> {status}, should be allowed")
                elif refused == 302:
                    if not (status == 302 and "/account/signin" in r.headers.get("Location", "")):
                        failures.append(f"{role} {method} {url} [{name}] -> {status}, should ask to sign in")
                elif status != refused:
                    failures.append(f"{role} {method} {url} [{name}] -> {status}, should be {refused}")
    assert checked > 300
    assert failures == [], "\n".join(failures)


def test_another_firms_objects_through_my_firms_urls(app, dbconn, world):
    """The owner of the firm, asking for the other firm's assessment under their own firm's URL."""
    failures = []
    args = dict(world["args"], assessment_id=world["theirs"])
    for rule in app.url_map.iter_rules():
        if "assessment_id" not in rule.arguments:
            continue
        api = rule.rule.startswith("/api/")
        url = _url(rule, args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            client, headers = _client(app, world, "owner", api)
            nested = dbconn.begin_nested()
            try:
                r = client.open(
                    url, method=method, headers=headers, json={} if api else None, data=None if api else {}
                )
            finally:
                nested.rollback()
            if r.status_code != 404:
                failures.append(f"{method} {url} -> {r.status_code}")
    assert failures == [], "\n".join(failures)
