"""Static dumps: the vote log and the leaderboards as gzip-compressed CSV and JSON Lines files.

Bulk readers download a file instead of walking the API: the files are written by
``arena dump`` (and by the background publisher, see :func:`refresh_if_due`), served as they
are by ``GET /api/v1/dumps/<name>``, and rewritten whole, each into a temporary file that
replaces the old one with one atomic rename, so a reader sees either the old or the new file,
never a part. ``manifest.json`` (written last) says when, how many votes, and each file's size
and SHA-256. One pass over the vote log writes both vote files, a batch at a time
(arena.services.exports): memory stays bounded whatever the log's size.

No Flask here: the web app and the CLI pass the database, the folder and the pseudonym key.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import gzip
import hashlib
import io
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from arena.db import Database
from arena.models import utcnow
from arena.services import exports
from arena.services.leaderboards import boards

log = logging.getLogger(__name__)

#: The dump folder's name inside the media folder.
FOLDER = "dumps"
#: The files of a dump and their content types.
FILES = {
    "votes.csv.gz": "text/csv",
    "votes.jsonl.gz": "application/x-ndjson",
    "leaderboards.csv.gz": "text/csv",
    "leaderboards.jsonl.gz": "application/x-ndjson",
}
MANIFEST = "manifest.json"
#: Leaderboard CSV columns: the board's columns after the scope they belong to.
BOARD_COLUMNS = ["scope", *boards.COLUMNS]
#: gzip level: 6 (gzip's default) is within a few percent of 9 at half the time.
COMPRESSION = 6


class DumpBusy(Exception):
    """Another process is writing a dump into the same folder right now."""


@dataclass(frozen=True)
class DumpFile:
    """One written file: its size in bytes, SHA-256 of those bytes, and rows."""

    name: str
    bytes: int
    sha256: str
    rows: int


@dataclass(frozen=True)
class Dump:
    """What a dump wrote (and ``manifest.json`` says): when, the votes up to which id, the
    files, and how long it took."""

    written_at: str
    votes: int
    last_vote_id: int | None
    seconds: float
    files: list[DumpFile]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def dump_folder(media_dir: str | Path) -> Path:
    """The dump folder of a media folder (``<MEDIA_DIR>/dumps``)."""
    return Path(media_dir) / FOLDER


class _Hashing(io.RawIOBase):
    """A binary file that hashes and counts the bytes written through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += view.nbytes
        self.raw.write(view)
        return view.nbytes


