"""Catalog prices: the price labels of docs/reference-model-page.md and the cheapest offering."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arena.services.catalog import pricing


@pytest.mark.parametrize(
    ("unit", "usd", "label"),
    [
        ("per_megapixel", "0.010", "$0.010/megapixel"),
        ("per_image", "0.0050", "$0.0050/image"),
        ("per_image", "0.04", "$0.040/image"),
        ("per_image", "0.025", "$0.025/image"),
        ("per_image", "0.003", "$0.0030/image"),
        ("per_image", "1.5", "$1.5/image"),
        ("per_image", "12", "$12/image"),
        ("per_image", "0", "$0.00/image"),
    ],
)
def test_format_price_uses_two_significant_figures(unit, usd, label):
    assert pricing.format_price(unit, Decimal(usd)) == label


def test_format_price_refuses_unknown_units():
    with pytest.raises(ValueError, match="unknown pricing unit"):
        pricing.format_price("per_second", Decimal("1"))


def test_cheapest_compares_units_by_one_1024_image_and_ignores_unknown():
    per_mp = pricing.Price("per_megapixel", Decimal("0.010"), "fal", "fal.ai")  # ~$0.0105
    per_image = pricing.Price("per_image", Decimal("0.0050"), "replicate", "Replicate")
    assert pricing.cheapest([per_mp, None, per_image]) is per_image
    assert pricing.cheapest([per_mp, None]) is per_mp
    assert pricing.cheapest([None, None]) is None
    assert pricing.cheapest([]) is None
