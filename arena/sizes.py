"""Image sizes: parse and check "WxH" strings."""

from __future__ import annotations

import re

MIN_SIDE = 64
MAX_SIDE = 4096
_SIZE = re.compile(r"^\s*([0-9]{1,5})\s*[xX×]\s*([0-9]{1,5})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"1024x768"`` into ``(1024, 768)``.

    Raises:
        ValueError: not ``WxH``, or a side outside [64, 4096] pixels.
    """
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"size must look like 1024x1024 (width x height), got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(
                f"size {text!r}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels"
            )
    return width, height


#: Target area of each resolution tier: a 1K image has as many pixels as 1024 x 1024.
RESOLUTION_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
DEFAULT_SIZE = (1024, 1024)
_RATIO = re.compile(r"^\s*([0-9]{1,3})\s*:\s*([0-9]{1,3})\s*$")
#: Computed sides are rounded to a multiple of this (what diffusion models expect).
SIDE_STEP = 16


def parse_ratio(text: str) -> tuple[int, int]:
    """Parse ``"16:9"`` into ``(16, 9)``.

    Raises:
        ValueError: not ``W:H`` with both between 1 and 100, or more extreme than 1:8.
    """
    match = _RATIO.match(text)
    if not match:
        raise ValueError(f"aspect ratio must look like 16:9, got {text!r}")
    w, h = int(match.group(1)), int(match.group(2))
    if not (1 <= w <= 100 and 1 <= h <= 100) or max(w, h) > 8 * min(w, h):
        raise ValueError(f"aspect ratio {text!r} must be between 1:8 and 8:1")
    return w, h


def size_for_ratio(ratio: tuple[int, int], resolution: str = "1K") -> tuple[int, int]:
    """Pixel dimensions for an aspect ratio at a resolution tier.

    The image has the tier's area (1K: 1024 x 1024 pixels, 2K: 2048 x 2048, 4K: 4096 x 4096)
    in the given shape; each side is rounded to a multiple of 16 and then scaled down, if
    needed, so that no side exceeds 4096. ``16:9`` at 1K is 1360 x 768.

    Raises:
        ValueError: unknown resolution tier.
    """
    if resolution not in RESOLUTION_SIDES:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTION_SIDES)}")
    area = RESOLUTION_SIDES[resolution] ** 2
    w, h = ratio
    width = (area * w / h) ** 0.5
    height = area / width
    shrink = min(1.0, MAX_SIDE / max(width, height))
    width, height = width * shrink, height * shrink

    def snap(side: float) -> int:
        return max(MIN_SIDE, min(MAX_SIDE, round(side / SIDE_STEP) * SIDE_STEP))

    return snap(width), snap(height)


def resolve_size(
    size: str | None, aspect_ratio: str | None, resolution: str | None
) -> tuple[int, int]:
    """The pixel size of a generation request, from its size, aspect_ratio and resolution.

    Rules: ``size`` may be ``WxH`` (used as given, 64–4096 per side) or a ratio like
    ``16:9``; ``aspect_ratio`` is a ratio; a ratio is turned into pixels at ``resolution``
    (default 1K) by ``size_for_ratio``; ``resolution`` alone keeps a square; nothing at all
    gives 1024 x 1024. A ``WxH`` size together with an aspect ratio or resolution is
    contradictory and refused.

    Raises:
        ValueError: malformed or contradictory values; the message names the field.
    """
    if size and re.search(r"[xX×]", size):
        if aspect_ratio or resolution:
            raise ValueError("size: give either a WxH size or aspect_ratio/resolution, not both")
        return parse_size(size)
    if size and aspect_ratio and size.strip() != aspect_ratio.strip():
        raise ValueError("size: the ratio in size and aspect_ratio disagree")
    ratio_text = size or aspect_ratio
    ratio = parse_ratio(ratio_text) if ratio_text else (1, 1)
    if not ratio_text and not resolution:
        return DEFAULT_SIZE
    return size_for_ratio(ratio, resolution or "1K")
