"""Published prices of model offerings: formatting them and finding the cheapest."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from arena.generation.pricing import image_cost
from arena.models import ProviderOffering

PRICING_SUFFIX = {"per_megapixel": "/megapixel", "per_image": "/image"}
#: Prices in different units are compared by the cost of one image of this size (the size
#: of the code examples).
COMPARE_SIZE = (1024, 1024)


def format_price(unit: str, usd: Decimal) -> str:
    """A price as docs/reference-model-page.md writes it: two significant figures and its unit.

    ``0.01`` per megapixel is ``"$0.010/megapixel"``, ``0.005`` per image ``"$0.0050/image"``.

    Raises:
        ValueError: an unknown pricing unit.
    """
    if unit not in PRICING_SUFFIX:
        raise ValueError(f"unknown pricing unit {unit!r}")
    usd = Decimal(usd)
    if usd == 0:
        return f"$0.00{PRICING_SUFFIX[unit]}"
    decimals = max(0, 1 - usd.adjusted())
    rounded = usd.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"${rounded:f}{PRICING_SUFFIX[unit]}"


@dataclass(frozen=True)
class Price:
    """A published price of one offering."""

    unit: str
    usd: Decimal
    provider: str
    provider_name: str

    @property
    def label(self) -> str:
        """``"$0.0050/image"``."""
        return format_price(self.unit, self.usd)

    @property
    def per_image_usd(self) -> Decimal:
        """What one ``COMPARE_SIZE`` image costs at this price (to compare units)."""
        cost = image_cost(self.unit, self.usd, *COMPARE_SIZE)
        assert cost is not None  # a Price always has a unit and an amount
        return cost


def offering_price(offering: ProviderOffering) -> Price | None:
    """The offering's published price (its provider loaded), or None when unknown."""
    if offering.pricing_unit is None or offering.price_usd is None:
        return None
    return Price(
        offering.pricing_unit,
        Decimal(offering.price_usd),
        offering.provider.slug,
        offering.provider.name,
    )


def cheapest(prices: list[Price | None]) -> Price | None:
    """The lowest known price by the cost of one 1024x1024 image; None when all are unknown."""
    known = [p for p in prices if p is not None]
    return min(known, key=lambda p: (p.per_image_usd, p.provider)) if known else None
