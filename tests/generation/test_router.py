"""`arena generate` routes through a configured fal (a local fal-protocol server), records
what each output cost, and never substitutes the builtin stand-in when fal fails."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from arena.models import Model, Output, ProviderOffering
from arena.services.seeding import load_seeds
from arena.web.db import get_db
from tests.generation.providers.servers import FakeFal, Reply

COMPETITION = "fantasy-warrior-ii"


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    with FakeFal(key="test-key") as server:
        yield server


@pytest.fixture
def fal_app(app: Flask, fal: FakeFal, small_seeds, monkeypatch) -> Flask:
    """Seeds loaded (96x64 prompts); fal configured at the local server, nothing else."""
    monkeypatch.setitem(
        app.config,
        "PROVIDER_CREDENTIALS",
        {"fal": "test-key", "replicate": None, "openai": None},
    )
    monkeypatch.setitem(
        app.config, "PROVIDER_BASE_URLS", {**app.config["PROVIDER_BASE_URLS"], "fal": fal.url}
    )
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return app


Served = dict[str, list[tuple[Output, ProviderOffering | None]]]


def _outputs(app: Flask) -> tuple[Served, set[str]]:
    """Each model's outputs with the offering that served them, by model slug; and the
    slugs of the models fal offers."""
    with app.app_context(), get_db().session() as session:
        models = session.scalars(
            select(Model).options(
                selectinload(Model.offerings).selectinload(ProviderOffering.provider)
            )
        ).all()
        offerings = {o.id: o for m in models for o in m.offerings}
        fal_models = {m.slug for m in models if any(o.provider.slug == "fal" for o in m.offerings)}
        by_model: Served = {}
        query = select(Output).options(selectinload(Output.model), selectinload(Output.prompt))
        for output in session.scalars(query):
            by_model.setdefault(output.model.slug, []).append(
                (output, offerings.get(output.offering_id))
            )
        session.expunge_all()
    return by_model, fal_models


def test_routing_generate_serves_hidream_through_fal_at_its_megapixel_price(fal_app, fal):
    result = fal_app.test_cli_runner().invoke(args=["generate", COMPETITION])
    assert result.exit_code == 0, result.output
    assert "Generated 42 of 42 outputs." in result.output

    outputs, fal_models = _outputs(fal_app)
    assert "hidream-i1-fast" in fal_models and "dall-e-3" not in fal_models

    hidream = outputs["hidream-i1-fast"]
    assert len(hidream) == 3
    for output, offering in hidream:
        assert output.status == "done" and output.provider == "fal"
        assert offering.provider.slug == "fal"
        assert offering.provider_model_id == "fal-ai/hidream-i1-fast"
        assert (output.width, output.height, output.format) == (96, 64, "png")
        # $0.010 per megapixel x 96*64 px = $0.00006144, kept to 6 places
        assert output.cost_usd == Decimal("0.000061")
        assert output.attempts == 1 and output.error is None

    for slug, rows in outputs.items():
        expected = "fal" if slug in fal_models else "builtin"
        assert {o.provider for o, _ in rows} == {expected}, slug
        if expected == "builtin":
            assert all(o.cost_usd == Decimal("0") and offering is None for o, offering in rows)

    submits = [r for r in fal.calls("submit") if r.path == "/fal-ai/hidream-i1-fast"]
    assert len(submits) == 3
    assert {r.headers["authorization"] for r in fal.calls("submit")} == {"Key test-key"}
    assert all(r.body["image_size"] == {"width": 96, "height": 64} for r in submits)
    assert sorted(r.body["seed"] for r in submits) == sorted(o.prompt.seed for o, _ in hidream)


def test_routing_never_substitutes_builtin_when_fal_keeps_failing(fal_app, fal):
    fal.always("submit", Reply.json(500, {"detail": "Internal Server Error"}))

    result = fal_app.test_cli_runner().invoke(args=["generate", COMPETITION, "--retries", "1"])
    assert result.exit_code == 1  # failures are reported, and retried by the next run
    assert "failed" in result.output

    outputs, fal_models = _outputs(fal_app)
    for output, _offering in outputs["hidream-i1-fast"]:
        assert output.status == "failed" and output.image_name is None
        assert "Internal Server Error" in output.error or "500" in output.error
        assert output.attempts == 2  # fal twice (one retry), never the builtin stand-in
    others = [o for slug, rows in outputs.items() if slug not in fal_models for o, _ in rows]
    assert others and all(o.status == "done" and o.provider == "builtin" for o in others)
    # fal was asked twice (first pass and one retry) for every output of a model it offers
    assert len(fal.calls("submit")) == 2 * 3 * len(fal_models & set(outputs))


def test_image_endpoint_serves_hidream_through_fal_and_records_its_cost(fal_app, fal):
    from arena.models import ApiUsage
    from arena.services.api_keys import create_key

    with fal_app.app_context(), get_db().session() as session:
        key = create_key(session, "fal-test")
    client = fal_app.test_client()
    response = client.post(
        "/openai/v1/images/generations",
        json={"model": "hidream-i1-fast", "prompt": "a fox", "size": "512x512"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Arena-Provider"] == "fal"
    expected = Decimal("0.010") * Decimal(512 * 512) / Decimal(1_000_000)
    assert Decimal(response.headers["X-Arena-Cost-USD"]) == expected.quantize(Decimal("0.000001"))
    assert len(fal.calls("submit")) == 1
    with fal_app.app_context(), get_db().session() as session:
        usage = session.scalars(select(ApiUsage)).one()
    assert usage.provider == "fal" and usage.cost_usd == expected.quantize(Decimal("0.000001"))
