"""Vote-path cost in process: N API votes through the Flask test client, rate limiter off and on.

No HTTP server and no concurrency, so the figure is the CPU cost of one vote request (the
view, the limiter, the five-statement transaction) and is far steadier on a busy machine than
``bench/vote_load.py``. It alternates runs with ``ARENA_RATE_LIMIT``/``ARENA_IP_RATE_LIMIT``
``off`` and a limit too high to bind, and prints each run and the medians.

Run from the repository root: ``.venv/bin/python bench/vote_path.py [--votes N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
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


def run(votes: int, limit: str) -> float:
    """Milliseconds per vote request on a fresh SQLite database."""
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
        battles = []
        for i in range(votes):
            client = clients[i % len(clients)]
            response = client.post("/api/v1/battles", json={"competition": COMPETITION})
            battles.append((client, response.json["token"]))
        started = time.perf_counter()
        for client, token in battles:
            response = client.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
            assert response.status_code == 200, response.get_data(as_text=True)
        elapsed = time.perf_counter() - started
        app.extensions["arena.db"].engine.dispose()
        return 1000 * elapsed / votes
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", default="1000000/minute", help="the limit of the 'on' runs")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"off": [], args.limit: []}
    for _ in range(args.rounds):
        for limit in results:
            ms = run(args.votes, limit)
            results[limit].append(ms)
            print(f"rate limit {limit:>16}: {ms:.3f} ms per vote request ({1000 / ms:.0f}/s)")
    off = statistics.median(results["off"])
    on = statistics.median(results[args.limit])
    print(f"median: off {off:.3f} ms, on {on:.3f} ms; the limiter costs {on - off:+.3f} ms")


if __name__ == "__main__":
    main()
