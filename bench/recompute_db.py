"""End-to-end leaderboard benchmark on a real database: import 1M votes, then recompute.

For SQLite and PostgreSQL: a fresh database is migrated and seeded, a CSV of synthetic
battles with known truth (27 models, three competitions in two categories, ~15% ties) is
imported with ``arena import-votes``, then ``arena recompute --bootstrap 1000`` publishes
every scope and ``arena verify`` replays the log. Each command runs as its own process, as
an operator would run it; the script prints the wall-clock time of each.

Run from the repository root: ``.venv/bin/python bench/recompute_db.py [--votes N]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ARENA = str(Path(sys.executable).parent / "arena")
SHARES = {"fantasy-warrior": 0.5, "heroic-super-hero-portrait": 0.3, "misty-mountains": 0.2}


def synthetic_csv(path: Path, votes: int, seed: int = 0) -> None:
    """Battles between the seeded models with Bradley-Terry truth N(1000, 150)."""
    models = sorted(
        yaml.safe_load(p.read_text())["id"] for p in (ROOT / "seeds/models").glob("*.yaml")
    )
    rng = np.random.default_rng(seed)
    truth = rng.normal(1000, 150, len(models))
    a = rng.integers(0, len(models), votes)
    b = (a + rng.integers(1, len(models), votes)) % len(models)
    p_a = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    u = rng.random(votes)
    tie = rng.random(votes) < 0.15
    winner = np.where(tie, "tie", np.where(u < p_a, "model_a", "model_b"))
    names = np.array(models)
    competition = rng.choice(list(SHARES), size=votes, p=list(SHARES.values()))
    pd.DataFrame(
        {"model_a": names[a], "model_b": names[b], "winner": winner, "competition": competition}
    ).to_csv(path, index=False)


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([ARENA, *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"arena {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def bench(name: str, url: str, csv: Path, folder: Path) -> None:
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": url,
        "ARENA_MEDIA_DIR": str(folder / "media"),
        "ARENA_SECRET_KEY": "bench",
    }
    run(["db", "upgrade"], env)
    run(["seed"], env)
    seconds, line = run(["import-votes", str(csv)], env)
    print(f"{name}: arena import-votes: {seconds:.1f} s ({line})")
    seconds, line = run(["recompute", "--bootstrap", "1000", "--seed", "1"], env)
    print(f"{name}: arena recompute --bootstrap 1000: {seconds:.1f} s ({line})")
    seconds, line = run(["verify"], env)
    print(f"{name}: arena verify: {seconds:.1f} s ({line})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arena-recompute-") as tmp:
        folder = Path(tmp)
        csv = folder / "votes.csv"
        started = time.perf_counter()
        synthetic_csv(csv, args.votes)
        print(f"{args.votes:,} synthetic votes written in {time.perf_counter() - started:.1f} s")
        if args.only in (None, "sqlite"):
            bench("sqlite", f"sqlite:///{folder / 'bench.db'}", csv, folder)
        if args.only in (None, "postgresql"):
            admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
            name = f"arena_bench_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres_url).set(database=name)
                bench("postgresql", url.render_as_string(hide_password=False), csv, folder)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
