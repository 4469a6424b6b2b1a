"""Every route declares an access rule; every form needs its CSRF token."""

from __future__ import annotations

import re

from webapp.access import rule_of


def test_every_route_declares_an_access_rule(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if rule_of(app.view_functions[rule.endpoint]) is None:
            missing.append(rule.rule)
    assert missing == []


def test_csrf_is_enforced_on_every_form(app, dbconn, create_user, create_firm, login):
    owner = create_user()
    firm = create_firm(owner=owner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        page = client.get("/account/signin").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post(
            "/account/signin",
            data={"email": owner.email, "password": "correct-horse-battery", "csrf_token": token},
        )
        assert r.status_code == 302  # with the token it works
        checked = 0
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.rule.startswith("/api/"):
                continue  # the API takes tokens, never cookies, so it needs no CSRF token
            url = rule.rule
            for arg in rule.arguments:
                url = re.sub(
                    rf"<(?:[a-z]+:)?{arg}>",
                    str(firm.id) if arg == "firm_id" else "zh" if arg == "lang" else "1",
                    url,
                )
            r = client.post(url, data={"name": "x"})
            assert r.status_code == 400, (url, r.status_code)
            checked += 1
        assert checked >= 12
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_favicon_is_linked_and_served(client):
    """Every page links the logo as its icon, and a browser asking /favicon.ico gets it (no 404)."""
    page = client.get("/account/signin").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page)
    assert icon and icon.group(1).endswith("/favicon.svg")
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith(icon.group(1))
    svg = client.get(icon.group(1))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<svg") and 'fill="#b3261e"' in svg.get_data(as_text=True)
    svg.close()
