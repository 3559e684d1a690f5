"""Calibration of the published rating: coverage of a known truth by its 95% intervals, and
Kendall tau of its ranking, by simulation.

Each trial draws true ratings for ``--models`` models from N(1000, 100) (centred on 1000, the
anchor of the published scale), draws votes on uniformly random pairs, and publishes them
through ``arena.ratings.published.publish``, the function ``arena recompute`` runs. Votes come
from one of two generators:

- ``davidson``: Davidson's tie model on the Elo scale, ``P(A wins) = pa / (pa + pb + nu *
  sqrt(pa * pb))`` and ``P(tie) = nu * sqrt(pa * pb) / (...)`` with ``p = 10**(r / 400)``, so a
  400-point gap is 10:1 odds in a decisive vote; ``nu = 2t / (1 - t)`` makes the tie rate
  ``t`` between equal models.
- ``independent``: a tie with probability ``t`` whatever the ratings; otherwise the usual
  logistic win probability.

For each cell (votes x tie rate x generator) it prints the coverage (share of (trial, model)
whose interval holds the truth; the goal is 93-97%), the median Kendall tau of the published
ranking with the true one (and, beside it, of the online Elo with K = 32 over the same votes
in log order: the ranking the project published before), the median interval width, and the
fitted scale (slope of the published ratings on the truth: 1 means the scale is right).
``--tie-model`` picks the tie model (default: the published one). A last line checks thin data:
``--thin`` votes over the same models, the largest distance of any rating from 1000 and the
share of ratings inside their own interval.

Run from the repository root: ``.venv/bin/python bench/calibration.py [--trials 100]``.
``--quick`` runs 20 trials of 200 rounds to try it out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from arena.ratings import elo  # noqa: E402  (after the path set-up above)
from arena.ratings.published import TIE_MODELS, publish  # noqa: E402

GENERATORS = ("davidson", "independent")


def draw_votes(
    truth: np.ndarray, votes: int, tie_rate: float, generator: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``votes`` votes on uniformly random pairs: (model a, model b, outcome 0/1/2 = a won,
    b won, tie), drawn from ``generator`` with tie rate ``tie_rate`` between equal models."""
    n = truth.size
    a = rng.integers(0, n, votes)
    b = (a + rng.integers(1, n, votes)) % n
    strength_a = 10.0 ** (truth[a] / 400.0)
    strength_b = 10.0 ** (truth[b] / 400.0)
    if generator == "davidson":
        nu = 2.0 * tie_rate / (1.0 - tie_rate)
        tie_weight = nu * np.sqrt(strength_a * strength_b)
        total = strength_a + strength_b + tie_weight
        p_a, p_tie = strength_a / total, tie_weight / total
    else:
        p_tie = np.full(votes, tie_rate)
        p_a = (1.0 - tie_rate) * strength_a / (strength_a + strength_b)
    u = rng.random(votes)
    outcome = np.where(u < p_a, 0, np.where(u < p_a + p_tie, 2, 1))
    return a, b, outcome


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a between two score vectors (pairs tied in either count as 0)."""
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    n = x.size
    return float((dx * dy).sum() / (n * (n - 1)))


def run_cell(
    votes: int, tie_rate: float, generator: str, args: argparse.Namespace, seed: int
) -> dict[str, float]:
    """Coverage, median tau, median width and mean fitted scale of one cell."""
    rng = np.random.default_rng(seed)
    covered = total = 0
    taus, elo_taus, widths, scales = [], [], [], []
    for _ in range(args.trials):
        truth = rng.normal(1000.0, 100.0, args.models)
        truth += 1000.0 - truth.mean()
        a, b, outcome = draw_votes(truth, votes, tie_rate, generator, rng)
        fit = publish(a, b, outcome, args.models, rounds=args.rounds, rng=rng, ties=args.tie_model)
        covered += int(np.sum((fit.low <= truth) & (truth <= fit.high)))
        total += args.models
        taus.append(kendall_tau(fit.ratings, truth))
        online = elo.history(a, b, outcome, args.models, points=1)[1][-1]
        elo_taus.append(kendall_tau(online, truth))
        widths.append(float(np.median(fit.high - fit.low)))
        centred = truth - truth.mean()
        scales.append(
            float(np.dot(fit.ratings - fit.ratings.mean(), centred) / centred.dot(centred))
        )
    return {
        "coverage": covered / total,
        "tau": statistics.median(taus),
        "elo_tau": statistics.median(elo_taus),
        "width": statistics.median(widths),
        "scale": statistics.fmean(scales),
    }


def thin_data(args: argparse.Namespace, seed: int) -> dict[str, float]:
    """The worst rating and the share of ratings inside their interval on ``--thin`` votes."""
    rng = np.random.default_rng(seed)
    worst, inside, total = 0.0, 0, 0
    for _ in range(args.trials):
        truth = rng.normal(1000.0, 100.0, args.models)
        truth += 1000.0 - truth.mean()
        a, b, outcome = draw_votes(truth, args.thin, 0.1, "davidson", rng)
        fit = publish(a, b, outcome, args.models, rounds=args.rounds, rng=rng, ties=args.tie_model)
        worst = max(worst, float(np.max(np.abs(fit.ratings - 1000.0))))
        inside += int(np.sum((fit.low <= fit.ratings) & (fit.ratings <= fit.high)))
        total += args.models
    return {"worst": worst, "inside": inside / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="trials per cell")
    parser.add_argument("--rounds", type=int, default=500, help="bootstrap rounds per fit")
    parser.add_argument("--models", type=int, default=21)
    parser.add_argument("--votes", type=int, nargs="+", default=[500, 2000, 8000])
    parser.add_argument("--ties", type=float, nargs="+", default=[0.0, 0.1, 0.3])
    parser.add_argument("--generators", nargs="+", choices=GENERATORS, default=list(GENERATORS))
    parser.add_argument("--thin", type=int, default=60, help="votes of the thin-data check")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="20 trials of 200 rounds")
    parser.add_argument("--tie-model", choices=TIE_MODELS, default=TIE_MODELS[0], help="tie model")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.rounds = 20, 200
    print(
        f"{args.models} models, truth N(1000, 100), {args.trials} trials per cell, "
        f"{args.rounds} bootstrap rounds, tie model {args.tie_model}; goal: coverage 93-97%"
    )
    print(f"{'generator':<12} {'votes':>6} {'ties':>5} {'coverage':>9} {'tau':>6} {'Elo tau':>8} "
          f"{'width':>7} {'scale':>6} {'seconds':>8}")  # fmt: skip
    with threadpool_limits(limits=1):
        cell = 0
        for generator in args.generators:
            for votes in args.votes:
                for ties in args.ties:
                    cell += 1
                    started = time.perf_counter()
                    r = run_cell(votes, ties, generator, args, args.seed + cell)
                    print(
                        f"{generator:<12} {votes:>6} {ties:>5.0%} {r['coverage']:>9.1%} "
                        f"{r['tau']:>6.3f} {r['elo_tau']:>8.3f} {r['width']:>7.0f} "
                        f"{r['scale']:>6.2f} {time.perf_counter() - started:>8.1f}",
                        flush=True,
                    )
        thin = thin_data(args, args.seed)
    print(
        f"thin data ({args.thin} votes, {args.models} models, 10% ties): largest |rating - 1000| "
        f"{thin['worst']:.0f}; ratings inside their own interval {thin['inside']:.1%}"
    )


if __name__ == "__main__":
    main()
