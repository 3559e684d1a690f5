"""Admin fixtures: the admin password set, and a client that has signed in through the form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = _CSRF.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def sign_in(client: FlaskClient, password: str = PASSWORD, **extra: str) -> Any:
    """Fetch the sign-in page, then post its form with ``password``; returns the response."""
    page = client.get("/admin/login").get_data(as_text=True)
    return client.post(
        "/admin/login", data={"csrf_token": csrf_token(page), "password": password, **extra}
    )


class AdminClient:
    """A test client signed in to the admin; ``post`` adds the session's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        response = sign_in(client)
        assert response.status_code == 303, response.get_data(as_text=True)
        self.token = csrf_token(client.get("/admin/").get_data(as_text=True))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def page(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)


def _enable_admin(app: Flask) -> Flask:
    app.config["ADMIN_PASSWORD"] = PASSWORD
    # The sign-in limit has its own test; elsewhere it would only get in the way.
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "off"
    return app


@pytest.fixture
def admin_app(app: Flask) -> Flask:
    """The app with an admin password (empty tables)."""
    return _enable_admin(app)


@pytest.fixture
def admin(admin_app: Flask) -> AdminClient:
    """A signed-in admin on an empty database."""
    return AdminClient(admin_app.test_client())


@pytest.fixture
def seeded_admin(app: Flask, small_seeds) -> AdminClient:
    """A signed-in admin on the seeds (prompts shrunk to 96x64), no outputs yet."""
    from arena.services.seeding import load_seeds
    from arena.web.db import get_db

    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return AdminClient(_enable_admin(app).test_client())


@pytest.fixture
def voting_admin(voting_app: Flask) -> AdminClient:
    """A signed-in admin on ``voting_app`` (fantasy-warrior-ii has every output)."""
    return AdminClient(_enable_admin(voting_app).test_client())
