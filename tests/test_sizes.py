"""Size rules: WxH, or a ratio at a resolution tier, in multiples of 16."""

from __future__ import annotations

import pytest

from arena.sizes import resolve_size, size_for_ratio


@pytest.mark.parametrize(
    ("size", "ratio", "resolution", "expected"),
    [
        (None, None, None, (1024, 1024)),
        ("1000x562", None, None, (1000, 562)),
        ("16:9", None, None, (1360, 768)),
        (None, "16:9", None, (1360, 768)),
        (None, "1:1", "2K", (2048, 2048)),
        (None, None, "4K", (4096, 4096)),
        (None, "9:16", "2K", (1536, 2736)),
        (None, "21:9", "4K", (4096, 1760)),
        ("3:2", "3:2", "1K", (1248, 832)),
    ],
)
def test_resolve_size_rules(size, ratio, resolution, expected):
    assert resolve_size(size, ratio, resolution) == expected


@pytest.mark.parametrize(
    ("size", "ratio", "resolution", "message"),
    [
        ("1024x1024", "16:9", None, "not both"),
        ("16:9", "4:3", None, "disagree"),
        (None, "1:20", None, "between 1:8 and 8:1"),
        (None, "wide", None, "must look like 16:9"),
        (None, "1:1", "8K", "resolution must be one of"),
        ("10x10", None, None, "between 64 and 4096"),
    ],
)
def test_resolve_size_refuses_bad_combinations(size, ratio, resolution, message):
    with pytest.raises(ValueError, match=message):
        resolve_size(size, ratio, resolution)


def test_size_for_ratio_keeps_area_and_multiples_of_16():
    for ratio in [(16, 9), (4, 3), (2, 3), (7, 5)]:
        width, height = size_for_ratio(ratio, "1K")
        assert width % 16 == 0 and height % 16 == 0
        assert abs(width * height - 1024 * 1024) / (1024 * 1024) < 0.03
        assert abs(width / height - ratio[0] / ratio[1]) < 0.03
