"""Generation from the admin: a background run, live progress from the DB, failures and retries."""

from __future__ import annotations

import re
import threading
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from arena import create_app
from arena.generation import registry
from arena.generation.base import ImageProvider, ImageRequest, ImageResult, ProviderError
from arena.models import Output, Provider
from arena.web.db import get_db
from tests.web.admin.conftest import AdminClient

SLUG = "fantasy-warrior-ii"
URL = f"/admin/competitions/{SLUG}/generation"
HTMX = {"HX-Request": "true"}


class _Scripted(ImageProvider):
    """A provider the test controls: fails while ``failing``, waits while ``gate`` is shut."""

    name = "scripted"
    offline = True
    failing: ClassVar[bool] = True
    gate: ClassVar[threading.Event | None] = None

    def generate(self, request: ImageRequest) -> ImageResult:
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if self.failing:
            raise ProviderError(self.name, "upstream returned 500", retryable=False)
        return ImageResult(
            data=b"\x89PNG fake", format="png", width=request.width, height=request.height
        )


@pytest.fixture
def scripted(seeded_admin, monkeypatch):
    """sdxl offered (through the admin) by the scripted provider only."""
    monkeypatch.setitem(registry._PROVIDERS, "scripted", _Scripted)
    monkeypatch.setattr(_Scripted, "failing", True)
    monkeypatch.setattr(_Scripted, "gate", None)
    app = seeded_admin.client.application
    with app.app_context(), get_db().session() as session:
        session.add(Provider(slug="scripted", name="Scripted"))
        session.commit()
    response = seeded_admin.post(
        "/admin/models/sdxl/offerings/new",
        {"provider": "scripted", "provider_model_id": "scripted-sdxl"},
    )
    assert response.status_code == 303
    return _Scripted


def _fragment(admin: AdminClient) -> str:
    response = admin.get(URL, headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    return response.get_data(as_text=True)


def _wait_until_idle(admin: AdminClient, timeout: float = 60) -> str:
    """Wait for the background run's thread to end (started before the POST answered, it may
    be over already), then the progress fragment htmx gets."""
    for thread in [t for t in threading.enumerate() if t.name == f"generate-{SLUG}"]:
        thread.join(timeout)
        assert not thread.is_alive(), "the generation run did not finish"
    fragment = _fragment(admin)
    assert 'data-running="false"' in fragment
    return fragment


def _count(app, **where) -> int:
    with app.app_context(), get_db().session() as session:
        query = select(func.count()).select_from(Output)
        for name, value in where.items():
            query = query.where(getattr(Output, name) == value)
        return session.scalar(query)


def test_admin_generation_runs_in_the_background_until_done(seeded_admin):
    app = seeded_admin.client.application
    page = seeded_admin.get(URL)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "<html" in html and "Generate missing outputs" in html
    assert '<section id="generation"' in html and 'data-running="false"' in html
    assert "0 / 42" in html

    fragment = _fragment(seeded_admin)
    assert fragment.lstrip().startswith('<section id="generation"') and "<html" not in fragment

    started = seeded_admin.post(URL, {"provider": "builtin"})
    assert started.status_code == 303 and started.headers["Location"] == URL
    assert "Generating 42 outputs in the background." in seeded_admin.page(URL)
    done = _wait_until_idle(seeded_admin)
    assert "hx-trigger" not in done  # the finished panel stops the polling
    assert "42 / 42" in done and "Every output is done." in done
    assert "Generated 42 of 42 outputs." in done
    assert _count(app, status="done") == 42

    again = seeded_admin.post(URL, {"provider": ""})
    assert again.status_code == 303
    assert "Nothing to generate" in seeded_admin.page(URL)


def test_admin_generation_shows_each_failed_output_and_retries_them(seeded_admin, scripted):
    app = seeded_admin.client.application
    assert seeded_admin.post(URL, {}).status_code == 303
    fragment = _wait_until_idle(seeded_admin)
    assert _count(app, status="failed") == 3 and _count(app, status="done") == 39
    rows = re.findall(r"<tr>\s*<td><code>(.*?)</code></td>.*?</tr>", fragment, re.S)
    assert rows == ["sdxl"] * 3
    assert fragment.count("scripted: upstream returned 500") == 3
    assert "Failed outputs" in fragment and "39 / 42" in fragment
    page = seeded_admin.page(URL)
    assert "Retry the 3 failed" in page

    scripted.failing = False
    retried = seeded_admin.post(URL, {"failed_only": "1"})
    assert retried.status_code == 303
    assert "Generating 3 failed outputs" in seeded_admin.page(URL)
    fragment = _wait_until_idle(seeded_admin)
    assert "42 / 42" in fragment and "Failed outputs" not in fragment
    assert _count(app, status="failed") == 0
    with app.app_context(), get_db().session() as session:
        attempts = session.scalars(select(Output.attempts).where(Output.provider == "scripted"))
        assert list(attempts) == [2, 2, 2]  # one failed try, then one that worked


def test_admin_generation_refuses_a_second_run_from_any_worker(seeded_admin, scripted):
    scripted.failing = False
    scripted.gate = threading.Event()
    app = seeded_admin.client.application
    try:
        assert seeded_admin.post(URL, {"provider": "scripted"}).status_code == 303
        running = _fragment(seeded_admin)
        assert 'data-running="true"' in running and 'hx-trigger="every 1s"' in running
        assert 'hx-get="/admin/competitions/fantasy-warrior-ii/generation"' in running
        second = seeded_admin.post(URL, {"provider": "builtin"})
        assert second.status_code == 409
        assert "being generated already" in second.get_data(as_text=True)

        # Another web worker: its own app and engine on the same database.
        other_app = create_app(dict(app.config))
        try:
            other = AdminClient(other_app.test_client())
            assert 'data-running="true"' in other.page(URL)
            assert "another web worker" in other.page(URL)
            assert other.post(URL, {"provider": "builtin"}).status_code == 409
        finally:
            other_app.extensions["arena.db"].dispose()
    finally:
        scripted.gate.set()
    _wait_until_idle(seeded_admin)
    assert _count(app, provider="scripted", status="done") == 3


def test_admin_generation_unknown_provider_and_competition(seeded_admin):
    bad = seeded_admin.post(URL, {"provider": "nope"})
    assert bad.status_code == 400 and "unknown provider" in bad.get_data(as_text=True)
    assert seeded_admin.get("/admin/competitions/nope/generation").status_code == 404
    assert seeded_admin.post("/admin/competitions/nope/generation", {}).status_code == 404
