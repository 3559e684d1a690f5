"""Generation: every matched output made once, recorded, stored; failures retried and recorded."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from sqlalchemy import func, select

from arena.errors import NotFound, ValidationError
from arena.generation import registry
from arena.generation.base import ImageProvider, ImageRequest, ImageResult, ProviderError
from arena.generation.builtin.render import render_png
from arena.media import image_path
from arena.models import Model, Output, Prompt, Provider, ProviderOffering
from arena.services import generation
from arena.services.seeding import load_seeds
from arena.services.status import competition_status
from arena.web.db import get_db


@pytest.fixture
def db(app, small_seeds: Path):
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
        yield session


def _generate(app, session, slugs=(), all_=False, provider=None, retries=1):
    competitions = generation.select_competitions(session, slugs, all_)
    plan = generation.plan_jobs(session, competitions, app.config, provider)
    return generation.run_jobs(
        session, plan.jobs, app.config, workers=2, retries=retries, backoff_s=0.0
    )


def test_generate_makes_every_matched_output_once(app, db):
    report = _generate(app, db, ["fantasy-warrior-ii"])
    status = {r["slug"]: r for r in competition_status(db)}["fantasy-warrior-ii"]
    assert report.done == report.planned == status["models"] * status["prompts"] == 42
    assert status["outputs_done"] == 42 and status["outputs_missing"] == 0

    again = generation.plan_jobs(
        db, generation.select_competitions(db, ["fantasy-warrior-ii"], False), app.config
    )
    assert again.jobs == []
    assert db.scalar(select(func.count()).select_from(Output)) == 42


def test_generate_records_provider_cost_latency_and_stores_opaque_files(app, db):
    _generate(app, db, ["fantasy-warrior-ii"])
    outputs = db.scalars(select(Output)).all()
    media = Path(app.config["MEDIA_DIR"])
    for output in outputs:
        assert output.status == "done" and output.provider == "builtin"
        assert output.cost_usd == Decimal("0") and output.latency_ms is not None
        assert output.attempts == 1 and output.error is None
        path = image_path(media, output.image_name)
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == output.sha256
        assert output.model.slug not in output.image_name
        with Image.open(path) as image:
            assert image.size == (output.width, output.height) == (96, 64)


def test_generate_outputs_are_matched_and_deterministic(app, db):
    _generate(app, db, ["fantasy-warrior-ii"])
    output = db.scalars(select(Output)).first()
    prompt = db.get(Prompt, output.prompt_id)
    expected = render_png(
        output.model.slug,
        prompt.text,
        negative_prompt=prompt.negative_prompt,
        seed=prompt.seed,
        width=prompt.width,
        height=prompt.height,
    )
    assert hashlib.sha256(expected).hexdigest() == output.sha256
    per_prompt = db.scalars(select(Output).where(Output.prompt_id == prompt.id)).all()
    assert len({(o.width, o.height) for o in per_prompt}) == 1
    assert len({o.sha256 for o in per_prompt}) == len(per_prompt)  # every model differs


def test_generate_requires_a_slug_or_all_and_known_slugs(app, db):
    with pytest.raises(ValidationError, match="--all"):
        generation.select_competitions(db, [], False)
    with pytest.raises(NotFound, match="nope"):
        generation.select_competitions(db, ["fantasy-warrior", "nope"], False)
    with pytest.raises(ValidationError, match="unknown provider"):
        generation.plan_jobs(db, [], app.config, provider="nope")


class _Scripted(ImageProvider):
    """A provider plugin whose failures the test scripts: fails the first N calls per image."""

    name = "scripted"
    offline = True
    fail_first: ClassVar[int] = 0
    retryable: ClassVar[bool] = True
    calls: ClassVar[dict[tuple[str, str], int]] = {}

    def generate(self, request: ImageRequest) -> ImageResult:
        key = (request.model_id, request.prompt)
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= self.fail_first:
            raise ProviderError(self.name, "upstream returned 500", retryable=self.retryable)
        return ImageResult(
            data=b"\x89PNG fake", format="png", width=request.width, height=request.height
        )


@pytest.fixture
def scripted(db, monkeypatch):
    """Offer one model through the scripted provider."""
    monkeypatch.setitem(registry._PROVIDERS, "scripted", _Scripted)
    monkeypatch.setattr(_Scripted, "calls", {})
    provider = Provider(slug="scripted", name="Scripted")
    model = db.scalar(select(Model).where(Model.slug == "sdxl"))
    db.add(
        ProviderOffering(
            model=model,
            provider=provider,
            config_key="scripted/sdxl",
            provider_model_id="scripted-sdxl",
            pricing_unit="per_image",
            price_usd=Decimal("0.02"),
        )
    )
    db.commit()
    return model


def test_generate_prefers_a_configured_offering_and_records_its_cost(app, db, scripted):
    _generate(app, db, ["fantasy-warrior-ii"])
    outputs = db.scalars(select(Output).where(Output.model_id == scripted.id)).all()
    assert len(outputs) == 3
    assert all(o.provider == "scripted" and o.cost_usd == Decimal("0.02") for o in outputs)
    assert all(o.offering_id is not None for o in outputs)


def test_generate_never_substitutes_builtin_for_a_failing_provider(app, db, scripted, monkeypatch):
    monkeypatch.setattr(_Scripted, "fail_first", 99)
    monkeypatch.setattr(_Scripted, "retryable", False)
    report = _generate(app, db, ["fantasy-warrior-ii"])
    assert report.failed == 3
    outputs = db.scalars(select(Output).where(Output.model_id == scripted.id)).all()
    assert all(o.status == "failed" and o.attempts == 1 for o in outputs)
    others = db.scalars(select(Output).where(Output.model_id != scripted.id)).all()
    assert others and all(o.provider == "builtin" and o.status == "done" for o in others)


def test_generate_retries_with_backoff_then_succeeds(app, db, scripted, monkeypatch):
    monkeypatch.setattr(_Scripted, "fail_first", 1)
    report = _generate(app, db, ["fantasy-warrior-ii"], provider="scripted", retries=2)
    assert report.planned == 3 and report.done == 3
    outputs = db.scalars(select(Output).where(Output.model_id == scripted.id)).all()
    assert all(o.status == "done" and o.attempts == 2 for o in outputs)


def test_generate_records_failures_and_a_rerun_retries_them(app, db, scripted, monkeypatch):
    monkeypatch.setattr(_Scripted, "fail_first", 99)
    report = _generate(app, db, ["fantasy-warrior-ii"], provider="scripted", retries=1)
    assert report.failed == 3 and report.done == 0
    failed = db.scalars(select(Output).where(Output.status == "failed")).all()
    assert len(failed) == 3
    assert all("upstream returned 500" in o.error and o.image_name is None for o in failed)
    status = {r["slug"]: r for r in competition_status(db)}["fantasy-warrior-ii"]
    assert status["outputs_failed"] == 3

    monkeypatch.setattr(_Scripted, "fail_first", 0)
    again = _generate(app, db, ["fantasy-warrior-ii"], provider="scripted")
    assert again.planned == 3 and again.done == 3
    assert db.scalar(select(func.count()).select_from(Output).where(Output.status == "failed")) == 0
