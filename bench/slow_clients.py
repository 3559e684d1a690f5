"""Slow-client benchmark: can 50 slow connections starve the voters of ``arena serve``?

It creates a fresh SQLite database, migrates and seeds it, makes one competition's outputs
with the builtin provider (small images), and for each server configuration:

1. starts ``arena serve`` on a free 127.0.0.1 port with its defaults (the gthread workers)
   and, as a baseline, with ``--worker-class sync`` (the configuration before: one request
   per process at a time);
2. times one voter's requests (``POST /api/v1/battles`` then its vote, back to back) for a
   few quiet seconds;
3. opens the slow connections from a separate process (asyncio): clients that send their
   request headers one byte every ``--interval`` seconds, clients that keep an idle
   keep-alive connection after a request, and clients that connect and send nothing; each
   reconnects whenever the server drops it, so the pressure stays on;
4. times the voter again for ``--seconds`` while they are connected,

and prints p50/p99/max latency and errors per configuration.

Run from the repository root: ``.venv/bin/python bench/slow_clients.py [--no-baseline]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
ARENA = Path(sys.executable).with_name("arena")
COMPETITION = "fantasy-warrior-ii"


# --- the slow clients (run in their own process) ---------------------------------------------


async def _trickle(port: int, interval: float, stop: float, counts: dict[str, int]) -> None:
    """Send a request's headers one byte every ``interval`` seconds; reconnect when dropped."""
    request = (
        f"GET /arena HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: slow-{'x' * 200}\r\n\r\n"
    ).encode()
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            counts["connections"] += 1
            for i in range(len(request)):
                if time.monotonic() >= stop or reader.at_eof():
                    break
                writer.write(request[i : i + 1])
                await writer.drain()
                await asyncio.sleep(interval)
            writer.close()
        except OSError:
            counts["dropped"] += 1
            await asyncio.sleep(0.05)


async def _idle(port: int, first_request: bool, stop: float, counts: dict[str, int]) -> None:
    """Hold a connection open and silent (after one keep-alive request when
    ``first_request``) until the server closes it, then open another."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            counts["connections"] += 1
            if first_request:
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                await writer.drain()
                await reader.readuntil(b"\r\n\r\n")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(), timeout=max(0.1, stop - time.monotonic()))
            writer.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            counts["dropped"] += 1
            await asyncio.sleep(0.05)


def _slow_clients(port: int, tricklers: int, idle: int, interval: float, seconds: float) -> None:
    async def main() -> dict[str, int]:
        stop = time.monotonic() + seconds
        counts = {"connections": 0, "dropped": 0}
        tasks = [_trickle(port, interval, stop, counts) for _ in range(tricklers)]
        tasks += [_idle(port, i % 2 == 0, stop, counts) for i in range(idle)]
        await asyncio.gather(*tasks)
        return counts

    counts = asyncio.run(main())
    print(
        f"    slow clients: {counts['connections']} connections opened, "
        f"{counts['dropped']} failed or reset",
        flush=True,
    )


# --- the voter -------------------------------------------------------------------------------


@dataclass
class Timings:
    """One voter's request latencies (seconds) and failures."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _vote_for(base: str, seconds: float, timeout: float) -> Timings:
    """Battle + vote pairs by one voter (one cookie) for ``seconds``; every request timed."""
    timings = Timings()
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=timeout) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                battle = http.post("/api/v1/battles", json={"competition": COMPETITION})
                timings.latencies.append(time.perf_counter() - started)
                if battle.status_code != 201:
                    timings.error(f"battle {battle.status_code}")
                    continue
                started = time.perf_counter()
                vote = http.post(
                    f"/api/v1/battles/{battle.json()['token']}/vote", json={"winner": "left"}
                )
                timings.latencies.append(time.perf_counter() - started)
                if vote.status_code != 200:
                    timings.error(f"vote {vote.status_code}")
            except httpx.HTTPError as exc:
                timings.latencies.append(time.perf_counter() - started)
                timings.error(type(exc).__name__)
    return timings


