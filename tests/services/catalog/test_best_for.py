"""The "Best For" lines come from Arena's data: published ranks, prices, licence, providers."""

from __future__ import annotations

from decimal import Decimal

from arena.services.catalog.best_for import Placing, best_for
from arena.services.catalog.listing import Standing
from arena.services.catalog.pricing import Price
from arena.services.leaderboards.boards import PublishedRank


def standing(rank: int | None, of: int = 21) -> Standing:
    published = (
        None
        if rank is None
        else PublishedRank(1, rank, of, rank, 1000.0, 950.0, 1050.0, False, 0.1)
    )
    return Standing(1000.0, 5, 5, 0, 10, published)


def lines(**kwargs) -> dict[str, str]:
    args = {
        "name": "Model X",
        "slug": "model-x",
        "categories": [],
        "competitions": [],
        "cheapest": None,
        "license": None,
        "open_weights": False,
        "providers": [],
    }
    return {line.lead: line.text for line in best_for(**(args | kwargs))}


def test_best_for_quotes_the_top_third_placings_best_first():
    text = lines(
        categories=[
            Placing("Portrait", standing(7)),
            Placing("Typography", standing(2)),
            Placing("Landscape", standing(15)),
            Placing("Product", standing(None)),
        ]
    )
    assert text["Where voters rate it highly"].startswith(
        "Model X ranks #2 of 21 in Typography, #7 of 21 in Portrait in blind votes"
    )


def test_best_for_says_what_is_unknown_without_inventing():
    text = lines(competitions=[Placing("Fantasy Warrior · edition 2", standing(20))])
    assert (
        "Its best published result so far is #20 of 21 in Fantasy Warrior · edition 2"
        in (text["Arena results"])
    )
    assert text["Budget"] == "No provider publishes a price for it, so its cost is unknown."
    assert "Licence" not in text
    assert "offline builtin stand-in" in text["Access"]
    assert "no published arena rank yet" in lines()["Arena results"]


def test_best_for_names_price_licence_and_providers():
    price = Price(
        unit="per_image", usd=Decimal("0.005"), provider="replicate", provider_name="Replicate"
    )
    text = lines(
        cheapest=price,
        license="Apache 2.0",
        open_weights=True,
        providers=["fal.ai", "Replicate", "OpenAI"],
    )
    assert text["Budget"].startswith("It starts at $0.0050/image through Replicate")
    assert text["Licence"] == (
        "Its weights are published (licence: Apache 2.0). Check its terms before commercial use."
    )
    assert '"model": "model-x"' in text["Access"]
    assert "fal.ai, Replicate and OpenAI" in text["Access"]
