"""Image sizes: parse and check "WxH" strings."""

from __future__ import annotations

import re

MIN_SIDE = 64
MAX_SIDE = 4096
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


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
