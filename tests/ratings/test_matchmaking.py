"""Matchmaking policies: availability, exploration floor, sides, determinism, and the choices
each rule makes on hand-built standings."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from arena.ratings import bradley_terry as bt
from arena.ratings import matchmaking as mm
from arena.ratings.pairs import Cells

SIZES = (2, 4)


def standing(ratings: list[float] | np.ndarray, met: dict[tuple[int, int], int] | None = None):
    """A standing with these ratings and ``met`` counts per pair (0 elsewhere)."""
    r = np.asarray(ratings, dtype=np.float64)
    counts = np.zeros((r.size, r.size), dtype=np.int64)
    for (i, j), k in (met or {}).items():
        counts[i, j] = counts[j, i] = k
    return mm.Standing(r, counts)


def random_standing(rng: np.random.Generator, n: int) -> mm.Standing:
    """Random ratings and a random symmetric ``met`` with a zero diagonal."""
    met = np.triu(rng.integers(0, 30, (n, n)), 1)
    return mm.Standing(rng.normal(1000.0, 150.0, n), met + met.T)


def pair(choice: mm.Choice) -> tuple[int, ...]:
    return tuple(sorted(choice.models))


@pytest.mark.parametrize("policy", mm.POLICIES)
@pytest.mark.parametrize("size", SIZES)
def test_choice_respects_available(policy: str, size: int) -> None:
    rng = np.random.default_rng(1)
    st = random_standing(rng, 12)
    available = rng.random((12, 9)) < 0.45
    for _ in range(300):
        choice = mm.choose(st, available, rng, policy=policy, size=size)
        assert choice is not None
        assert len(choice.models) == size == len(set(choice.models))
        assert all(available[m, choice.prompt] for m in choice.models)


@pytest.mark.parametrize("policy", mm.POLICIES)
def test_none_when_no_models_share_a_prompt(policy: str) -> None:
    rng = np.random.default_rng(2)
    st = random_standing(rng, 5)
    own = np.eye(5, dtype=bool)  # each model has its own prompt only
    assert mm.choose(st, own, rng, policy=policy) is None
    assert mm.choose(st, np.zeros((5, 0), dtype=bool), rng, policy=policy) is None
    # Three models share prompt 0 and two others prompt 1: a pair exists, a four does not.
    three = np.zeros((5, 2), dtype=bool)
    three[:3, 0] = three[3:, 1] = True
    assert mm.choose(st, three, rng, policy=policy, size=4) is None
    assert mm.choose(st, three, rng, policy=policy, size=2) is not None
    small = random_standing(rng, 3)
    assert mm.choose(small, np.ones((3, 4), dtype=bool), rng, policy=policy, size=4) is None


def test_rejects_unknown_policy_size_and_shapes() -> None:
    rng = np.random.default_rng(3)
    st = random_standing(rng, 4)
    ok = np.ones((4, 2), dtype=bool)
    with pytest.raises(ValueError, match="policy"):
        mm.choose(st, ok, rng, policy="elo")
    with pytest.raises(ValueError, match="size"):
        mm.choose(st, ok, rng, size=3)
    with pytest.raises(ValueError, match="available"):
        mm.choose(st, np.ones((5, 2), dtype=bool), rng)


@pytest.mark.parametrize("size", SIZES)
def test_active_floor_samples_every_allowed_pair(size: int) -> None:
    # A settled board (far apart, well measured) except one close, uncertain pair that the
    # scores favour: the floor still reaches every pair sharing a prompt, and no other.
    rng = np.random.default_rng(4)
    n = 7
    ratings = np.r_[1000.0, 1005.0, 1400.0, 600.0, 1800.0, 200.0, 2200.0]
    met = np.full((n, n), 400)
    met[0, 1] = met[1, 0] = 1
    np.fill_diagonal(met, 0)
    available = np.ones((n, 3), dtype=bool)
    available[6, :2] = False  # model 6 shares prompt 2 only, with everyone
    available[5, 2] = False  # so models 5 and 6 share no prompt
    seen = Counter()
    for _ in range(4000):
        choice = mm.choose(mm.Standing(ratings, met), available, rng, size=size)
        assert choice is not None
        ms = sorted(choice.models)
        seen.update((a, b) for i, a in enumerate(ms) for b in ms[i + 1 :])
    allowed = {(a, b) for a in range(n) for b in range(a + 1, n)} - {(5, 6)}
    assert set(seen) == allowed
    if size == 2:
        assert seen[(0, 1)] > 0.85 * 4000  # the scores pick it whenever not exploring


def test_sides_are_random() -> None:
    rng = np.random.default_rng(5)
    st = standing([1000.0, 1000.0])
    orders = Counter(mm.choose(st, np.ones((2, 3), dtype=bool), rng).models for _ in range(400))
    assert set(orders) == {(0, 1), (1, 0)}
    assert 150 < orders[(0, 1)] < 250


def test_prompt_uniform_among_common_prompts() -> None:
    rng = np.random.default_rng(6)
    available = np.zeros((3, 6), dtype=bool)
    available[0, [0, 1, 3, 4]] = True
    available[1, [1, 3, 4, 5]] = True
    available[2, [2]] = True  # no common prompt with anyone: never chosen
    st = standing([1000.0, 1000.0, 1000.0])
    prompts = Counter()
    for _ in range(900):
        choice = mm.choose(st, available, rng, policy="least-met")
        assert pair(choice) == (0, 1)
        prompts[choice.prompt] += 1
    assert set(prompts) == {1, 3, 4}
    assert all(240 < k < 360 for k in prompts.values())


@pytest.mark.parametrize("policy", mm.POLICIES)
@pytest.mark.parametrize("size", SIZES)
def test_deterministic_for_a_seeded_rng(policy: str, size: int) -> None:
    st = random_standing(np.random.default_rng(7), 9)
    available = np.random.default_rng(8).random((9, 6)) < 0.7

    def run(seed: int) -> list[mm.Choice]:
        rng = np.random.default_rng(seed)
        return [mm.choose(st, available, rng, policy=policy, size=size) for _ in range(60)]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_least_met_picks_the_least_met_pair() -> None:
    rng = np.random.default_rng(9)
    met = {(0, 1): 5, (0, 2): 3, (0, 3): 7, (1, 2): 4, (1, 3): 2, (2, 3): 6}
    st = standing([1000.0, 1100.0, 900.0, 1000.0], met)
    everything = np.ones((4, 2), dtype=bool)
    assert {pair(mm.choose(st, everything, rng, policy="least-met")) for _ in range(50)} == {(1, 3)}
    # Without a common prompt for (1, 3), the next least met: (0, 2).
    apart = everything.copy()
    apart[1, 0] = apart[3, 1] = False
    assert {pair(mm.choose(st, apart, rng, policy="least-met")) for _ in range(50)} == {(0, 2)}
    # Ties broken at random: both least-met pairs occur.
    tied = standing([1000.0] * 4, {**met, (0, 2): 2})
    assert {pair(mm.choose(tied, everything, rng, policy="least-met")) for _ in range(80)} == {
        (0, 2),
        (1, 3),
    }


def test_least_met_four_adds_the_least_met_models() -> None:
    rng = np.random.default_rng(10)
    n = 6
    met = np.full((n, n), 10)
    np.fill_diagonal(met, 0)
    for i, j in ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)):
        met[i, j] = met[j, i] = 1
    st = mm.Standing(np.full(n, 1000.0), met)
    for _ in range(20):
        choice = mm.choose(st, np.ones((n, 2), dtype=bool), rng, policy="least-met", size=4)
        assert pair(choice) == (0, 1, 2, 3)


def test_uniform_covers_all_pairs_evenly() -> None:
    rng = np.random.default_rng(11)
    st = standing([1000.0, 1500.0, 500.0, 1000.0], {(0, 3): 100})
    counts = Counter(
        pair(mm.choose(st, np.ones((4, 2), dtype=bool), rng, policy="uniform")) for _ in range(1200)
    )
    assert len(counts) == 6
    assert all(150 < k < 250 for k in counts.values())


def test_active_prefers_an_uncertain_close_pair_over_a_settled_far_one() -> None:
    rng = np.random.default_rng(12)
    # Only (0, 1) and (2, 3) share a prompt; both met as often.
    available = np.zeros((4, 2), dtype=bool)
    available[[0, 1], 0] = available[[2, 3], 1] = True
    st = standing([1000.0, 1010.0, 1500.0, 700.0], {(0, 1): 10, (2, 3): 10})
    picks = Counter(pair(mm.choose(st, available, rng)) for _ in range(1000))
    assert picks[(0, 1)] > 900  # all but part of the 10% exploration
    assert picks[(2, 3)] > 10  # the floor


def test_active_prefers_the_less_measured_of_two_close_pairs() -> None:
    rng = np.random.default_rng(13)
    available = np.zeros((4, 2), dtype=bool)
    available[[0, 1], 0] = available[[2, 3], 1] = True
    st = standing([1000.0, 1020.0, 1010.0, 1030.0], {(0, 1): 200, (2, 3): 5})
    picks = Counter(pair(mm.choose(st, available, rng)) for _ in range(500))
    assert picks[(2, 3)] > 440


def test_active_weighs_doubts_at_the_top_more() -> None:
    rng = np.random.default_rng(14)
    # Two equally close, equally measured pairs: one at the top of the board, one at the foot.
    ratings = [1300.0, 1290.0, 1100.0, 1000.0, 900.0, 710.0, 700.0]
    met = {(i, j): 40 for i in range(7) for j in range(i + 1, 7)}
    met[(0, 1)] = met[(5, 6)] = 5
    picks = Counter(
        pair(mm.choose(standing(ratings, met), np.ones((7, 2), dtype=bool), rng))
        for _ in range(500)
    )
    assert picks[(0, 1)] > 400
    assert picks[(5, 6)] < 30


def test_active_four_gathers_the_uncertain_models() -> None:
    rng = np.random.default_rng(15)
    n = 8
    ratings = np.r_[1000.0, 1010.0, 990.0, 1005.0, 1600.0, 400.0, 1900.0, 100.0]
    met = np.full((n, n), 300)
    met[:4, :4] = 3
    np.fill_diagonal(met, 0)
    sets = Counter(
        pair(mm.choose(mm.Standing(ratings, met), np.ones((n, 5), dtype=bool), rng, size=4))
        for _ in range(300)
    )
    assert sets[(0, 1, 2, 3)] > 240


def test_active_handles_a_fresh_board() -> None:
    # Before any fit (all at ANCHOR, none met) every pair is as good as any: no NaN, and the
    # choices spread over the models.
    rng = np.random.default_rng(16)
    st = mm.Standing.fresh(10)
    assert np.all(st.ratings == bt.ANCHOR) and st.met.sum() == 0
    for size in SIZES:
        models, sets = Counter(), Counter()
        for _ in range(200):
            choice = mm.choose(st, np.ones((10, 3), dtype=bool), rng, size=size)
            models.update(choice.models)
            sets[frozenset(choice.models)] += 1
        assert len(models) == 10
        # Equal scores are broken at random, not by index: no one set is shown to everyone
        # (45 pairs: about 4 draws each; a fixed first pair would take 90% of them).
        assert max(sets.values()) < 30, sets.most_common(3)


def test_record_and_with_votes() -> None:
    st = mm.Standing.fresh(4)
    later = st.with_votes(np.array([0, 0, 2]), np.array([1, 1, 0]))
    assert st.met.sum() == 0  # the original is untouched
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 1] = expected[1, 0] = 2
    expected[0, 2] = expected[2, 0] = 1
    np.testing.assert_array_equal(later.met, expected)
    mm.record(expected, [3], [1])
    assert expected[1, 3] == expected[3, 1] == 1
    refreshed = later.with_ratings(np.array([1100.0, 900.0, 1000.0, 1000.0]))
    assert refreshed.met is later.met and refreshed.ratings[0] == 1100.0


def test_laplace_covariance_matches_the_fit_curvature() -> None:
    # Many battles between two equal models: Var(theta_0 - theta_1) = 1 / (k / 4) roughly
    # (the information of a battle at p = 1/2 is 1/4), the prior adding a little.
    k = 400
    cov = mm.laplace_covariance(np.array([1000.0, 1000.0]), np.array([[0, k], [k, 0]]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    assert var == pytest.approx(1.0 / (k / 4 + bt.MU / 2), rel=1e-9)
    # No battles: the prior alone.
    alone = mm.laplace_covariance(np.full(3, 1000.0), np.zeros((3, 3)))
    np.testing.assert_allclose(alone, np.eye(3) / bt.MU)


def test_cached_covariance_follows_votes_and_refits() -> None:
    # Standing.with_votes keeps the covariance by rank-one updates: it equals a fresh
    # inversion, and choices made from it are the same as from a standing without it.
    rng = np.random.default_rng(17)
    n = 8
    cached = mm.Standing.fresh(n)
    for step in range(300):
        if step % 100 == 99:
            cached = cached.with_ratings(rng.normal(1000.0, 120.0, n))
        models = rng.choice(n, 4, replace=False)
        cached = cached.with_votes(np.full(3, models[0]), models[1:])
    np.testing.assert_allclose(
        cached.cov, mm.laplace_covariance(cached.ratings, cached.met), rtol=1e-9, atol=1e-12
    )
    plain = mm.Standing(cached.ratings, cached.met)
    available = np.ones((n, 4), dtype=bool)
    for size in SIZES:
        a, b = np.random.default_rng(18), np.random.default_rng(18)
        assert [mm.choose(cached, available, a, size=size) for _ in range(50)] == [
            mm.choose(plain, available, b, size=size) for _ in range(50)
        ]


def gap_variance(st: mm.Standing, i: int, j: int) -> float:
    """``Var(theta_i - theta_j)`` from a standing's covariance."""
    assert st.cov is not None
    return float(st.cov[i, i] + st.cov[j, j] - 2.0 * st.cov[i, j])


