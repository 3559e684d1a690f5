"""Elo maths against worked examples, its history over a log, and ranks with shared places."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import elo
from arena.ratings.ranks import best_first, competition_ranks


def test_elo_equal_ratings_win_moves_half_k():
    assert elo.update(1000.0, 1000.0, 1.0) == (1016.0, 984.0)


def test_elo_equal_ratings_loss_is_the_mirror():
    assert elo.update(1000.0, 1000.0, 0.0) == (984.0, 1016.0)


def test_elo_favourite_win_gains_little():
    # Expected score of a 200-point favourite: 1 / (1 + 10**(-0.5)) = 0.759746926...
    a, b = elo.update(1200.0, 1000.0, 1.0)
    assert a == pytest.approx(1207.688098, abs=1e-6)
    assert b == pytest.approx(992.311902, abs=1e-6)


def test_elo_tie_against_weaker_loses_points():
    a, b = elo.update(1200.0, 1000.0, 0.5)
    assert a == pytest.approx(1191.688098, abs=1e-6)
    assert b == pytest.approx(1008.311902, abs=1e-6)


def test_elo_k_scales_the_step():
    assert elo.update(1000.0, 1000.0, 1.0, k=16) == (1008.0, 992.0)
    assert elo.update(1000.0, 1000.0, 1.0, k=10) == (1005.0, 995.0)


def test_elo_update_is_zero_sum():
    a, b = elo.update(1337.0, 911.0, 0.0, k=24)
    assert a + b == pytest.approx(1337.0 + 911.0)


def test_elo_replay_keeps_records_per_scope():
    replay = elo.Replay(k=32)
    replay.apply(["overall", "competition:x"], "m1", "m2", "model_a")
    replay.apply(["overall"], "m1", "m2", "tie (bothbad)")
    m1 = replay.records[("overall", "m1")]
    assert (m1.wins, m1.losses, m1.ties, m1.battles) == (1, 0, 1, 2)
    assert replay.records[("competition:x", "m2")].losses == 1
    assert replay.records[("overall", "m1")].elo == pytest.approx(elo.update(1016.0, 984.0, 0.5)[0])
    with pytest.raises(KeyError):
        replay.apply(["overall"], "m1", "m2", "left")


def test_ranks_share_the_better_place():
    ranks = competition_ranks(np.array([1000.0, 1200.0, 1100.0, 1100.0]))
    assert ranks.tolist() == [4, 1, 2, 2]


def test_best_first_orders_high_to_low_keeping_ties_in_index_order():
    assert best_first(np.array([1000.0, 1200.0, 1100.0, 1100.0])).tolist() == [1, 2, 3, 0]


# Three votes between models 0, 1 and 2: 0 beats 1, then 1 ties 2, then 2 (as model_a) beats 0.
VOTES_A, VOTES_B, OUTCOMES = np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([0, 2, 0])


def test_history_three_votes_by_hand():
    at, ratings = elo.history(VOTES_A, VOTES_B, OUTCOMES, 3, points=3, k=32)
    assert at.tolist() == [0, 1, 2, 3]
    assert ratings.shape == (4, 3)
    assert ratings[0].tolist() == [1000.0, 1000.0, 1000.0]
    assert ratings[1].tolist() == [1016.0, 984.0, 1000.0]
    # 1 (984) ties 2 (1000): E = 1 / (1 + 10**(16/400)) = 0.476990, so 1 gains 32 * 0.023010.
    np.testing.assert_allclose(ratings[2], [1016.0, 984.736307, 999.263693], atol=1e-6)
    # 2 (999.263693) beats 0 (1016): E = 1 / (1 + 10**(16.736307/400)) = 0.475935.
    np.testing.assert_allclose(ratings[3], [999.229860, 984.736307, 1016.033833], atol=1e-6)


def test_history_rounds_moments_and_drops_repeats():
    at, ratings = elo.history(VOTES_A, VOTES_B, OUTCOMES, 3, points=2, k=32)
    assert at.tolist() == [0, 2, 3]  # 0, 1.5 and 3 votes; 1.5 rounds to even
    at, ratings = elo.history(VOTES_A, VOTES_B, OUTCOMES, 3, points=60, k=32)
    assert at.tolist() == [0, 1, 2, 3]
    assert ratings.shape == (4, 3)


def test_history_of_an_empty_log_is_the_initial_rating():
    empty = np.zeros(0, dtype=np.int64)
    at, ratings = elo.history(empty, empty, empty, 2, points=60)
    assert at.tolist() == [0]
    assert ratings.tolist() == [[elo.INITIAL, elo.INITIAL]]


def test_history_equals_update_applied_vote_by_vote():
    rng = np.random.default_rng(8)
    a = rng.integers(0, 5, 500)
    b = (a + rng.integers(1, 5, 500)) % 5
    outcome = rng.integers(0, 3, 500)
    at, ratings = elo.history(a, b, outcome, 5, points=7, k=24)
    expected = [elo.INITIAL] * 5
    snapshots = {0: list(expected)}
    for n, (i, j, o) in enumerate(zip(a.tolist(), b.tolist(), outcome.tolist(), strict=True)):
        expected[i], expected[j] = elo.update(expected[i], expected[j], (1.0, 0.0, 0.5)[o], k=24)
        snapshots[n + 1] = list(expected)
    assert ratings.tolist() == [snapshots[m] for m in at.tolist()]


def test_history_rejects_bad_votes():
    with pytest.raises(ValueError, match="length"):
        elo.history(np.array([0, 1]), np.array([1]), np.array([0]), 2, points=2)
    with pytest.raises(ValueError, match="indices"):
        elo.history(np.array([0]), np.array([2]), np.array([0]), 2, points=2)
    with pytest.raises(ValueError, match="outcome"):
        elo.history(np.array([0]), np.array([1]), np.array([3]), 2, points=2)
