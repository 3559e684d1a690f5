"""Vote-path load benchmark: gunicorn on 127.0.0.1, a separate load-generator process.

For each database (SQLite, then PostgreSQL) it creates a fresh database, migrates and seeds
it, makes one competition's outputs (small images: the vote path never touches them),
starts ``arena.wsgi:app`` under gunicorn, and then, from a separate process:

1. issues battles beforehand for 16 voters (each with its own cookie),
2. fires their votes with 16 concurrent connections and times each request,
3. runs 16 voters doing battle + vote pairs for a fixed time,

and prints requests/s, pairs/s, p50/p99 latency and lost votes (accepted 200s that are not
in the log, or scopes whose records do not add up), then runs ``arena verify``.

Run from the repository root: ``.venv/bin/python bench/vote_load.py [--votes N]``.
PostgreSQL is the machine's server at 127.0.0.1:5432 (``--postgres-url`` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VOTERS = 16
COMPETITION = "fantasy-warrior-ii"


# --- the load generator (runs in its own process) ----------------------------------------


async def _request(port: int, method: str, path: str, body: bytes, cookie: str | None):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if cookie:
        head.append(f"Cookie: {cookie}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    data = await reader.read()
    writer.close()
    header, _, payload = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    set_cookie = next(
        (
            line.split(":", 1)[1].split(";")[0].strip()
            for line in lines
            if line.lower().startswith("set-cookie:")
        ),
        None,
    )
    return status, payload, set_cookie


async def _issue(port: int, per_voter: int) -> list[tuple[str, str]]:
    async def voter() -> list[tuple[str, str]]:
        cookie = None
        out = []
        body = json.dumps({"competition": COMPETITION}).encode()
        for _ in range(per_voter):
            status, payload, new_cookie = await _request(
                port, "POST", "/api/v1/battles", body, cookie
            )
            assert status == 201, payload
            cookie = new_cookie or cookie
            out.append((cookie, json.loads(payload)["token"]))
        return out

    results = await asyncio.gather(*(voter() for _ in range(VOTERS)))
    return [item for chunk in results for item in chunk]


async def _fire(port: int, battles: list[tuple[str, str]]) -> dict:
    queue = list(reversed(battles))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted: list[int] = []
    winners = [b'{"winner": "left"}', b'{"winner": "right"}', b'{"winner": "tie"}']

    async def worker() -> None:
        while queue:
            cookie, token = queue.pop()
            started = time.perf_counter()
            status, payload, _ = await _request(
                port, "POST", f"/api/v1/battles/{token}/vote", winners[len(queue) % 3], cookie
            )
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                accepted.append(json.loads(payload)["vote_id"])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(VOTERS)))
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "latencies": latencies, "statuses": statuses, "accepted": accepted}


async def _pairs(port: int, seconds: float) -> dict:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    accepted: list[int] = []
    body = json.dumps({"competition": COMPETITION}).encode()

    async def voter() -> None:
        cookie = None
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, payload, new_cookie = await _request(
                port, "POST", "/api/v1/battles", body, cookie
            )
            assert status == 201, payload
            cookie = new_cookie or cookie
            token = json.loads(payload)["token"]
            status, payload, _ = await _request(
                port, "POST", f"/api/v1/battles/{token}/vote", b'{"winner": "left"}', cookie
            )
            assert status == 200, payload
            latencies.append(time.perf_counter() - started)
            accepted.append(json.loads(payload)["vote_id"])

    started = time.perf_counter()
    await asyncio.gather(*(voter() for _ in range(VOTERS)))
    return {"elapsed": time.perf_counter() - started, "latencies": latencies, "accepted": accepted}


def _driver(port: int, votes: int, pair_seconds: float, out: mp.Queue) -> None:
    battles = asyncio.run(_issue(port, votes // VOTERS))
    cpu = time.process_time()
    fired = asyncio.run(_fire(port, battles))
    fired["client_cpu"] = time.process_time() - cpu
    pairs = asyncio.run(_pairs(port, pair_seconds))
    out.put({"fired": fired, "pairs": pairs})


# --- orchestration ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _prepare(url: str, media: Path, seeds: Path, env: dict) -> None:
    for args in (
        ["db", "upgrade"],
        ["seed", "--path", str(seeds)],
        ["generate", COMPETITION, "--provider", "builtin"],
    ):
        subprocess.run(
            [str(Path(sys.executable).parent / "arena"), *args],
            env=env,
            check=True,
            capture_output=True,
        )


def _small_seeds(folder: Path) -> Path:
    target = folder / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    path = target / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    for competition in data["competitions"]:
        for prompt in competition["prompts"]:
            prompt["size"] = "96x64"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return target


def _check_log(url: str, accepted: list[int]) -> tuple[int, bool]:
    """(lost votes, scope records consistent)."""
    from arena.models import Rating, Scope, Vote

    engine = create_engine(url)
    with engine.connect() as conn:
        logged = set(conn.execute(select(Vote.id)).scalars())
        rows = conn.execute(
            select(
                Scope.key, func.sum(Rating.battles), func.sum(Rating.wins), func.sum(Rating.losses)
            )
            .join(Rating, Rating.scope_id == Scope.id)
            .group_by(Scope.key)
        ).all()
    engine.dispose()
    lost = len(set(accepted) - logged)
    totals = {key: (b, w, lo) for key, b, w, lo in rows}
    consistent = totals["overall"][0] == 2 * len(logged) and all(
        w == lo for _, w, lo in totals.values()
    )
    return lost, consistent


def run_backend(
    name: str,
    url: str,
    workers: int,
    votes: int,
    pair_seconds: float,
    folder: Path,
    rate_limit: str = "off",
) -> None:
    media = folder / f"media-{name}"
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": url,
        "ARENA_MEDIA_DIR": str(media),
        "ARENA_SECRET_KEY": "bench",
        # "off", or a limit too high to bind, to time Flask-Limiter's own cost.
        "ARENA_RATE_LIMIT": rate_limit,
        "ARENA_IP_RATE_LIMIT": rate_limit,
        # Every vote counted (the full rating update), none capped or flagged as too fast.
        "ARENA_MIN_VOTE_MS": "0",
        "ARENA_DAILY_VOTE_CAP": "0",
        # 16 load-generator voters from one address, none solving the proof of work: both
        # defences are measured by bench/rigging.py, not here.
        "ARENA_NEW_VOTERS_PER_ADDRESS": "off",
        "ARENA_POW": "0",
        # As in production: one worker publishes snapshots in the background while the
        # votes flow, so the figures include whatever that costs the votes.
        "ARENA_AUTOPUBLISH": "1",
    }
    _prepare(url, media, _small_seeds(folder / name), env)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "arena.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        out: mp.Queue = mp.get_context("spawn").Queue()
        driver = mp.get_context("spawn").Process(
            target=_driver, args=(port, votes, pair_seconds, out)
        )
        driver.start()
        result = out.get(timeout=900)
        driver.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    fired, pairs = result["fired"], result["pairs"]
    accepted = fired["accepted"] + pairs["accepted"]
    lost, consistent = _check_log(url, accepted)
    verify = subprocess.run(
        [str(Path(sys.executable).parent / "arena"), "verify"],
        env=env,
        capture_output=True,
        text=True,
    )
    lat = [x * 1000 for x in fired["latencies"]]
    pair_lat = [x * 1000 for x in pairs["latencies"]]
    print(f"{name}: {workers} gunicorn workers, {VOTERS} concurrent voters")
    print(
        f"  votes (battles issued beforehand): {len(fired['latencies'])} requests in "
        f"{fired['elapsed']:.2f} s = {len(fired['latencies']) / fired['elapsed']:.0f} req/s; "
        f"p50 {_percentile(lat, 0.5):.1f} ms, p99 {_percentile(lat, 0.99):.1f} ms; "
        f"statuses {fired['statuses']}; load generator used "
        f"{fired['client_cpu'] / fired['elapsed']:.0%} of a core"
    )
    print(
        f"  battle+vote pairs: {len(pairs['latencies'])} in {pairs['elapsed']:.2f} s = "
        f"{len(pairs['latencies']) / pairs['elapsed']:.0f} pairs/s; "
        f"p50 {_percentile(pair_lat, 0.5):.1f} ms, p99 {_percentile(pair_lat, 0.99):.1f} ms"
    )
    print(
        f"  lost votes: {lost}; scope records consistent: {consistent}; "
        f"arena verify: {verify.stdout.strip() or verify.stderr.strip()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=8000, help="votes in the fire phase")
    parser.add_argument("--pair-seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--rate-limit",
        default="off",
        help="ARENA_RATE_LIMIT and ARENA_IP_RATE_LIMIT for the server, e.g. 1000000/minute "
        "to time the limiter without it refusing anything (default: off)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="arena-bench-"))
    try:
        if args.only in (None, "sqlite"):
            run_backend(
                "sqlite",
                f"sqlite:///{folder / 'bench.db'}",
                args.workers,
                args.votes,
                args.pair_seconds,
                folder,
                args.rate_limit,
            )
        if args.only in (None, "postgresql"):
            admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
            name = f"arena_bench_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = (
                    make_url(args.postgres_url)
                    .set(database=name)
                    .render_as_string(hide_password=False)
                )
                run_backend(
                    "postgresql",
                    url,
                    args.workers,
                    args.votes,
                    args.pair_seconds,
                    folder,
                    args.rate_limit,
                )
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
