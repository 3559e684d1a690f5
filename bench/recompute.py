"""Leaderboard recompute benchmark: the published fit and its 1,000-round bootstrap.

For synthetic vote logs with known true ratings (drawn from N(1000, 150); ties from
Davidson's model, about 15%, likelier between close models) at 10k battles / 21 models,
100k / 50 and 1M / 100, it times

1. aggregation of the battles into per-pair counts (``pairs.aggregate``),
2. the published fit (the decisive votes, ``arena.ratings.published``'s default tie model)
   and its 1,000-round bootstrap of all votes; fit + bootstrap is the headline figure; the
   same for the Davidson fit (``--ties davidson``) and the half-win fit (``--ties half``),
3. the same work done the way public arena code does it (FastChat's ``compute_bootstrap_bt``):
   multinomial counts for every round, then one scipy ``minimize(method="L-BFGS-B")`` fit of
   the aggregated (pair, outcome) counts per round (``gtol=1e-6``, at most 100 iterations,
   analytic gradient), with the loss written as FastChat does (``expit``, logs, ``np.add.at``)
   and again with a leaner loss (``logaddexp``, ``np.bincount``), and an L-BFGS fit of the
   Davidson model itself per round (lean loss); a subset of rounds is timed and extrapolated
   to 1,000,
4. on the 10k size only, FastChat's older way: per round, resample the battles and fit a
   scikit-learn ``LogisticRegression`` on the individual battle rows (each battle twice, a
   tie as one win each way), a few rounds timed and extrapolated,

and prints the speed-up ratios, the largest difference between our fit and the L-BFGS fits
(FastChat's tolerance, and tight: the latter measures our regulariser), the bootstrap's
mean interval width and how often the intervals cover the truth. Every timed numpy step
runs with BLAS pinned to one thread (threadpoolctl), and every figure is single-process work
on one core (FastChat spreads its rounds over a process pool: at most 2x on this machine).

Acceptance: fit + 1,000-round bootstrap at 1M battles x 100 models within 2 s, and at least
20x faster than the per-round L-BFGS way (FastChat-style loss) measured in the same run; the
ratio against the lean-loss L-BFGS is printed beside it.

Run from the repository root: ``.venv/bin/python bench/recompute.py [--sizes small]``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from arena.ratings import bradley_terry as bt  # noqa: E402
from arena.ratings import confidence, davidson, pairs  # noqa: E402
from arena.ratings.resampling import Multinomial  # noqa: E402

SIZES = {"small": (10_000, 21), "medium": (100_000, 50), "large": (1_000_000, 100)}
ROUNDS = 1000
NU = 0.4  # Davidson's tie parameter: 17% ties between equal models, about 15% overall
TARGET_SECONDS = 2.0
TARGET_RATIO = 20.0


def synthetic(n_battles: int, n_models: int, rng: np.random.Generator):
    """True ratings ``(m,)`` and battles ``(a, b, outcome)`` drawn from the model."""
    truth = rng.normal(1000.0, 150.0, n_models)
    a = rng.integers(0, n_models, n_battles)
    b = rng.integers(0, n_models - 1, n_battles)
    b = np.where(b >= a, b + 1, b)
    xa, xb = 10.0 ** (truth[a] / 400.0), 10.0 ** (truth[b] / 400.0)
    tie = NU * np.sqrt(xa * xb)
    u = rng.random(n_battles) * (xa + xb + tie)
    outcome = np.where(u < xa, 0, np.where(u < xa + tie, 2, 1)).astype(np.int8)
    return truth, a, b, outcome


def timed(fn, repeats: int):
    """(median seconds, best seconds, last result) over ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:9.1f} ms" if seconds < 10 else f"{seconds:9.1f} s "


# --- the per-round way of public arena code (scipy L-BFGS on aggregated counts) -------------


def lbfgs_rows(cells: pairs.Cells):
    """FastChat-style rows: one per (pair, outcome), outcome 1 / 0 / 0.5 for a won / lost / tie."""
    pairs = np.column_stack([cells.a, cells.b])
    matchups = np.concatenate([pairs, pairs, pairs])
    outcomes = np.repeat([1.0, 0.0, 0.5], cells.a.size)
    counts = np.concatenate([cells.wins_a, cells.wins_b, cells.ties]).astype(np.float64)
    return matchups, outcomes, counts


def loss_public(r, matchups, outcomes, weights, alpha):
    """Weighted log-loss and gradient as public arena code writes it (FastChat's
    ``bt_loss_and_grad``: gather, ``expit``, logs, ``np.add.at`` to scatter the gradient)."""
    pair_ratings = r[matchups]
    probs = expit(alpha * (pair_ratings[:, 0] - pair_ratings[:, 1]))
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    per_row = -alpha * (outcomes - probs) * weights
    grad = np.zeros_like(r)
    np.add.at(grad, matchups, per_row[:, None] * np.array([1.0, -1.0]))
    return loss, grad


