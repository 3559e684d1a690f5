"""Model facts beside a rank: cheapest price per image, licence, open weights, median latency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from arena.models import Category, Competition, Model, Output, Prompt, Provider, ProviderOffering
from arena.services.leaderboards.facts import ModelFacts, model_facts, open_weights


@pytest.fixture
def catalog(session):
    """Three models: one with two priced offerings (per image and per megapixel), a closed one
    with an unpriced offering, and one without any fact; outputs with latencies for the first."""
    fal = Provider(slug="fal", name="fal.ai")
    replicate = Provider(slug="replicate", name="Replicate")
    priced = Model(slug="priced", name="Priced", tags=["open-weights"], license="Apache-2.0")
    closed = Model(slug="closed", name="Closed", tags=[], license="Proprietary")
    bare = Model(slug="bare", name="Bare", tags=[])
    priced.offerings = [
        # $0.010/megapixel costs ~$0.0105 for 1024x1024: the per-image offer is cheaper.
        ProviderOffering(
            provider=fal,
            config_key="fal:priced",
            provider_model_id="p",
            pricing_unit="per_megapixel",
            price_usd=Decimal("0.010"),
        ),
        ProviderOffering(
            provider=replicate,
            config_key="replicate:priced",
            provider_model_id="p",
            pricing_unit="per_image",
            price_usd=Decimal("0.0050"),
        ),
    ]
    closed.offerings = [
        ProviderOffering(provider=fal, config_key="fal:closed", provider_model_id="c")
    ]
    competition = Competition(
        slug="c", name="C", status="open", category=Category(slug="k", name="K")
    )
    prompts = [
        Prompt(competition=competition, key=f"p{i}", text="t", seed=i, width=64, height=64)
        for i in range(6)
    ]
    session.add_all([priced, closed, bare, *prompts])
    # Done latencies 100, 300, 300, 900 (median 300); a failed output and a done one without a
    # latency do not count.
    outputs = [
        ("done", 900, "builtin"),
        ("done", 300, "fal"),
        ("done", 100, "builtin"),
        ("done", 300, "builtin"),
        ("failed", 5, "fal"),
        ("done", None, "replicate"),
    ]
    for i, (status, latency, provider) in enumerate(outputs):
        session.add(
            Output(
                prompt=prompts[i],
                model=priced,
                status=status,
                provider=provider,
                latency_ms=latency,
                image_name=f"img{i}" if status == "done" else None,
            )
        )
    session.commit()
    return {m.slug: m.id for m in session.scalars(select(Model))}


def test_model_facts_cheapest_price_licence_and_median_latency(session, catalog):
    facts = model_facts(session, [catalog["priced"]])
    assert facts == {
        catalog["priced"]: ModelFacts(
            model_id=catalog["priced"],
            price_usd=Decimal("0.0050"),
            price_label="$0.0050/image",
            license="Apache-2.0",
            open_weights=True,
            median_latency_ms=300.0,
            latency_providers=("builtin", "fal"),
        )
    }


def test_model_facts_unknown_stays_none(session, catalog):
    facts = model_facts(session, [catalog["closed"], catalog["bare"], 10_000])
    assert set(facts) == {catalog["closed"], catalog["bare"]}
    closed, bare = facts[catalog["closed"]], facts[catalog["bare"]]
    assert (closed.price_usd, closed.price_label, closed.license) == (None, None, "Proprietary")
    assert closed.open_weights is False
    assert (bare.price_usd, bare.license, bare.open_weights) == (None, None, None)
    assert (bare.median_latency_ms, bare.latency_providers) == (None, ())
    assert model_facts(session, []) == {}


def test_model_facts_median_of_an_even_count_is_the_mean_of_the_middle_two(session, catalog):
    fal = session.scalar(select(Output).where(Output.provider == "fal", Output.status == "done"))
    fal.latency_ms = 500
    session.commit()
    facts = model_facts(session, [catalog["priced"]])[catalog["priced"]]
    assert facts.median_latency_ms == 400.0  # 100, 300, 500, 900


@pytest.mark.parametrize(
    ("tags", "license", "expected"),
    [
        (["open-weights"], "Apache-2.0", True),
        (["open-weights"], None, True),
        (["proprietary"], None, False),
        ([], "Proprietary", False),
        ([], "Some Community License", None),
        ([], None, None),
    ],
)
def test_open_weights_follows_the_seeds_tags_and_licence(tags, license, expected):
    assert open_weights(tags, license) is expected


def test_seeded_licences_are_published_facts_or_unknown(seeded, session):
    licences = dict(session.execute(select(Model.slug, Model.license)).all())
    assert licences["flux-1-schnell"] == "Apache-2.0"
    assert licences["sdxl"] == "CreativeML Open RAIL++-M"
    assert licences["gpt-image-1"] == "Proprietary"
    assert licences["sana"] is None  # not known for sure: unknown, never guessed
    schnell = session.scalar(select(Model.id).where(Model.slug == "flux-1-schnell"))
    facts = model_facts(session, [schnell])[schnell]
    assert (facts.price_label, facts.open_weights) == ("$0.0030/image", True)