class _Target:
    """A gzip text file written under a temporary name and renamed into place by
    :meth:`commit` (after an fsync), or removed by :meth:`discard`."""

    def __init__(self, folder: Path, name: str) -> None:
        self.name = name
        self.path = folder / name
        self.temporary = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        self._raw = open(self.temporary, "xb")  # noqa: SIM115 (closed by commit/discard)
        self._hashing = _Hashing(self._raw)
        # mtime=0: the same rows give the same bytes (and the same SHA-256).
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._hashing, compresslevel=COMPRESSION, mtime=0
        )
        self.text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self.rows = 0

    def write(self, text: str, rows: int = 0) -> None:
        self.text.write(text)
        self.rows += rows

    def commit(self) -> DumpFile:
        self.text.close()  # flushes and closes the gzip stream (not the raw file)
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.temporary, self.path)
        return DumpFile(self.name, self._hashing.size, self._hashing.digest.hexdigest(), self.rows)

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.text.close()
        with contextlib.suppress(Exception):
            self._raw.close()
        self.temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold the folder's dump lock (``.lock``, a kernel file lock) or raise DumpBusy."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DumpBusy(f"a dump is being written into {folder}") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a small JSON file atomically (temporary file, fsync, rename)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with open(temporary, "x", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def write_dump(
    db: Database,
    folder: Path,
    secret: str,
    *,
    batch: int = exports.BATCH,
    progress: Callable[[int], None] | None = None,
) -> Dump:
    """Write the vote log and every public leaderboard into ``folder``, replacing the files.

    The vote files hold the counted votes up to the log's last id when the dump starts (the
    same rows as ``GET /api/v1/votes``); the leaderboard files one board per public scope,
    as ``GET /api/v1/leaderboards/<scope>`` answers it (JSON Lines: one board document per
    line; CSV: the board rows after a ``scope`` column). Nothing is replaced unless every
    file was written in full.

    Args:
        progress: called with the number of votes written so far after each batch.

    Raises:
        DumpBusy: another process is writing into ``folder`` now (its dump will do).
    """
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder):
        targets = {name: _Target(folder, name) for name in FILES}
        try:
            with db.session() as session:
                page = exports.plan_page(session)
            votes_csv, votes_jsonl = targets["votes.csv.gz"], targets["votes.jsonl.gz"]
            votes_csv.write(exports.csv_text())
            written = 0
            for rows in exports.page_batches(db.session, secret, page, batch=batch):
                votes_csv.write(exports.csv_text(rows), len(rows))
                votes_jsonl.write(exports.jsonl_text(rows), len(rows))
                written += len(rows)
                if progress is not None:
                    progress(written)
            _write_boards(db, targets["leaderboards.csv.gz"], targets["leaderboards.jsonl.gz"])
            files = [targets[name].commit() for name in FILES]
        except BaseException:
            for target in targets.values():
                target.discard()
            raise
        dump = Dump(
            written_at=utcnow().isoformat().replace("+00:00", "Z"),
            votes=written,
            last_vote_id=page.upto,
            seconds=round(time.perf_counter() - started, 3),
            files=files,
        )
        _write_json(folder / MANIFEST, dump.to_json())
    return dump


def _write_boards(db: Database, out_csv: _Target, out_jsonl: _Target) -> None:
    """Every public scope's board: a document per line, and rows after the scope key."""
    writer = csv.writer(buffer := io.StringIO(), lineterminator="\n")
    writer.writerow(BOARD_COLUMNS)
    with db.session() as session:
        for scope in boards.scope_menu(session):
            board = boards.board(session, scope.key)
            document = exports.leaderboard_document(board)
            out_jsonl.write(json.dumps(document, separators=(",", ":")) + "\n", 1)
            for row in document["rows"]:
                writer.writerow([scope.key, *(row.get(column) for column in boards.COLUMNS)])
            out_csv.write(buffer.getvalue(), len(document["rows"]))
            buffer.seek(0)
            buffer.truncate()
    if out_csv.rows == 0:
        out_csv.write(buffer.getvalue())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of the dump in ``folder``, or None before the first dump."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def refresh_if_due(db: Database, folder: Path, secret: str, *, max_age: float) -> Dump | None:
    """Write a dump unless the folder's is younger than ``max_age`` seconds (or another
    process is writing one): for the background publisher, after it publishes.

    Returns:
        The new dump, or None if none was due or another process is writing one.
    """
    manifest = read_manifest(folder)
    if manifest is not None:
        written = dt.datetime.fromisoformat(manifest["written_at"].replace("Z", "+00:00"))
        if (utcnow() - written).total_seconds() < max_age:
            return None
    try:
        return write_dump(db, folder, secret)
    except DumpBusy:
        return None


def publisher_hook(
    db: Database, media_dir: str | Path, secret: str, *, every: float
) -> Callable[[], None]:
    """What the background publisher calls after it publishes: a fresh dump when the last is
    ``every`` seconds old (a dump of 1M votes takes tens of seconds: not after every
    publication). Failures are logged, never raised into the publisher's loop."""
    folder = dump_folder(media_dir)

    def refresh() -> None:
        try:
            dump = refresh_if_due(db, folder, secret, max_age=every)
        except Exception:
            log.exception("writing the static dump into %s failed", folder)
            return
        if dump is not None:
            log.info("dumped %d votes into %s in %.1f s", dump.votes, folder, dump.seconds)

    return refresh
