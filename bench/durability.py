"""What a power-loss-proof vote costs on SQLite: ``synchronous=NORMAL`` against ``FULL``.

In WAL mode, ``PRAGMA synchronous=FULL`` (the default, ``ARENA_SQLITE_SYNCHRONOUS=full``)
syncs the WAL at every commit, so an acknowledged vote is on disk; ``NORMAL`` syncs only at
checkpoints, which a killed process survives but a power loss may not. This script times:

1. the vote path in process (``bench/vote_path.py``'s ``run``: one client at a time, so each
   vote pays its own sync), alternating NORMAL and FULL runs (order swapped every round),
2. a raw ``fsync`` of a small file on the same file system (what one sync costs here),
3. with ``--load``, concurrent voters against gunicorn (``bench/vote_load.py``'s SQLite run),
   alternating NORMAL and FULL too.

and prints each run, then the medians: per-vote ms and votes/s.

Run from the repository root: ``.venv/bin/python bench/durability.py [--votes N]
[--rounds R] [--load] [--load-votes N]``. The databases live in the system's temporary
folder (``TMPDIR``): make sure it is a real disk, not a tmpfs, where fsync costs nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import vote_load  # noqa: E402  (bench/ is this script's folder)
from vote_path import run  # noqa: E402

MODES = ("normal", "full")


@contextlib.contextmanager
def _synchronous(mode: str):
    """``ARENA_SQLITE_SYNCHRONOUS=mode`` for the apps created (and servers started) inside."""
    before = os.environ.get("ARENA_SQLITE_SYNCHRONOUS")
    os.environ["ARENA_SQLITE_SYNCHRONOUS"] = mode
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ARENA_SQLITE_SYNCHRONOUS", None)
        else:
            os.environ["ARENA_SQLITE_SYNCHRONOUS"] = before


@contextlib.contextmanager
def _unlimited():
    """No new-voter limit and no proof of work for the server ``vote_load`` starts: its 16
    load-generator voters come from one address and solve no challenge."""
    names = ("ARENA_NEW_VOTERS_PER_ADDRESS", "ARENA_POW")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update({"ARENA_NEW_VOTERS_PER_ADDRESS": "off", "ARENA_POW": "0"})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _filesystem(path: Path) -> str:
    done = subprocess.run(
        ["df", "--output=fstype", str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout.split()[-1] if done.returncode == 0 else "unknown"


def fsync_ms(folder: Path, count: int = 200) -> float:
    """Median milliseconds of write(4 KiB) + fsync on a file in ``folder``."""
    path = folder / "fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for i in range(count):
            os.pwrite(fd, os.urandom(4096), (i % 16) * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return 1000 * statistics.median(times)


def in_process(votes: int, rounds: int) -> dict[str, list[float]]:
    """Vote ms per request, per mode, alternating the modes (swapped order each round)."""
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    for round_ in range(rounds):
        for mode in MODES if round_ % 2 == 0 else tuple(reversed(MODES)):
            with _synchronous(mode):
                ms = run(votes, "off")
            results[mode].append(ms["vote"])
            print(
                f"  round {round_ + 1} {mode:>6}: vote {ms['vote']:.3f} ms "
                f"(CPU {ms['vote_cpu']:.3f}) = {1000 / ms['vote']:.0f} votes/s",
                flush=True,
            )
    return results


_FIRED = re.compile(r"= (\d+) req/s; p50 ([\d.]+) ms, p99 ([\d.]+) ms")
_PAIRS = re.compile(r"= (\d+) pairs/s")
_LOST = re.compile(r"lost votes: (\d+)")


def under_load(votes: int, rounds: int, workers: int) -> dict[str, list[tuple[float, ...]]]:
    """(votes/s, p50 ms, p99 ms, pairs/s, lost) of 16 concurrent voters against gunicorn."""
    results: dict[str, list[tuple[float, ...]]] = {mode: [] for mode in MODES}
    for round_ in range(rounds):
        for mode in MODES if round_ % 2 == 0 else tuple(reversed(MODES)):
            folder = Path(tempfile.mkdtemp(prefix="arena-durability-"))
            out = io.StringIO()
            try:
                with _synchronous(mode), _unlimited(), contextlib.redirect_stdout(out):
                    vote_load.run_backend(
                        "sqlite", f"sqlite:///{folder / 'bench.db'}", workers, votes, 3.0, folder
                    )
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            text = out.getvalue()
            fired, pairs, lost = _FIRED.search(text), _PAIRS.search(text), _LOST.search(text)
            if not (fired and pairs and lost):
                raise RuntimeError(f"unexpected bench/vote_load.py output:\n{text}")
            figures = (*map(float, fired.groups()), float(pairs.group(1)), float(lost.group(1)))
            results[mode].append(figures)
            print(
                f"  round {round_ + 1} {mode:>6}: {figures[0]:.0f} votes/s, p50 "
                f"{figures[1]:.1f} ms, p99 {figures[2]:.1f} ms; {figures[3]:.0f} battle+vote "
                f"pairs/s; lost votes {figures[4]:.0f}",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1000, help="votes per in-process run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="also the gunicorn load runs")
    parser.add_argument("--load-votes", type=int, default=2000)
    parser.add_argument("--load-rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (--load)")
    args = parser.parse_args()
    temp = Path(tempfile.gettempdir())
    print(f"temporary folder {temp} on {_filesystem(temp)}; fsync {fsync_ms(temp):.3f} ms")
    print(f"vote path in process, {args.votes} votes per run, one at a time:")
    results = in_process(args.votes, args.rounds)
    load = under_load(args.load_votes, args.load_rounds, args.workers) if args.load else None
    print("medians:")
    base = statistics.median(results["normal"])
    for mode in MODES:
        ms = statistics.median(results[mode])
        print(
            f"  in process {mode:>6}: {ms:.3f} ms per vote, {1000 / ms:.0f} votes/s "
            f"({ms - base:+.3f} ms against normal)"
        )
    if load:
        for mode in MODES:
            rate, p50, p99, pairs, lost = (
                statistics.median(r[i] for r in load[mode]) for i in range(5)
            )
            print(
                f"  gunicorn x{args.workers}, 16 voters, {mode:>6}: {rate:.0f} votes/s, "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {pairs:.0f} pairs/s, lost {lost:.0f}"
            )


if __name__ == "__main__":
    main()
