"""What an image costs under an offering's pricing (per megapixel or per image, in USD)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_MICRO = Decimal("0.000001")


def image_cost(
    unit: str | None, price: Decimal | None, width: int, height: int, n: int = 1
) -> Decimal | None:
    """Cost in USD of ``n`` images of ``width`` x ``height`` pixels.

    Per-megapixel prices count a megapixel as 1,000,000 pixels. An unknown price (None)
    gives None: we never invent a cost.
    """
    if unit is None or price is None:
        return None
    if unit == "per_image":
        cost = price * n
    elif unit == "per_megapixel":
        cost = price * Decimal(width * height * n) / Decimal(1_000_000)
    else:
        raise ValueError(f"unknown pricing unit {unit!r}")
    return cost.quantize(_MICRO, rounding=ROUND_HALF_UP)