def test_with_outcomes_moves_toward_the_winner_and_shrinks_the_variance() -> None:
    st = mm.Standing.fresh(4).with_ratings(np.array([1050.0, 1000.0, 980.0, 970.0]))
    later = st.with_outcomes(np.array([1]), np.array([0]), np.array([1.0]))  # 1 beats 0
    assert st.met.sum() == 0 and st.ratings[1] == 1000.0  # the original is untouched
    assert later.met[0, 1] == later.met[1, 0] == 1 and later.met.sum() == 2
    assert later.ratings[1] > 1000.0 and later.ratings[0] < 1050.0
    assert later.ratings.mean() == pytest.approx(st.ratings.mean(), abs=1e-9)
    assert gap_variance(later, 0, 1) < gap_variance(st, 0, 1)
    # The surprise matters: the underdog's win moves the ratings more than the favourite's.
    expected = st.with_outcomes(np.array([0]), np.array([1]), np.array([1.0]))
    assert later.ratings[1] - 1000.0 > expected.ratings[0] - 1050.0 > 0.0
    # A tie counts in met and the covariance exactly as with_votes, and moves no rating.
    tie = st.with_outcomes(np.array([2, 0]), np.array([3, 1]), np.array([0.5, 0.5]))
    counted = st.with_votes(np.array([2, 0]), np.array([3, 1]))
    np.testing.assert_allclose(tie.ratings, st.ratings, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(tie.met, counted.met)
    np.testing.assert_allclose(tie.cov, counted.cov, rtol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        st.with_outcomes(np.array([0, 1]), np.array([2, 3]), np.array([1.0]))


def test_with_outcomes_without_a_cached_covariance_computes_it() -> None:
    st = standing([1100.0, 1000.0, 900.0], {(0, 1): 5, (1, 2): 3})
    cached = mm.Standing(st.ratings, st.met, mm.laplace_covariance(st.ratings, st.met))
    a = st.with_outcomes(np.array([2]), np.array([0]), np.array([1.0]))
    b = cached.with_outcomes(np.array([2]), np.array([0]), np.array([1.0]))
    np.testing.assert_allclose(a.ratings, b.ratings, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12)


def test_with_outcomes_tracks_the_fit_on_simulated_votes() -> None:
    # Votes from known ratings, learnt one at a time with no refit: the online ratings stay
    # within a few points of the Bradley-Terry fit of the same (decisive) votes, and their
    # covariance close to the fit's Laplace covariance; both are near the truth.
    rng = np.random.default_rng(19)
    n = 8
    truth = rng.normal(1000.0, 150.0, n)
    st = mm.Standing.fresh(n)
    wins = np.zeros((n, n), dtype=np.int64)
    for _ in range(3000):
        i, j = rng.choice(n, 2, replace=False)
        if rng.random() < 0.15:
            st = st.with_outcomes([i], [j], [0.5])  # a tie: counted, not fitted
            continue
        won = rng.random() < 1.0 / (1.0 + 10.0 ** ((truth[j] - truth[i]) / 400.0))
        wins[(i, j) if won else (j, i)] += 1
        st = st.with_outcomes([i], [j], [float(won)])
    iu, ju = np.triu_indices(n, 1)
    cells = Cells(iu, ju, wins[iu, ju], wins[ju, iu], np.zeros(iu.size, dtype=np.int64), n)
    fitted = bt.fit(cells)
    assert np.abs(st.ratings - fitted).max() < 5.0
    laplace = mm.laplace_covariance(fitted, st.met)
    assert np.abs(st.cov - laplace).max() < 0.02 * np.abs(laplace).max()
    # Within 3.5 standard errors of the truth (less its mean, which the data cannot see).
    err = (st.ratings - st.ratings.mean()) - (truth - truth.mean())
    gaps = np.array([gap_variance(st, k, (k + 1) % n) for k in range(n)]) ** 0.5 / bt._NAT
    assert np.all(np.abs(err) < 3.5 * gaps)
