"""Battle-image variants made ahead of time, one fresh variant per battle side.

Every finished, visible output of an open competition keeps a small *pool* of ready variants
(``arena.generation.encoding.battle_variant``: new noise, new padding, the competition's fixed
length) under ``<media>/variants/pool/<keyed name>/``. The first fetch of a battle side moves
one pool file to ``<media>/variants/battle/<image key>.webp`` (a rename: no encoding in the
request), so a first fetch costs what any fetch costs, and no variant is ever served for two
sides. A background worker per web process refills the pools, and removes the files of
battles that were voted more than ``grace`` ago or have expired (and the oldest beyond
``max_battle_files``) and the pools of outputs no longer in play. If a pool is ever empty, the
fetch waits while the worker encodes that side's variant: the same encoder, off the request.

Disk bound: ``pool`` x (outputs in play) + ``max_battle_files`` files, each exactly the
competition's padded length.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from arena.db import Database
from arena.generation.encoding import BATTLE_FORMAT, battle_variant, padded_length
from arena.media import StorageFull, image_path, storage
from arena.models import Battle, BattleEntry, Competition, Output, Prompt, utcnow
from arena.services.voting.matchmaking import playable

log = logging.getLogger(__name__)
battles_t = Battle.__table__
entries_t = BattleEntry.__table__

_ENV = {
    "VARIANT_POOL": ("ARENA_VARIANT_POOL", int),
    "BATTLE_IMAGE_BITS_PER_PIXEL": ("ARENA_BATTLE_IMAGE_BITS_PER_PIXEL", float),
    "VARIANT_MAX_BATTLE_FILES": ("ARENA_VARIANT_MAX_BATTLE_FILES", int),
    "VARIANT_GRACE": ("ARENA_VARIANT_GRACE", float),
}


@dataclass(frozen=True)
class VariantSettings:
    """How variants are made and kept (``ARENA_VARIANT_*``, see the README).

    Attributes:
        pool: ready variants kept per output in play (0: every side is encoded at its
            first fetch, in the background, while the fetch waits).
        bits_per_pixel: byte budget of a competition's battle images, per pixel of its
            largest prompt (1.0: 128 KiB for 1024x1024).
        max_battle_files: most battle-side files kept; the oldest beyond are removed.
        grace: how long a voted battle's images stay servable (for its reveal).
        maintain: refill pools and sweep in the background (off under ``TESTING``).
        poll: seconds between background passes.
        wait: how long a fetch waits for a variant being encoded.
    """

    pool: int = 2
    bits_per_pixel: float = 1.0
    max_battle_files: int = 20_000
    grace: dt.timedelta = dt.timedelta(minutes=10)
    maintain: bool = True
    poll: float = 5.0
    wait: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> VariantSettings:
        """Settings from an app config, else ``ARENA_*`` variables, else the defaults.

        Raises:
            ValueError: a variable is malformed (its name is in the message).
        """
        values: dict[str, Any] = {}
        for key, (variable, kind) in _ENV.items():
            raw = config.get(key, os.environ.get(variable))
            if raw not in (None, ""):
                try:
                    values[key] = kind(raw)
                except ValueError:
                    raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        testing = bool(config.get("TESTING"))
        return cls(
            pool=max(0, values.get("VARIANT_POOL", 0 if testing else cls.pool)),
            bits_per_pixel=values.get("BATTLE_IMAGE_BITS_PER_PIXEL", cls.bits_per_pixel),
            max_battle_files=values.get("VARIANT_MAX_BATTLE_FILES", cls.max_battle_files),
            grace=dt.timedelta(seconds=values.get("VARIANT_GRACE", cls.grace.total_seconds())),
            maintain=not testing,
        )


@dataclass(frozen=True)
class VariantSource:
    """An output to make variants of: its image, its prompt's size, the padded length."""

    output_id: int
    image_name: str
    width: int
    height: int
    length: int


def length_for(max_pixels: int, settings: VariantSettings) -> int:
    """The fixed length of a competition's battle images (from its largest prompt)."""
    return padded_length(max_pixels, settings.bits_per_pixel)


def servable(
    expires_at: dt.datetime, voted_at: dt.datetime | None, now: dt.datetime, grace: dt.timedelta
) -> bool:
    """Whether a battle's images are still served: not expired, and not voted long ago."""
    return expires_at > now and (voted_at is None or voted_at > now - grace)


def _root(media_dir: str | Path) -> Path:
    return Path(media_dir) / "variants"


def battle_file(media_dir: str | Path, image_key: str) -> Path:
    """Where the variant of one battle side lives once claimed."""
    return _root(media_dir) / "battle" / image_key[:2] / f"{image_key}.{BATTLE_FORMAT}"


