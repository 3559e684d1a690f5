"""The rigging detectors and the influence step on simulated voters (pure numpy)."""

from __future__ import annotations

import numpy as np

from arena.ratings import published, rigging

N_MODELS = 27


def _honest(rng: np.random.Generator, voters: int):
    """Honest voters: 10-300 votes each, picks by Bradley-Terry truth, expectations from a
    noisy estimate of it (as the live Elo is)."""
    truth = rng.normal(1000, 150, N_MODELS)
    estimate = truth + rng.normal(0, 40, N_MODELS)
    parts = []
    for v in range(voters):
        k = int(rng.integers(10, 300))
        a = rng.integers(0, N_MODELS, k)
        b = (a + rng.integers(1, N_MODELS, k)) % N_MODELS
        won = rng.random(k) < 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
        expected = 1 / (1 + 10 ** ((estimate[b] - estimate[a]) / 400))
        parts.append((np.full(k, v), a, b, won, expected))
    return [np.concatenate(x) for x in zip(*parts, strict=True)]


def test_favouritism_flags_no_honest_voter_and_finds_a_fan():
    rng = np.random.default_rng(3)
    voter, a, b, won, expected = _honest(rng, 400)
    # A fan (voter 400): 25 votes, every one with model 5, every one for it.
    fan_b = rng.integers(6, N_MODELS, 25)
    voter = np.r_[voter, np.full(25, 400)]
    a, b = np.r_[a, np.full(25, 5)], np.r_[b, fan_b]
    won, expected = np.r_[won, np.ones(25, bool)], np.r_[expected, np.full(25, 0.45)]
    tilt = rigging.favouritism(voter, a, b, won, expected, 401, N_MODELS)
    model, z = tilt.strongest()
    bound = rigging.z_threshold(N_MODELS)
    honest_flagged = np.mean(z[:400] >= bound)
    assert honest_flagged <= 0.01
    assert z[400] >= bound and model[400] == 5
    assert tilt.picks[400, 5] == 25 and tilt.battles[400, 5] == 25


def test_selective_voting_finds_the_bot_that_votes_only_with_its_target():
    rng = np.random.default_rng(4)
    voters, per = 300, 120
    voter = np.repeat(np.arange(voters + 1), per)
    left = rng.integers(0, N_MODELS, voter.size)
    right = (left + rng.integers(1, N_MODELS, voter.size)) % N_MODELS
    # Honest voters skip a battle now and then, whatever is in it.
    voted = rng.random(voter.size) < rng.uniform(0.5, 1.0, voters + 1)[voter]
    bot = voter == voters
    voted[bot] = (left[bot] == 3) | (right[bot] == 3)
    s = rigging.selective_voting(voter, left, right, voted, voters + 1, N_MODELS)
    model, z = rigging.Tilt(s.issued_with, s.voted_with, s.issued_with, s.z).strongest()
    bound = rigging.z_threshold(N_MODELS)
    assert np.mean(z[:voters] >= bound) <= 0.01
    assert z[voters] >= bound and model[voters] == 3


def test_bursts_count_the_most_members_in_one_window():
    group = np.array([0, 0, 0, 0, 1, 1, 0])
    seconds = np.array([0.0, 10, 20, 700, 5, 2000, 30])
    burst = rigging.bursts(group, seconds, 3, window=600)
    assert burst.count.tolist() == [4, 1, 0]
    assert burst.start[0] == 0.0 and np.isnan(burst.start[2])


