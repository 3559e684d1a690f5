"""Battle- and vote-path cost in process: N API battles, then N votes on them, through the
Flask test client, rate limiter off and on.

No HTTP server and no concurrency, so the figures are the CPU cost of one battle request
(matchmaking, the battle row, the images' variants claimed from their pools) and of one vote
request (the view, the limiter, the five-statement transaction), and are far steadier on a
busy machine than ``bench/vote_load.py``. Each is timed twice: wall time, and CPU time of the
request's thread (``time.thread_time``: leaves out the variant pools' background encoder).
It alternates runs with ``ARENA_RATE_LIMIT``/``ARENA_IP_RATE_LIMIT`` ``off`` and a limit too
high to bind, and prints each run and the medians. ``--size 4`` times best-of-four battles
(four images, a ``best`` vote: three pairwise rows) instead of two-image battles.

Run from the repository root: ``.venv/bin/python bench/vote_path.py [--votes N] [--rounds R]
[--size 2|4]``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vote_load import _small_seeds  # noqa: E402  (bench/ is this script's folder)

COMPETITION = "fantasy-warrior-ii"


def run(votes: int, limit: str, size: int = 2) -> dict[str, float]:
    """Milliseconds per battle and per vote request on a fresh SQLite database: wall time
    (``battle``, ``vote``) and the request thread's CPU time (``battle_cpu``, ``vote_cpu``)."""
    from arena import create_app, schema
    from arena.services import generation
    from arena.services.seeding import load_seeds
    from arena.web.db import get_db

    folder = Path(tempfile.mkdtemp(prefix="arena-vote-path-"))
    try:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                "MEDIA_DIR": str(folder / "media"),
                "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
                "RATE_LIMIT": limit,
                "IP_RATE_LIMIT": limit,
                "MIN_VOTE_MS": 0,
                "DAILY_VOTE_CAP": 0,
                # 16 test clients are 16 new voters from one address, none solving the proof
                # of work: both are measured elsewhere (bench/rigging.py).
                "POW": False,
                "VARIANT_POOL": 0,  # images are not fetched here: no pools to fill
                "NEW_VOTERS_PER_ADDRESS": "off",
                "AUTOPUBLISH": False,  # the vote path alone, no publisher thread beside it
            }
        )
        with app.app_context():
            db = get_db()
            schema.upgrade(db.engine)
            with db.session() as session:
                load_seeds(session, _small_seeds(folder))
                chosen = generation.select_competitions(session, [COMPETITION], False)
                jobs = generation.plan_jobs(session, chosen, app.config, "builtin").jobs
                generation.run_jobs(session, jobs, app.config, workers=2)
        clients = [app.test_client() for _ in range(16)]
        for client in clients:  # warm up: each client's voter exists before the timing
            client.post("/api/v1/battles", json={"competition": COMPETITION})
        battles = []
        ask = {"competition": COMPETITION, "size": size}
        ballot = {"winner": "left"} if size == 2 else {"best": 0}
        started, cpu = time.perf_counter(), time.thread_time()
        for i in range(votes):
            client = clients[i % len(clients)]
            response = client.post("/api/v1/battles", json=ask)
            assert response.status_code == 201, response.get_data(as_text=True)
            battles.append((client, response.json["token"]))
        figures = {
            "battle": time.perf_counter() - started,
            "battle_cpu": time.thread_time() - cpu,
        }
        started, cpu = time.perf_counter(), time.thread_time()
        for client, token in battles:
            response = client.post(f"/api/v1/battles/{token}/vote", json=ballot)
            assert response.status_code == 200, response.get_data(as_text=True)
        figures["vote"] = time.perf_counter() - started
        figures["vote_cpu"] = time.thread_time() - cpu
        app.extensions["arena.db"].engine.dispose()
        # The app's variant thread outlives the folder removed below: its complaints about
        # the missing database are not this benchmark's business.
        logging.getLogger("arena.services.voting.variants").disabled = True
        return {name: 1000 * seconds / votes for name, seconds in figures.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", default="1000000/minute", help="the limit of the 'on' runs")
    parser.add_argument("--size", type=int, choices=(2, 4), default=2, help="images per battle")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"off": [], args.limit: []}
    for _ in range(args.rounds):
        for limit in results:
            ms = run(args.votes, limit, args.size)
            results[limit].append(ms)
            print(
                f"rate limit {limit:>16}: battle {ms['battle']:.3f} ms "
                f"(CPU {ms['battle_cpu']:.3f}), vote {ms['vote']:.3f} ms "
                f"(CPU {ms['vote_cpu']:.3f}) per request"
            )
    for name in ("battle", "battle_cpu", "vote", "vote_cpu"):
        off = statistics.median(r[name] for r in results["off"])
        on = statistics.median(r[name] for r in results[args.limit])
        print(f"median {name:>10}: off {off:.3f} ms, on {on:.3f} ms (limiter {on - off:+.3f} ms)")


if __name__ == "__main__":
    main()