def pool_dir(media_dir: str | Path, secret: str, source: VariantSource) -> Path:
    """An output's pool folder, under a keyed name that says nothing of the output."""
    label = f"variant:{source.output_id}:{source.width}x{source.height}:{source.length}"
    name = hmac.new(secret.encode(), label.encode(), hashlib.sha256).hexdigest()[:32]
    return _root(media_dir) / "pool" / name


def _ready(folder: Path) -> list[Path]:
    try:
        return [folder / n for n in os.listdir(folder) if n.endswith(f".{BATTLE_FORMAT}")]
    except FileNotFoundError:
        return []


def claim(media_dir: str | Path, secret: str, source: VariantSource, image_key: str) -> Path | None:
    """The side's variant file, moving a ready pool variant there at its first fetch.

    Returns:
        The file, or None when the side has none yet and the pool is empty.
    """
    target = battle_file(media_dir, image_key)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for candidate in _ready(pool_dir(media_dir, secret, source)):
        taken = candidate.with_suffix(f".{secrets.token_hex(8)}.claimed")
        try:
            os.rename(candidate, taken)  # atomic: one claimant wins each pool file
        except FileNotFoundError:
            continue
        # A concurrent first fetch of the same side may have won; this variant is dropped.
        with contextlib.suppress(FileExistsError):
            os.link(taken, target)
        os.unlink(taken)
        return target
    return None


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, never replacing an existing file.

    Raises:
        StorageFull: the disk is full (no partial temp file is left behind).
    """
    tmp = path.with_suffix(f".{secrets.token_hex(8)}.tmp")
    with storage(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp.write_bytes(data)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def add_to_pool(media_dir: str | Path, secret: str, source: VariantSource) -> Path:
    """Encode one fresh variant of ``source`` into its pool; returns the file."""
    data = battle_variant(
        image_path(media_dir, source.image_name), source.width, source.height, source.length
    )
    path = pool_dir(media_dir, secret, source) / f"{secrets.token_hex(16)}.{BATTLE_FORMAT}"
    _write_new(path, data)
    return path


def in_play(db: Database, settings: VariantSettings) -> list[VariantSource]:
    """Every output matchmaking may show: done, visible, entered, in an open competition."""
    largest = (
        select(Prompt.competition_id, func.max(Prompt.width * Prompt.height).label("px"))
        .group_by(Prompt.competition_id)
        .subquery()
    )
    with db.engine.connect() as conn:
        rows = conn.execute(
            playable(Output.id, Output.image_name, Prompt.width, Prompt.height, largest.c.px)
            .join(Competition, Competition.id == Prompt.competition_id)
            .join(largest, largest.c.competition_id == Prompt.competition_id)
            .where(Competition.status == "open")
            .order_by(Prompt.position, Output.id)
        ).all()
    return [
        VariantSource(r.id, r.image_name, r.width, r.height, length_for(r.px, settings))
        for r in rows
    ]


def sweep(db: Database, media_dir: str | Path, settings: VariantSettings) -> int:
    """Remove the files of battles no longer served, and the oldest beyond the cap.

    Returns:
        How many battle-side files were removed.
    """
    files = {
        p.name.split(".")[0]: p for p in (_root(media_dir) / "battle").glob(f"*/*.{BATTLE_FORMAT}")
    }
    now, live = utcnow(), set()
    keys = list(files)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(
                    battles_t.c.left_image_key,
                    battles_t.c.right_image_key,
                    battles_t.c.expires_at,
                    battles_t.c.voted_at,
                ).where(
                    or_(
                        battles_t.c.left_image_key.in_(chunk),
                        battles_t.c.right_image_key.in_(chunk),
                    )
                )
            ).all()
            # A best-of-four battle's third and fourth images.
            entries = conn.execute(
                select(entries_t.c.image_key, battles_t.c.expires_at, battles_t.c.voted_at)
                .join(battles_t, battles_t.c.id == entries_t.c.battle_id)
                .where(entries_t.c.image_key.in_(chunk))
            ).all()
        for row in rows:
            voted = db.read_timestamp(row.voted_at) if row.voted_at else None
            if servable(db.read_timestamp(row.expires_at), voted, now, settings.grace):
                live.update((row.left_image_key, row.right_image_key))
        for row in entries:
            voted = db.read_timestamp(row.voted_at) if row.voted_at else None
            if servable(db.read_timestamp(row.expires_at), voted, now, settings.grace):
                live.add(row.image_key)
    kept = sorted((p for k, p in files.items() if k in live), key=_mtime, reverse=True)
    doomed = [p for k, p in files.items() if k not in live] + kept[settings.max_battle_files :]
    for path in doomed:
        path.unlink(missing_ok=True)
    return len(doomed)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


@dataclass(frozen=True)
class _Job:
    """Encode ``source`` as the variant of battle side ``image_key`` (a fetch waits on it)."""

    source: VariantSource
    image_key: str


class VariantWorker:
    """One background thread per web process: encodes the variants fetches wait for, first;
    and, with ``settings.maintain``, refills pools and sweeps (one process at a time, under a
    file lock beside the variants)."""

    def __init__(
        self, db: Database, media_dir: str | Path, secret: str, settings: VariantSettings
    ) -> None:
        self.db, self.media_dir, self.secret, self.settings = db, media_dir, secret, settings
        self._jobs: queue.Queue[tuple[_Job, Future[Path]]] = queue.Queue()
        self._refills: queue.Queue[VariantSource] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next_pass = 0.0

    def ensure_running(self) -> None:
        """Start the thread if it is not running (it stops when idle without maintenance)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="arena-variants", daemon=True
                )
                self._thread.start()

    def variant(self, source: VariantSource, image_key: str) -> bytes:
        """The bytes of a battle side: its claimed file, else one encoded for it now in the
        background (waiting for it, up to ``settings.wait`` seconds).

        Raises:
            TimeoutError: the variant was not ready in time.
            StorageFull: the media folder's disk is full (a 503 for the voter).
            ValueError, OSError: the variant could not be made (the encoder's error).
        """
        fresh = not battle_file(self.media_dir, image_key).exists()
        with storage(self.media_dir):
            path = claim(self.media_dir, self.secret, source, image_key)
        if fresh and path is not None and self.settings.pool:
            self._refills.put(source)  # replace the variant just taken, soon
            self.ensure_running()
        if path is None:
            future: Future[Path] = Future()
            self._jobs.put((_Job(source, image_key), future))
            self.ensure_running()
            path = future.result(timeout=self.settings.wait)
        return path.read_bytes()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            try:
                job, future = self._jobs.get(timeout=0.5)
            except queue.Empty:
                if self._refill_one():
                    idle_since = time.monotonic()
                elif self.settings.maintain and time.monotonic() >= self._next_pass:
                    self._maintain()
                    idle_since = time.monotonic()
                elif not self.settings.maintain and time.monotonic() - idle_since > 5:
                    with self._lock:
                        if self._jobs.empty():
                            self._thread = None
                            return
                continue
            self._encode(job, future)
            idle_since = time.monotonic()

    def _encode(self, job: _Job, future: Future[Path]) -> None:
        target = battle_file(self.media_dir, job.image_key)
        try:
            if not target.exists():
                image = image_path(self.media_dir, job.source.image_name)
                data = battle_variant(image, job.source.width, job.source.height, job.source.length)
                _write_new(target, data)
            future.set_result(target)
        except Exception as exc:  # the waiting fetch reports it
            future.set_exception(exc)

    def _refill_one(self) -> bool:
        """Replace one variant taken from a pool since; False when none is owed."""
        try:
            source = self._refills.get_nowait()
        except queue.Empty:
            return False
        if len(_ready(pool_dir(self.media_dir, self.secret, source))) < self.settings.pool:
            try:
                add_to_pool(self.media_dir, self.secret, source)
            except (OSError, ValueError, StorageFull) as exc:
                log.warning("no variant of output %s: %s", source.output_id, exc)
        return True

    def _drain(self) -> None:
        """Serve the fetches waiting on a variant before anything else."""
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            self._encode(job, future)

    def _maintain(self) -> None:
        """One pass (if no other process holds the lock): sweep, then refill the pools."""
        import fcntl

        self._next_pass = time.monotonic() + self.settings.poll
        root = _root(self.media_dir)
        root.mkdir(parents=True, exist_ok=True)
        with open(root / "maintenance.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            try:
                sweep(self.db, self.media_dir, self.settings)
                self._refill()
            except Exception:  # keep the worker alive; the next pass retries
                log.exception("battle-image variant maintenance failed")

    def _refill(self) -> None:
        """Top every pool up to ``settings.pool`` (emptiest first); drop pools out of play."""
        sources = in_play(self.db, self.settings)
        folders = {pool_dir(self.media_dir, self.secret, s): s for s in sources}
        for stale in (_root(self.media_dir) / "pool").glob("*"):
            if stale not in folders:
                for path in stale.glob("*"):
                    path.unlink(missing_ok=True)
                stale.rmdir()
        for level in range(self.settings.pool):
            for folder, source in folders.items():
                self._drain()
                if len(_ready(folder)) <= level:
                    try:
                        add_to_pool(self.media_dir, self.secret, source)
                    except (OSError, ValueError, StorageFull) as exc:
                        log.warning("no variant of output %s: %s", source.output_id, exc)