def test_influence_predicts_the_refit_without_a_voter():
    rng = np.random.default_rng(5)
    voter, a, b, won, _ = _honest(rng, 30)
    bot = 30
    k = 60
    voter = np.r_[voter, np.full(k, bot)]
    a = np.r_[a, np.full(k, 7)]
    b = np.r_[b, (7 + rng.integers(1, N_MODELS, k)) % N_MODELS]
    outcome = np.where(np.r_[won, np.ones(k, bool)], 0, 1)
    fit = published.publish(a, b, outcome, N_MODELS, rounds=0, rng=rng)
    shifts = rigging.influence(voter, a, b, outcome, fit.ratings, bot + 1)
    assert np.abs(shifts).max(axis=1).argmax() == bot
    keep = voter != bot
    refit = published.publish(a[keep], b[keep], outcome[keep], N_MODELS, rounds=0, rng=rng)
    actual = refit.ratings[7] - fit.ratings[7]
    assert actual < -10
    # One Newton step: close, not exact (the fit is not linear in the votes).
    assert abs(shifts[bot, 7] - actual) < 0.25 * abs(actual)
    assert np.allclose(shifts.sum(axis=1), 0, atol=1e-6)


def test_first_choice_is_the_softmax_of_the_ratings():
    theta = np.array([[0.3, -1.0, 0.8, 0.0], [2.0, 2.0, -2.0, 0.5]])
    p = 1 / (1 + np.exp(theta[:, None, :] - theta[:, :, None]))  # p[b, i, j]: i beats j
    want = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)
    assert np.allclose(rigging.first_choice(p), want)


def _best_of_four(rng: np.random.Generator, voters: int, ballots: int, fan: int | None = None):
    """Honest best-of-four voters (picks by Bradley-Terry-Luce truth), as the log holds them
    (three pairwise wins of the pick) and as trials (one per model shown); ``fan`` casts four
    times as many and always picks model 5 when it is shown."""
    truth = rng.normal(0, 0.6, N_MODELS)  # natural log-odds
    rows, trials = [], []
    for v in range(voters):
        for _ in range(ballots * (4 if v == fan else 1)):
            shown = rng.choice(N_MODELS, 4, replace=False)
            chance = np.exp(truth[shown]) / np.exp(truth[shown]).sum()
            pick = int(rng.choice(4, p=chance))
            if v == fan and 5 in shown:
                pick = int(np.flatnonzero(shown == 5)[0])
            for other in range(4):
                trials.append((v, shown[other], other == pick, chance[other]))
                if other != pick:
                    p = 1 / (1 + np.exp(truth[shown[other]] - truth[shown[pick]]))
                    rows.append((v, shown[pick], shown[other], True, p))
    return np.array(rows, dtype=object), np.array(trials, dtype=object)


def test_a_best_of_four_pick_is_one_trial_so_honest_z_stays_standard():
    rng = np.random.default_rng(11)
    voters = 300
    rows, trials = _best_of_four(rng, voters + 1, 60, fan=voters)
    as_trials = rigging.favouritism(
        np.zeros(0, int),
        np.zeros(0, int),
        np.zeros(0, int),
        np.zeros(0, bool),
        np.zeros(0),
        voters + 1,
        N_MODELS,
        choices=rigging.Choices(
            trials[:, 0].astype(int),
            trials[:, 1].astype(int),
            trials[:, 2].astype(bool),
            trials[:, 3].astype(float),
        ),
    )
    as_rows = rigging.favouritism(
        rows[:, 0].astype(int),
        rows[:, 1].astype(int),
        rows[:, 2].astype(int),
        rows[:, 3].astype(bool),
        rows[:, 4].astype(float),
        voters + 1,
        N_MODELS,
        min_battles=1,
    )
    honest = as_trials.z[:voters]
    honest = honest[np.isfinite(honest)]
    # Calibrated: z of honest voters has about unit spread (the pick counted once) ...
    assert 0.85 <= np.std(honest) <= 1.15
    bound = rigging.z_threshold(N_MODELS)
    assert np.mean(as_trials.strongest()[1][:voters] >= bound) <= 0.01
    # ... while the log's three rows per pick, taken as independent comparisons, overstate it.
    rows_z = as_rows.z[:voters]
    assert np.std(rows_z[np.isfinite(rows_z)]) >= 1.25
    # The fan who always picks model 5 stands out.
    model, z = as_trials.strongest()
    assert model[voters] == 5 and z[voters] >= bound