# --- orchestration ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _small_seeds(folder: Path) -> Path:
    """The repository's seeds, each competition cut to three prompts at 96x64."""
    target = folder / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    path = target / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    for competition in data["competitions"]:
        competition["prompts"] = competition["prompts"][:3]
        for prompt in competition["prompts"]:
            prompt["size"] = "96x64"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return target


def _environment(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "ARENA_MEDIA_DIR": str(folder / "media"),
        "ARENA_SECRET_KEY": "bench",
        "ARENA_LIMITS_DB": str(folder / "limits.db"),
        # One voter votes back to back: no limit, proof of work or fast-vote flag in the way.
        "ARENA_RATE_LIMIT": "off",
        "ARENA_IP_RATE_LIMIT": "off",
        "ARENA_NEW_VOTERS_PER_ADDRESS": "off",
        "ARENA_POW": "off",
        "ARENA_MIN_VOTE_MS": "0",
        "ARENA_DAILY_VOTE_CAP": "0",
        "ARENA_AUTOPUBLISH": "1",
    }
    env.pop("ARENA_REDIS_URL", None)
    return env


def _prepare(env: dict[str, str], folder: Path) -> None:
    seeds = _small_seeds(folder)
    for args in (
        ["db", "upgrade"],
        ["seed", "--path", str(seeds)],
        ["generate", COMPETITION, "--provider", "builtin"],
    ):
        subprocess.run([str(ARENA), *args], env=env, check=True, capture_output=True)


def _start(env: dict[str, str], extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(ARENA), "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("arena serve did not answer /healthz within 60 s")


def _line(label: str, timings: Timings) -> str:
    ms = [x * 1000 for x in timings.latencies]
    return (
        f"    {label}: {len(ms)} requests, p50 {_percentile(ms, 0.5):.0f} ms, "
        f"p99 {_percentile(ms, 0.99):.0f} ms, max {max(ms, default=float('nan')):.0f} ms, "
        f"errors {timings.errors or 0}"
    )


def run(name: str, extra: list[str], env: dict[str, str], args: argparse.Namespace) -> Timings:
    """One configuration: quiet figures, then figures under the slow clients."""
    server, base = _start(env, extra)
    port = int(base.rsplit(":", 1)[1])
    try:
        print(f"{name} (arena serve {' '.join(extra) or '(defaults)'}):", flush=True)
        print(_line("quiet", _vote_for(base, args.quiet_seconds, args.timeout)), flush=True)
        slow = mp.get_context("spawn").Process(
            target=_slow_clients,
            args=(port, args.tricklers, args.idle, args.interval, args.seconds + 10),
        )
        slow.start()
        time.sleep(3)  # let them connect and take what they can
        loaded = _vote_for(base, args.seconds, args.timeout)
        print(
            _line(f"{args.tricklers + args.idle} slow connections", loaded),
            flush=True,
        )
        slow.join(timeout=args.seconds + 60)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="timed under slow clients")
    parser.add_argument("--quiet-seconds", type=float, default=5.0)
    parser.add_argument("--tricklers", type=int, default=30, help="byte-at-a-time headers")
    parser.add_argument(
        "--idle", type=int, default=20, help="idle connections (half after a keep-alive request)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between bytes")
    parser.add_argument("--timeout", type=float, default=60.0, help="a voter request's timeout")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: arena's)")
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the old configuration (sync workers) as a baseline",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="arena-slow-"))
    try:
        env = _environment(folder)
        started = time.perf_counter()
        _prepare(env, folder)
        print(f"prepared a seeded SQLite database in {time.perf_counter() - started:.1f} s")
        common = ["--workers", str(args.workers)] if args.workers else []
        results = {"gthread (new default)": run("gthread (new default)", common, env, args)}
        if args.baseline:
            results["sync (baseline)"] = run(
                "sync (baseline)", [*common, "--worker-class", "sync"], env, args
            )
        print("summary under slow clients:")
        for name, timings in results.items():
            print(_line(name, timings))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
