"""Elo maths against worked examples, and ranks with shared places."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import elo
from arena.ratings.ranks import competition_ranks


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
