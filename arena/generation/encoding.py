"""Re-encoding images: one format and size for both sides of a battle, no metadata."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from pathlib import Path

from PIL import Image

BATTLE_FORMAT = "webp"
BATTLE_MIMETYPE = "image/webp"


def encode_for_battle(source: Path, width: int, height: int) -> bytes:
    """The image at ``source`` as RGB WebP of exactly ``width`` x ``height``, metadata-free.

    Every battle image goes through here, whatever provider or format it came from, so the
    file says nothing but its pixels: same format, same size, no EXIF, ICC or text chunks.
    """
    with Image.open(source) as image:
        image = image.convert("RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=85, method=3)
    return buffer.getvalue()


def battle_image(
    media_dir: str | Path, secret: str, output_id: int, image_name: str, width: int, height: int
) -> bytes:
    """The battle encoding of an output, made once and cached under a keyed, opaque name.

    The cache name is an HMAC of the output id under the app secret, so even the cache
    folder does not say which output (or model) a file belongs to.
    """
    from arena.media import image_path

    key = hmac.new(
        secret.encode(), f"battle:{output_id}:{width}x{height}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    cached = Path(media_dir) / "battle" / key[:2] / f"{key}.{BATTLE_FORMAT}"
    if cached.exists():
        return cached.read_bytes()
    data = encode_for_battle(image_path(media_dir, image_name), width, height)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cached)
    return data


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