def loss_lean(r, matchups, outcomes, weights, alpha):
    """The same loss and gradient, leaner: stable logs and ``np.bincount`` scatters."""
    a, b = matchups[:, 0], matchups[:, 1]
    logits = alpha * (r[a] - r[b])
    loss = np.sum(weights * (np.logaddexp(0.0, -logits) + (1.0 - outcomes) * logits))
    per_row = -alpha * weights * (outcomes - expit(logits))
    grad = np.bincount(a, per_row, r.size) - np.bincount(b, per_row, r.size)
    return loss, grad


def lbfgs_fit(matchups, outcomes, weights, n_models, loss=loss_public, **options):
    """Ratings (mean 1000) maximising the weighted likelihood with scipy's L-BFGS-B.

    Defaults as in FastChat's ``fit_bt``: ``gtol=1e-6``, at most 100 iterations.
    """
    options = {"maxiter": 100, "gtol": 1e-6, **options}
    result = minimize(
        loss,
        np.zeros(n_models),
        args=(matchups, outcomes, weights, math.log(bt.BASE)),
        jac=True,
        method="L-BFGS-B",
        options=options,
    )
    ratings = result.x * bt.SCALE
    return ratings - ratings.mean() + bt.ANCHOR


def loss_davidson(params, a, b, weights):
    """Davidson's negative log-likelihood and gradient in (log-odds, log nu), lean style;
    ``weights`` ``(3, p)``: wins of ``a``, wins of ``b``, ties per pair."""
    n = params.size - 1
    theta, lam = params[:n], params[n]
    ta, tb = theta[a], theta[b]
    tie_logit = lam + 0.5 * (ta + tb)
    log_d = np.logaddexp(np.logaddexp(ta, tb), tie_logit)
    wa, wb, t = weights
    total = wa + wb + t
    loss = -np.sum(wa * ta + wb * tb + t * tie_logit - total * log_d)
    pa, pb, pt = np.exp(ta - log_d), np.exp(tb - log_d), np.exp(tie_logit - log_d)
    ga = -(wa + 0.5 * t - total * (pa + 0.5 * pt))
    gb = -(wb + 0.5 * t - total * (pb + 0.5 * pt))
    grad = np.empty_like(params)
    grad[:n] = np.bincount(a, ga, n) + np.bincount(b, gb, n)
    grad[n] = -np.sum(t - total * pt)
    return loss, grad


def lbfgs_davidson_bootstrap(cells: pairs.Cells, rounds: int, rng: np.random.Generator):
    """Multinomial counts for all rounds, then one L-BFGS Davidson fit per round."""
    counts = np.concatenate([cells.wins_a, cells.wins_b, cells.ties]).astype(np.float64)
    n, p = cells.total, cells.a.size
    weights = rng.multinomial(n, counts / n, size=rounds) / n
    out = []
    for w in weights:
        result = minimize(
            loss_davidson, np.zeros(cells.n_models + 1), args=(cells.a, cells.b, w.reshape(3, p)),
            jac=True, method="L-BFGS-B", options={"maxiter": 100, "gtol": 1e-6},
        )  # fmt: skip
        out.append(result.x[: cells.n_models])
    return np.array(out)


def lbfgs_bootstrap(cells: pairs.Cells, rounds: int, rng: np.random.Generator, loss) -> np.ndarray:
    """Multinomial counts for all rounds at once, then one L-BFGS fit per round."""
    matchups, outcomes, counts = lbfgs_rows(cells)
    keep = counts > 0  # the observed (pair, outcome) rows, as FastChat has them
    matchups, outcomes, counts = matchups[keep], outcomes[keep], counts[keep]
    n = cells.total
    weights = rng.multinomial(n, counts / n, size=rounds) / n
    return np.array([lbfgs_fit(matchups, outcomes, w, cells.n_models, loss) for w in weights])


# --- FastChat's older way: scikit-learn logistic regression on battle rows ------------------


def sklearn_available() -> str | None:
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__


def logistic_round(a, b, outcome, n_models, rng: np.random.Generator) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    pick = rng.integers(0, a.size, a.size)  # resample the battles with replacement
    a, b, outcome = a[pick], b[pick], outcome[pick]
    n = a.size
    x = np.zeros((2 * n, n_models))
    rows = np.arange(2 * n)
    x[rows, np.concatenate([a, a])] = math.log(bt.BASE)
    x[rows, np.concatenate([b, b])] = -math.log(bt.BASE)
    # each battle twice: an a-win is two a-wins, a tie one a-win and one b-win
    y = np.concatenate([outcome != 1, outcome == 0])
    model = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8)  # C=inf: no penalty
    model.fit(x, y)
    ratings = bt.SCALE * model.coef_[0]
    return ratings - ratings.mean() + bt.ANCHOR


