"""The rigging detectors at publication, on the real vote path (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from arena.models import Voter, utcnow
from arena.models.ratings import Finding
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.leaderboards.weights import WeightRules
from arena.services.verification import verify
from arena.web.db import get_db
from tests.services.rigging.conftest import set_voter

DETECT = WeightRules(voter_cap=0, address_cap=0, probation=False, autoflag=True)


def _publish(app, rules: WeightRules = DETECT) -> None:
    with app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32, rules=rules)


def _voters(app) -> dict[str, tuple[bool, str | None]]:
    with app.app_context(), get_db().session() as session:
        rows = session.execute(select(Voter.public_id, Voter.flagged, Voter.flag_reason)).all()
    return {public_id: (flagged, reason) for public_id, flagged, reason in rows}


def _findings(app) -> list[Finding]:
    with app.app_context(), get_db().session() as session:
        return list(session.scalars(select(Finding).order_by(Finding.id)))


def test_a_bot_voting_only_for_its_target_is_flagged_and_honest_voters_are_not(
    voting_app, votes, bot
):
    honest = [votes.voter() for _ in range(3)]
    for i, voter in enumerate(honest):
        votes.cast(30, voter=voter, seed=10 + i)
    rigger = votes.voter()
    target = bot.target()
    cast = bot.run(rigger, target, 150, vote_all=False)
    assert 10 <= cast < 40, cast

    _publish(voting_app)
    state = _voters(voting_app)
    flagged, reason = state[rigger.public_id]
    assert flagged and reason.startswith(("selective: votes when ", "favouritism: favours "))
    assert not any(state[v.public_id][0] for v in honest)
    found = [f for f in _findings(voting_app) if f.detector == "selective"]
    assert [f.model_id for f in found] == [target] and found[0].flagged
    with voting_app.app_context(), get_db().session() as session:
        assert verify(session, 32)[0] == []  # the live Elo was rebuilt without the bot


def test_favouritism_is_measured_against_the_published_fit_not_the_live_elo(voting_app, votes, bot):
    """A bot that always picks its target pumps the target's live Elo, so every vote it
    casts records the target as the favourite (here 95%); against that, 100% picks look
    ordinary. Measured against the last published fit (honest votes only), they do not."""
    for i in range(3):
        votes.cast(40, voter=votes.voter(), seed=20 + i)
    _publish(voting_app)  # the honest board the bot is measured against
    rigger = votes.voter()
    target = bot.target()
    bot.run(rigger, target, 400, vote_all=True, seed=5, target_expected=0.95)

    _publish(voting_app)
    flagged, reason = _voters(voting_app)[rigger.public_id]
    assert flagged and reason.startswith("favouritism: favours "), reason
    found = next(f for f in _findings(voting_app) if f.voter_id == rigger.id)
    picks, battles, expected = re.search(
        r"(\d+) of (\d+) picks \(expected ([\d.]+)\)", found.reason
    ).groups()
    assert picks == battles and float(expected) < 0.75 * int(battles), found.reason


def test_without_autoflag_findings_are_listed_and_nobody_is_flagged(voting_app, votes, bot):
    rigger = votes.voter()
    bot.run(rigger, bot.target(), 150, vote_all=False)
    _publish(voting_app, WeightRules(0, 0, probation=False, autoflag=False))
    assert not _voters(voting_app)[rigger.public_id][0]
    assert any(f.detector == "selective" and not f.flagged for f in _findings(voting_app))


def test_a_network_of_fans_is_an_agreement_cluster(voting_app, votes, bot):
    target = bot.target(3)
    fans = [votes.voter() for _ in range(4)]
    for i, fan in enumerate(fans):
        set_voter(voting_app, fan, network_hash="n" * 32, address_hash=f"{i}" * 32)
        bot.run(fan, target, 70, vote_all=True, seed=i)
    honest = votes.voter()
    set_voter(voting_app, honest, network_hash="n" * 32)
    votes.cast(30, voter=honest, seed=3)

    _publish(voting_app)
    state = _voters(voting_app)
    clusters = [f for f in _findings(voting_app) if f.detector == "cluster"]
    flagged_fans = {f.voter_id for f in clusters}
    assert len(flagged_fans) >= 3
    assert all(f.model_id == target and f.network_hash == "n" * 32 for f in clusters)
    assert sum(state[f.public_id][0] for f in fans) >= 3
    assert not state[honest.public_id][0]


def test_a_burst_of_new_voters_from_one_address_is_listed_not_flagged(voting_app, votes):
    start = utcnow() - dt.timedelta(hours=2)
    for i in range(12):
        voter = votes.voter()
        set_voter(
            voting_app,
            voter,
            address_hash="a" * 32,
            network_hash="b" * 32,
            created_at=start + dt.timedelta(seconds=30 * i),
        )
    spread = votes.voter()  # the same address an hour later: not part of the burst
    set_voter(voting_app, spread, address_hash="a" * 32, created_at=start + dt.timedelta(hours=1))
    votes.cast(3, seed=1)

    _publish(voting_app)
    bursts = [f for f in _findings(voting_app) if f.detector == "burst"]
    assert len(bursts) == 1  # the network saw 12, under its own threshold of 30
    assert bursts[0].address_hash == "a" * 32 and bursts[0].score == 12
    assert "12 new voters from one address within 10 minutes" in bursts[0].reason
    assert not bursts[0].flagged and not any(f for f, _ in _voters(voting_app).values())


def _four_votes(app, voter, ballots: int, *, target: int | None, seed: int) -> int:
    """``ballots`` best-of-four votes on the real vote path: the ``target`` whenever it is
    shown, else a random image. Returns how often the target was shown."""
    import random

    from arena.models import Battle, BattleEntry
    from arena.services.voting.battles import issue_battle, token_hash
    from arena.services.voting.matchmaking import MatchmakingSettings
    from arena.services.voting.ranking import record_ranking

    rng = random.Random(seed)
    uniform = MatchmakingSettings(policy="uniform", ttl=0.0)
    shown = 0
    with app.app_context():
        db = get_db()
        for _ in range(ballots):
            battle = issue_battle(
                db, voter, "fantasy-warrior-ii", rng=rng, settings=uniform, size=4
            )
            with db.session() as session:
                models = session.scalars(
                    select(BattleEntry.model_id)
                    .join(Battle, Battle.id == BattleEntry.battle_id)
                    .where(Battle.token_hash == token_hash(battle.token))
                    .order_by(BattleEntry.position)
                ).all()
            pick = rng.randrange(4)
            if target in models:
                shown += 1
                pick = models.index(target)
            record_ranking(db, battle.token, voter, [[pick]], k=32)
    return shown


def test_a_best_of_four_fan_is_flagged_counting_each_pick_once(voting_app, votes, bot):
    for i in range(3):
        votes.cast(40, voter=votes.voter(), seed=40 + i)
    _publish(voting_app)
    honest = votes.voter()
    _four_votes(voting_app, honest, 60, target=None, seed=1)
    fan = votes.voter()
    target = bot.target(4)
    shown = _four_votes(voting_app, fan, 80, target=target, seed=2)
    assert shown >= 12

    _publish(voting_app)
    state = _voters(voting_app)
    assert state[honest.public_id] == (False, None)
    flagged, reason = state[fan.public_id]
    assert flagged and reason.startswith("favouritism: favours "), reason
    found = next(f for f in _findings(voting_app) if f.voter_id == fan.id)
    picks, battles = re.search(r"(\d+) of (\d+) picks", found.reason).groups()
    # One trial per ballot the target was shown in, not three pairwise rows per pick.
    assert int(picks) == int(battles) == shown, found.reason
