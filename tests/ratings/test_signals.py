"""Anomaly scores: honest voters score like a standard normal, contrarians and bots do not."""

from __future__ import annotations

import numpy as np

from arena.ratings.signals import anomaly_scores


def _votes(rng: np.random.Generator, n: int, voters: int, behaviour: str):
    voter = rng.integers(0, voters, n)
    expected_a = rng.uniform(0.05, 0.95, n)
    if behaviour == "honest":
        a_won = rng.random(n) < expected_a
    elif behaviour == "random":
        a_won = rng.random(n) < 0.5
    else:  # always the underdog
        a_won = expected_a < 0.5
    return voter, a_won, expected_a


def test_anomaly_scores_of_honest_voters_are_standard_normal():
    rng = np.random.default_rng(1)
    scores = anomaly_scores(*_votes(rng, 200_000, 2_000, "honest"), 2_000)
    assert abs(scores.mean()) < 0.1
    assert 0.9 < scores.std() < 1.1
    assert (scores >= 3).mean() < 0.005


def test_anomaly_scores_single_out_random_and_contrarian_voters():
    rng = np.random.default_rng(2)
    random_bot = anomaly_scores(*_votes(rng, 400, 1, "random"), 1)
    contrarian = anomaly_scores(*_votes(rng, 40, 1, "underdog"), 1)
    assert random_bot[0] > 5
    assert contrarian[0] > 5


def test_anomaly_scores_need_enough_informative_votes():
    voter = np.array([0] * 9 + [1] * 12)
    expected_a = np.array([0.8] * 9 + [0.5] * 12)  # voter 1's votes carry no information
    a_won = np.ones(21, dtype=bool)
    scores = anomaly_scores(voter, a_won, expected_a, 3)
    assert np.isnan(scores).all()


def test_anomaly_score_matches_the_formula_by_hand():
    expected_a = np.array([0.8, 0.3, 0.6])
    a_won = np.array([False, True, True])  # underdog, underdog, favourite
    scores = anomaly_scores(np.zeros(3, dtype=int), a_won, expected_a, 1, min_votes=3)
    q = np.array([0.8, 0.7, 0.6])
    want = (q.sum() - 1.0) / np.sqrt((q * (1 - q)).sum())
    assert np.isclose(scores[0], want)
