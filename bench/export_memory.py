"""Memory and time of the vote-log exports at 1M votes: the API, ``arena export`` and the dump.

A fresh database (SQLite by default, ``--backend postgresql`` for a throwaway PostgreSQL
database) is migrated and seeded, 1M synthetic votes are imported with ``arena import-votes``
(the CSV of bench/recompute_db.py) and spread over 20,000 voters, so pseudonyms are computed
as in production. Then, each in its own process:

(a) the app under gunicorn (one gthread worker, as ``arena serve`` runs it) streams the
    whole log as CSV and as JSON to a client that counts the bytes; the worker's peak RSS
    (``VmHWM``) is read from /proc after each;
(b) ``arena export votes -o FILE`` (CSV and JSON Lines);
(c) ``arena export dump`` (both vote files and the leaderboards, gzip);
(d) with ``--baseline``, the export as it was before it streamed (one query into a pandas
    frame, then ``to_csv``; from git) in a process of its own.

Peak RSS of (b)-(d) is the child's ``VmHWM``, sampled from /proc while it runs. Run from the
repository root:
``.venv/bin/python bench/export_memory.py [--votes N] [--backend sqlite|postgresql] [--baseline]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recompute_db import synthetic_csv

ROOT = Path(__file__).resolve().parent.parent
ARENA = str(Path(sys.executable).parent / "arena")
VOTERS = 20_000
MB = 1024 * 1024

#: The export before it streamed (arena/services/exports.py at the commit before), run as a
#: script against the same database: a frame of the whole log, then CSV text.
BASELINE = """
import resource, sys, time
from arena import create_app
from arena.web.db import get_session
started = time.perf_counter()
app = create_app()
namespace = {}
exec(compile(sys.stdin.read(), "old_exports.py", "exec"), namespace)
with app.app_context():
    frame = namespace["votes_frame"](get_session(), app.config["SECRET_KEY"])
    size = len(namespace["frame_to_csv"](frame))
print(len(frame), size, time.perf_counter() - started)
"""


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, int, str]:
    """Run a command to its end: wall time, its peak RSS in bytes and its standard output.

    The peak is the child's ``VmHWM``, sampled every 20 ms until it exits: not ``ru_maxrss``,
    which keeps the high-water mark of the forked copy of this (larger) process across exec.
    """
    started = time.perf_counter()
    child = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, _status(child.pid, "VmHWM"))
            except (OSError, KeyError):  # exited (a zombie has no memory figures)
                return
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate(stdin)
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out}\n{err}")
    return elapsed, peak, out


def _status(pid: int, key: str) -> int:
    """A memory figure of ``/proc/<pid>/status`` (``VmHWM``: peak RSS, ``VmRSS``) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str], csv: Path, url: str) -> None:
    """Migrate, seed, import the votes, and give them voters."""
    for args in (["db", "upgrade"], ["seed"]):
        run([ARENA, *args], env)
    seconds, _, _ = run([ARENA, "import-votes", str(csv)], env)
    print(f"  arena import-votes: {seconds:.1f} s")
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        first = (conn.scalar(text("SELECT max(id) FROM voters")) or 0) + 1
        conn.execute(
            text("INSERT INTO voters (public_id, created_at, flagged, votes_today) "
                 "VALUES (:p, CURRENT_TIMESTAMP, false, 0)"),
            [{"p": secrets.token_urlsafe(16)} for _ in range(VOTERS)],
        )  # fmt: skip
        conn.execute(
            text("UPDATE votes SET voter_id = :first + (id % :n)"), {"first": first, "n": VOTERS}
        )
    engine.dispose()
    print(f"  {VOTERS:,} voters given the votes: {time.perf_counter() - started:.1f} s")


