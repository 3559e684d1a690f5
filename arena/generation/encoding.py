"""Re-encoding images: per-battle variants of one fixed size, no metadata; the image API's formats.

A battle image is a *variant*: the output resized to its prompt's size, with ±1 level of
noise on a random sparse subset of its samples, encoded as lossy WebP and padded with an
unknown RIFF chunk (which decoders skip) to one fixed length. No two variants share their
bytes (not even their VP8 payload), and every variant of a competition has the same length.
"""

from __future__ import annotations

import io
import math
import secrets
import struct
from pathlib import Path

import numpy as np
from PIL import Image

BATTLE_FORMAT = "webp"
BATTLE_MIMETYPE = "image/webp"

#: Share of an image's samples (pixel x channel) nudged by one level in each variant ...
NOISE_FRACTION = 0.002
#: ... and at least this many, so that even a small image's VP8 payload never repeats.
NOISE_MIN = 1024
#: WebP qualities tried in turn until the encoding fits the padded length.
QUALITIES = (90, 80, 70, 60, 45, 30)
#: Padded lengths are rounded up to this many bytes.
PAD_ROUND = 4096
#: FourCC of the padding chunk; unknown to WebP, so every decoder skips it.
PAD_CHUNK = b"PADD"
_IMAGE_CHUNKS = (b"VP8 ", b"VP8L", b"ALPH")


def padded_length(max_pixels: int, bits_per_pixel: float) -> int:
    """The fixed length of every battle image of a competition.

    Args:
        max_pixels: width x height of the competition's largest prompt.
        bits_per_pixel: the byte budget per pixel of that size, in bits.

    Returns:
        The budget rounded up to a multiple of ``PAD_ROUND`` (at least one ``PAD_ROUND``).
    """
    budget = math.ceil(max_pixels * bits_per_pixel / 8)
    return max(PAD_ROUND, -(-budget // PAD_ROUND) * PAD_ROUND)


def battle_variant(source: Path, width: int, height: int, length: int) -> bytes:
    """A fresh variant of the image at ``source``: ``width`` x ``height`` WebP of ``length`` bytes.

    Every call draws new noise (±1 level on ``NOISE_FRACTION`` of the samples, at least
    ``NOISE_MIN``) and new
    padding bytes, so no two calls return the same bytes; the pixels decode within a
    lossy re-encoding of the resized original. Nothing but the pixels is kept: no EXIF, ICC
    or text chunks.

    Raises:
        ValueError: even the lowest quality does not fit in ``length`` bytes.
    """
    with Image.open(source) as image:
        image = image.convert("RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        pixels = np.asarray(image, dtype=np.int16)
    noisy = Image.fromarray(_nudge(pixels), "RGB")
    for quality in QUALITIES:
        buffer = io.BytesIO()
        noisy.save(buffer, format="WEBP", quality=quality, method=3)
        chunks = _image_chunks(buffer.getvalue())
        if 12 + 18 + len(chunks) + 8 <= length:
            return _pad(chunks, width, height, length)
    raise ValueError(f"a {width}x{height} image does not fit in {length} bytes even at low quality")


def _nudge(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` with a random ``NOISE_FRACTION`` of its samples moved one level up or down."""
    rng = np.random.default_rng(secrets.randbits(128))
    flat = pixels.reshape(-1)
    count = min(flat.size, max(NOISE_MIN, int(flat.size * NOISE_FRACTION)))
    where = rng.choice(flat.size, size=count, replace=False)
    flat[where] += rng.choice(np.array([-1, 1], dtype=np.int16), size=count)
    # A sample at 0 or 255 that would leave the range moves the other way instead.
    flat[flat < 0] = 1
    flat[flat > 255] = 254
    return flat.reshape(pixels.shape).astype(np.uint8)


def _image_chunks(webp: bytes) -> bytes:
    """The image-data chunks (VP8, VP8L, ALPH) of a WebP file, each with its header."""
    if webp[:4] != b"RIFF" or webp[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    kept, offset = [], 12
    while offset + 8 <= len(webp):
        fourcc = webp[offset : offset + 4]
        (size,) = struct.unpack("<I", webp[offset + 4 : offset + 8])
        end = offset + 8 + size + (size & 1)
        if fourcc in _IMAGE_CHUNKS:
            kept.append(webp[offset:end])
        offset = end
    return b"".join(kept)


def _pad(chunks: bytes, width: int, height: int, length: int) -> bytes:
    """An extended-format WebP (VP8X, the image chunks, a padding chunk) of ``length`` bytes."""
    vp8x = (
        b"VP8X"
        + struct.pack("<I", 10)
        + bytes(4)  # no flags: an RGB still image
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    body = vp8x + chunks
    filler = length - 12 - len(body) - 8
    padding = PAD_CHUNK + struct.pack("<I", filler) + secrets.token_bytes(filler)
    riff = b"WEBP" + body + padding
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


#: Output formats of the image API: Pillow format name and MIME type.
OUTPUT_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "gif": ("GIF", "image/gif"),
    "webp": ("WEBP", "image/webp"),
    "avif": ("AVIF", "image/avif"),
}
LOSSY = {"jpeg", "webp", "avif"}


def encode(data: bytes, fmt: str, compression: int | None = None) -> bytes:
    """Re-encode image bytes to ``fmt`` without metadata.

    Args:
        fmt: png, jpeg, gif, webp or avif.
        compression: for the lossy formats, OpenAI's ``output_compression`` (0–100, the
            encoder's quality: 100 keeps the most detail; default 100); ignored otherwise.

    Raises:
        ValueError: unknown format, or compression outside 0–100.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}")
    quality = 100 if compression is None else compression
    if not 0 <= quality <= 100:
        raise ValueError("output_compression must be between 0 and 100")
    pillow_format, _mime = OUTPUT_FORMATS[fmt]
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        buffer = io.BytesIO()
        if fmt in LOSSY:
            image.save(buffer, format=pillow_format, quality=max(1, quality))
        elif fmt == "png":
            image.save(buffer, format=pillow_format, compress_level=6)
        else:
            image.save(buffer, format=pillow_format)
    return buffer.getvalue()