# --- the benchmark --------------------------------------------------------------------------


def blas_report() -> list[str]:
    lines = []
    before = {info["filepath"]: info["num_threads"] for info in threadpool_info()}
    with threadpool_limits(1):
        during = threadpool_info()
    for info in during:
        lines.append(
            f"  {info['internal_api']} {info.get('version')} "
            f"({info.get('architecture', '?')}, {Path(info['filepath']).name}): "
            f"{info['num_threads']} thread(s) during timings, "
            f"{before.get(info['filepath'], '?')} otherwise"
        )
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    lines.append(f"  OPENBLAS_CORETYPE={coretype!r}" if coretype else "  OPENBLAS_CORETYPE unset")
    return lines


def run_size(name: str, n_battles: int, n_models: int, args) -> dict:
    rng = np.random.default_rng(20240 + n_models)
    truth, a, b, outcome = synthetic(n_battles, n_models, rng)
    target = truth - truth.mean() + bt.ANCHOR
    print(
        f"\n{name}: {n_battles:,} battles x {n_models} models "
        f"(ties {np.mean(outcome == 2):.1%}, ratings sd {truth.std():.0f})"
    )
    out = {}
    with threadpool_limits(1):
        warm_up = pairs.aggregate(a, b, outcome, n_models)
        bt.bootstrap(warm_up, 10, np.random.default_rng(0))
        t_agg, b_agg, cells = timed(lambda: pairs.aggregate(a, b, outcome, n_models), args.repeats)
        sampler = Multinomial(np.concatenate([cells.wins_a, cells.wins_b, cells.ties]))
        decisive = pairs.decisive_cells(cells)
        t_fit, b_fit, ratings = timed(lambda: bt.fit(decisive), args.repeats)

        def boot(start):
            return bt.bootstrap(cells, ROUNDS, np.random.default_rng(1), start=start, decisive=True)

        def davidson_fit_and_bootstrap():
            r = davidson.fit(cells)
            return davidson.bootstrap(cells, sampler, ROUNDS, np.random.default_rng(1), start=r)

        def half_fit_and_bootstrap():
            r = bt.fit(cells)
            return bt.bootstrap(cells, ROUNDS, np.random.default_rng(1), start=r)

        t_boot, b_boot, samples = timed(lambda: boot(ratings), args.repeats)
        t_head, b_head, _ = timed(lambda: boot(bt.fit(decisive)), args.repeats)
        t_dav, b_dav, _ = timed(davidson_fit_and_bootstrap, args.repeats)
        t_half, b_half, _ = timed(half_fit_and_bootstrap, args.repeats)
        low, high = confidence.intervals(samples)
        half_ratings = bt.fit(cells)
        nu = davidson.fit(cells)[1]

        # the per-round L-BFGS way, on a subset of rounds
        matchups, outcomes, counts = lbfgs_rows(cells)
        keep = counts > 0  # FastChat keeps the observed (pair, outcome) rows only
        rows = matchups[keep], outcomes[keep], counts[keep] / cells.total, n_models
        ref = lbfgs_fit(*rows)
        ref_lean = lbfgs_fit(*rows, loss=loss_lean)
        tight = lbfgs_fit(*rows, loss=loss_lean, gtol=1e-12, ftol=1e-15, maxiter=10_000)
        sub = args.lbfgs_rounds
        t_lbfgs, t_lbfgs_sub = {}, {}
        for style, loss in (("public", loss_public), ("lean", loss_lean)):
            start = time.perf_counter()
            lbfgs_bootstrap(cells, sub, np.random.default_rng(2), loss)
            t_lbfgs_sub[style] = time.perf_counter() - start
            t_lbfgs[style] = t_lbfgs_sub[style] * ROUNDS / sub
        start = time.perf_counter()
        lbfgs_davidson_bootstrap(cells, sub, np.random.default_rng(2))
        t_lbfgs_sub["davidson"] = time.perf_counter() - start
        t_lbfgs["davidson"] = t_lbfgs_sub["davidson"] * ROUNDS / sub

        t_lr = None
        if name == "small" and args.lr_rounds:
            if sklearn_available():
                lr_rng = np.random.default_rng(3)
                logistic_round(a, b, outcome, n_models, lr_rng)  # warm-up (imports)
                start = time.perf_counter()
                for _ in range(args.lr_rounds):
                    logistic_round(a, b, outcome, n_models, lr_rng)
                t_lr_sub = time.perf_counter() - start
                t_lr = t_lr_sub * ROUNDS / args.lr_rounds
            else:
                print("  scikit-learn is not installed: logistic-regression comparison skipped")

    rep = f"median of {args.repeats}, best"
    print(f"  aggregate             {fmt(t_agg)}   ({rep} {fmt(b_agg).strip()})")
    print(f"  published fit         {fmt(t_fit)}   ({rep} {fmt(b_fit).strip()})")
    print(f"  bootstrap x{ROUNDS}       {fmt(t_boot)}   ({rep} {fmt(b_boot).strip()})")
    print(f"  fit + bootstrap       {fmt(t_head)}   ({rep} {fmt(b_head).strip()})  <- headline")
    print(f"  Davidson fit + boot.  {fmt(t_dav)}   ({rep} {fmt(b_dav).strip()})  (--ties davidson)")
    print(f"  half-win fit + boot.  {fmt(t_half)}   ({rep} {fmt(b_half).strip()})  (--ties half)")
    labels = (
        ("public", "half-win, FastChat-style loss"),
        ("lean", "half-win, lean loss"),
        ("davidson", "Davidson, lean loss"),
    )
    for style, label in labels:
        print(
            f"  per-round L-BFGS      {fmt(t_lbfgs[style])}   ({label}: timed {sub} rounds in "
            f"{t_lbfgs_sub[style]:.2f} s, extrapolated x{ROUNDS // sub} to {ROUNDS})"
        )
        print(f"    ratio vs L-BFGS     {t_lbfgs[style] / t_head:9.1f} x   ({label})")
    if t_lr is not None:
        print(
            f"  per-round sklearn LR  {fmt(t_lr)}   (timed {args.lr_rounds} rounds: "
            f"{t_lr_sub:.2f} s, extrapolated to {ROUNDS})"
        )
        print(f"    ratio vs sklearn LR {t_lr / t_head:9.1f} x")
    print(
        f"  Davidson tie rate between equal models {nu / (2 + nu):.1%}; half-win fit:\n"
        f"  max |ours - L-BFGS|   {np.abs(half_ratings - ref).max():9.4f} pts (FastChat-style, "
        f"gtol 1e-6); {np.abs(half_ratings - ref_lean).max():.4f} (lean); "
        f"{np.abs(half_ratings - tight).max():.5f} vs a tight unregularised fit (gtol 1e-12)"
    )
    se_cover = np.mean((low <= target) & (target <= high))
    print(
        f"  fit vs truth          max |error| {np.abs(ratings - target).max():.2f} pts; "
        f"95% intervals: mean width {np.mean(high - low):.2f} pts, cover truth {se_cover:.0%}"
    )
    out.update(
        head=t_head,
        best=b_head,
        lbfgs=t_lbfgs["public"],
        lean=t_lbfgs["lean"],
        davidson=t_lbfgs["davidson"],
        lr=t_lr,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="small,medium,large",
        help="comma-separated: small (10k x 21), medium (100k x 50), large (1M x 100)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="timings per figure (median)")
    parser.add_argument("--lbfgs-rounds", type=int, default=100, help="L-BFGS rounds timed")
    parser.add_argument("--lr-rounds", type=int, default=5, help="sklearn rounds timed (small)")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}")

    import scipy

    print(__doc__.splitlines()[0])
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn_available() or 'not installed'}; {os.cpu_count()} CPUs"
    )
    print("BLAS (threadpoolctl):")
    for line in blas_report():
        print(line)

    results = {name: run_size(name, *SIZES[name], args) for name in sizes}

    if "large" in results:
        large = results["large"]
        ratio = large["lbfgs"] / large["head"]
        print("\nacceptance (1M battles x 100 models, fit + 1,000-round bootstrap):")
        verdict = "PASS" if large["head"] <= TARGET_SECONDS else "FAIL"
        print(
            f"  {large['head']:.2f} s (median; best {large['best']:.2f} s) "
            f"<= {TARGET_SECONDS:.0f} s: {verdict}"
        )
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(
            f"  {ratio:.1f}x faster than per-round L-BFGS (FastChat-style) "
            f">= {TARGET_RATIO:.0f}x: {verdict}"
        )
        lean = large["lean"] / large["head"]
        verdict = "PASS" if lean >= TARGET_RATIO else "below"
        print(f"  ({lean:.1f}x against the lean-loss L-BFGS: {verdict})")
        same = large["davidson"] / large["head"]
        verdict = "PASS" if same >= TARGET_RATIO else "below"
        print(f"  ({same:.1f}x against a per-round L-BFGS fit of the Davidson model: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