def bench_server(env: dict[str, str]) -> None:
    """(a) The API export through gunicorn: one gthread worker, the client reading it all."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
         "--threads", "4", "--timeout", "600", "--bind", f"127.0.0.1:{port}", "arena.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(f"{base}/api/v1/votes?limit=1", timeout=5).raise_for_status()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        worker = int(children[0])
        print(f"  gunicorn worker after a first request: {_status(worker, 'VmRSS') / MB:.0f} MB")
        for fmt in ("csv", "json"):
            started = time.perf_counter()
            received = 0
            with requests.get(f"{base}/api/v1/votes?format={fmt}", stream=True, timeout=600) as r:
                r.raise_for_status()
                for chunk in r.iter_content(1 << 16):
                    received += len(chunk)
            elapsed = time.perf_counter() - started
            print(
                f"  (a) GET /api/v1/votes?format={fmt}: {received / MB:.0f} MB in {elapsed:.1f} s"
                f" ({received / MB / elapsed:.0f} MB/s); worker peak RSS so far"
                f" {_status(worker, 'VmHWM') / MB:.0f} MB"
            )
        started = time.perf_counter()
        after, pages, rows = 0, 0, 0
        while True:
            r = requests.get(f"{base}/api/v1/votes?after={after}&limit=100000", timeout=600)
            r.raise_for_status()
            body = r.json()
            pages, rows = pages + 1, rows + body["count"]
            if body["next_after"] is None:
                break
            after = body["next_after"]
        print(
            f"  (a) paged JSON, limit=100000: {rows:,} votes in {pages} pages,"
            f" {time.perf_counter() - started:.1f} s; worker peak RSS"
            f" {_status(worker, 'VmHWM') / MB:.0f} MB"
        )
    finally:
        server.terminate()
        server.wait(30)


def bench(name: str, url: str, csv: Path, folder: Path, baseline: bool) -> None:
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": url,
        "ARENA_MEDIA_DIR": str(folder / "media"),
        "ARENA_SECRET_KEY": "bench",
        "ARENA_AUTOPUBLISH": "0",  # no publisher thread bootstrapping 1M votes in the worker
        "ARENA_RATE_LIMIT": "off",
        "ARENA_IP_RATE_LIMIT": "off",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    print(f"{name}:")
    prepare(env, csv, url)
    bench_server(env)
    for fmt, suffix in (("csv", "csv"), ("jsonl", "jsonl")):
        out = folder / f"votes.{suffix}"
        seconds, peak, _ = run([ARENA, "export", "votes", "--format", fmt, "-o", str(out)], env)
        size = out.stat().st_size
        out.unlink()
        print(
            f"  (b) arena export votes --format {fmt}: {size / MB:.0f} MB in {seconds:.1f} s,"
            f" peak RSS {peak / MB:.0f} MB"
        )
    seconds, peak, line = run([ARENA, "export", "dump"], env)
    print(f"  (c) arena export dump: {seconds:.1f} s, peak RSS {peak / MB:.0f} MB")
    print(f"      {line.strip()}")
    if baseline:
        old = subprocess.run(
            ["git", "show", "590135d:arena/services/exports.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        seconds, peak, out = run([sys.executable, "-c", BASELINE], env, stdin=old)
        rows, size, _ = out.split()
        print(
            f"  (d) baseline, the frame export of before: {int(rows):,} rows,"
            f" {int(size) / MB:.0f} MB of CSV in {seconds:.1f} s, peak RSS {peak / MB:.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--baseline", action="store_true", help="Also run the old export.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arena-export-") as tmp:
        folder = Path(tmp)
        csv = folder / "votes.csv"
        started = time.perf_counter()
        synthetic_csv(csv, args.votes)
        print(f"{args.votes:,} synthetic votes written in {time.perf_counter() - started:.1f} s")
        if args.backend == "sqlite":
            bench("sqlite", f"sqlite:///{folder / 'bench.db'}", csv, folder, args.baseline)
            return
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        name = f"arena_bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres_url).set(database=name)
            bench(
                "postgresql", url.render_as_string(hide_password=False), csv, folder, args.baseline
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
