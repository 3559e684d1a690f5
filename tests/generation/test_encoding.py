"""Re-encoding to every output format, without metadata, compression traded for quality."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from arena.generation.builtin.render import render_png
from arena.generation.encoding import encode


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp", "avif"])
def test_encode_every_format_without_metadata(fmt):
    source = render_png("flux-1-dev", "a red fox", width=160, height=120)
    data = encode(source, fmt, 80)
    image = Image.open(io.BytesIO(data))
    assert image.size == (160, 120)
    assert image.format == {"jpeg": "JPEG"}.get(fmt, fmt.upper())
    assert not image.info.get("exif")


def test_encode_compression_trades_size_for_quality():
    source = render_png("flux-1-dev", "a red fox in snow", width=256, height=256)
    assert len(encode(source, "jpeg", 20)) < len(encode(source, "jpeg", 95))
    with pytest.raises(ValueError, match="between 0 and 100"):
        encode(source, "jpeg", 101)
    with pytest.raises(ValueError, match="output_format"):
        encode(source, "bmp")
