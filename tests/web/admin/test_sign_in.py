"""The admin's door: closed without sign-in, the password form, CSRF, expiry, safe redirects."""

from __future__ import annotations

import re

from arena.web.admin import auth
from tests.web.admin.conftest import PASSWORD, AdminClient, csrf_token, sign_in


def _admin_urls(app) -> list[tuple[str, str]]:
    """(method, url) of every admin route but the sign-in page, with placeholder values."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.login":
            continue
        values = {
            name: 1 if type(conv).__name__ == "IntegerConverter" else "fantasy-warrior"
            for name, conv in rule._converters.items()
        }
        url = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_admin_every_page_is_closed_without_sign_in(admin_app, seeded):
    client = admin_app.test_client()
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    urls = _admin_urls(admin_app)
    assert ("GET", "/admin/") in urls and ("POST", "/admin/snapshots") in urls
    assert len(urls) >= 20
    for method, url in urls:
        for headers in ({}, {"Accept": "application/json"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(url, method=method, data=data, headers=headers)
            assert response.status_code == 303, (method, url)
            location = response.headers["Location"]
            assert location.startswith("/admin/login"), (method, url)
            if method == "GET":
                assert f"next={url}" in location.replace("%2F", "/")
            body = response.get_data(as_text=True)
            assert "Fantasy Warrior" not in body and "fantasy-warrior" not in body.split("href")[0]
            assert "csrf_token" not in body
        htmx = client.open(url, method=method, data=data, headers={"HX-Request": "true"})
        assert htmx.status_code == 401, (method, url)
        assert htmx.headers["HX-Redirect"].startswith("/admin/login")
        assert htmx.get_data() == b""


def test_admin_unknown_page_is_a_plain_404(admin_app):
    response = admin_app.test_client().get("/admin/no-such-page")
    assert response.status_code == 404


def test_admin_sign_in_with_the_password_opens_the_dashboard(admin_app):
    client = admin_app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    assert '<label for="f-password">' in page and 'name="password"' in page
    assert "The admin is disabled" not in page
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert "Dashboard" in dashboard.get_data(as_text=True)
    assert dashboard.headers["Cache-Control"] == "no-store"
    assert "noindex" in dashboard.headers["X-Robots-Tag"]


def test_admin_wrong_password_is_refused_with_401(admin_app):
    client = admin_app.test_client()
    response = sign_in(client, "not the password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "That password is not right" in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="f-password-error"' in html
    assert client.get("/admin/").status_code == 303
    assert sign_in(client, "").status_code == 401


def test_admin_sign_in_without_csrf_token_is_refused(admin_app):
    client = admin_app.test_client()
    client.get("/admin/login")
    response = client.post("/admin/login", data={"password": PASSWORD})
    assert response.status_code == 400
    assert "csrf_token" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 303


def test_admin_sign_out_ends_the_session(admin):
    assert admin.get("/admin/").status_code == 200
    response = admin.post("/admin/logout")
    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/login")
    assert "You are signed out" in admin.client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert admin.get("/admin/").status_code == 303


def test_admin_logout_needs_a_csrf_token(admin):
    assert admin.client.post("/admin/logout").status_code == 400
    assert admin.get("/admin/").status_code == 200


def test_admin_without_a_password_refuses_every_sign_in(app):
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "off"
    client = app.test_client()
    for password in (None, ""):
        app.config["ADMIN_PASSWORD"] = password
        page = client.get("/admin/login").get_data(as_text=True)
        assert "The admin is disabled" in page and "ARENA_ADMIN_PASSWORD" in page
        for guess in ("", "None", PASSWORD):
            response = sign_in(client, guess)
            assert response.status_code == 403
            assert "disabled" in response.get_data(as_text=True)
        assert client.get("/admin/").status_code == 303


def test_admin_sign_in_never_redirects_off_site(admin_app):
    targets = [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/\\evil.example",
        "javascript:alert(1)",
        "admin/models",
        "/admin/\r\nSet-Cookie: x=1",
    ]
    for target in targets:
        client = admin_app.test_client()
        response = sign_in(client, next=target)
        assert response.status_code == 303, target
        assert response.headers["Location"] == "/admin/", target


def test_admin_sign_in_returns_to_the_page_asked_for(admin_app):
    client = admin_app.test_client()
    first = client.get("/admin/models?q=flux")
    assert first.headers["Location"] == "/admin/login?next=/admin/models?q%3Dflux"
    login = client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/admin/models?q=flux"' in login
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_token(login),
            "password": PASSWORD,
            "next": "/admin/models?q=flux",
        },
    )
    assert response.headers["Location"] == "/admin/models?q=flux"


def test_admin_sign_in_lapses_after_12_hours(admin, monkeypatch):
    real_now = auth.now()
    monkeypatch.setattr(auth, "now", lambda: real_now + 11.9 * 3600)
    assert admin.get("/admin/").status_code == 200
    monkeypatch.setattr(auth, "now", lambda: real_now + 12.1 * 3600)
    assert admin.get("/admin/").status_code == 303


def test_admin_new_password_ends_every_sign_in(admin, admin_app):
    admin_app.config["ADMIN_PASSWORD"] = "a brand new password"
    assert admin.get("/admin/").status_code == 303


def test_admin_sign_in_attempts_are_rate_limited_per_address(admin_app):
    admin_app.config["ADMIN_LOGIN_RATE_LIMIT"] = "3/minute"
    client = admin_app.test_client()
    for _ in range(3):
        assert sign_in(client, "guess").status_code == 401
    blocked = sign_in(client, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers
    other = admin_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert sign_in(other, PASSWORD).status_code == 303
    # Looking at the form is not an attempt.
    assert client.get("/admin/login").status_code == 200


def test_admin_link_in_the_main_nav_only_when_signed_in(admin_app):
    client = admin_app.test_client()
    assert ">Admin</a>" not in client.get("/").get_data(as_text=True)
    AdminClient(client)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<a href="/admin/"[^>]*>Admin</a>', home)
