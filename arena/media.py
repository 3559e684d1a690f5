"""Image files under ARENA_MEDIA_DIR, stored under opaque random names."""

from __future__ import annotations

import errno
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from arena.errors import ArenaError

log = logging.getLogger(__name__)


class StorageFull(ArenaError):
    """The media folder's disk (or quota) is full: nothing was written, retry once freed."""

    status = 503
    code = "storage_full"


@contextmanager
def storage(media_dir: str | Path) -> Iterator[None]:
    """Turn a full disk (``ENOSPC``, ``EDQUOT``) met inside into :class:`StorageFull`.

    Other ``OSError`` pass through. The message names no path: voters may read it.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("the media folder %s is full: %s", media_dir, exc)
        raise StorageFull(
            "Image storage is full (no space left in the media folder, ARENA_MEDIA_DIR); "
            "nothing was saved. Free some space, then try again."
        ) from exc


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
    """Write ``data`` atomically (temp file + rename) and return its path.

    Raises:
        StorageFull: the disk is full; no file (not even a partial temp file) is left.
    """
    path = image_path(media_dir, name)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with storage(media_dir):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path
