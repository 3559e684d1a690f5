"""Image files under ARENA_MEDIA_DIR, stored under opaque random names."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def new_image_name(fmt: str) -> str:
    """A fresh opaque file name (128 random bits) with the format's extension."""
    return f"{secrets.token_hex(16)}.{fmt}"


def image_path(media_dir: str | Path, name: str) -> Path:
    """Where image ``name`` lives: ``<media>/outputs/<first two chars>/<name>``.

    Raises:
        ValueError: the name is not one we made (guards against path tricks).
    """
    stem, _, ext = name.partition(".")
    if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) or not ext.isalnum():
        raise ValueError(f"not an image name: {name!r}")
    return Path(media_dir) / "outputs" / stem[:2] / name


def write_image(media_dir: str | Path, name: str, data: bytes) -> Path:
    """Write ``data`` atomically (temp file + rename) and return its path."""
    path = image_path(media_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
