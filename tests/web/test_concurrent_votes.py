"""Many voters at once through a real HTTP server: no vote lost, none counted twice.

Runs on SQLite and PostgreSQL. After the storm every accepted vote must be in the log and in
every scope's records (battles = 2 x votes, wins = losses), and `arena verify` must agree
with the stored Elo, which holds only if the log's id order is the order in which the rating
updates were applied.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from arena.models import Rating, Scope, Vote
from arena.web.db import get_db

VOTERS = 16
VOTES_EACH = 12
# Two competitions that share models (same category, overall scope): their votes contend for
# the same category and overall rating rows.
COMPETITIONS = ["fantasy-warrior-ii", "heroic-super-hero-portrait"]


def _voter(base: str, seed: int, barrier: threading.Barrier) -> list[int]:
    rng = random.Random(seed)
    accepted = []
    with httpx.Client(base_url=base, timeout=60) as client:
        barrier.wait()
        for _ in range(VOTES_EACH):
            battle = client.post("/api/v1/battles", json={"competition": rng.choice(COMPETITIONS)})
            assert battle.status_code == 201, battle.text
            token = battle.json()["token"]
            winner = rng.choice(["left", "right", "tie", "both_bad"])
            vote = client.post(f"/api/v1/battles/{token}/vote", json={"winner": winner})
            assert vote.status_code == 200, vote.text
            accepted.append(vote.json()["vote_id"])
    return accepted


def test_concurrent_voters_lose_no_vote_and_verify_agrees(voting_app, live_server):
    barrier = threading.Barrier(VOTERS)
    with ThreadPoolExecutor(VOTERS) as pool:
        results = list(pool.map(lambda i: _voter(live_server, i, barrier), range(VOTERS)))
    accepted = [vote_id for ids in results for vote_id in ids]
    assert len(accepted) == len(set(accepted)) == VOTERS * VOTES_EACH

    with voting_app.app_context(), get_db().session() as session:
        logged = set(session.scalars(select(Vote.id)))
        assert logged == set(accepted)
        per_scope = session.execute(
            select(
                Scope.key,
                func.sum(Rating.battles),
                func.sum(Rating.wins),
                func.sum(Rating.losses),
                func.sum(Rating.ties),
            )
            .join(Rating, Rating.scope_id == Scope.id)
            .group_by(Scope.key)
        ).all()
        votes_per_competition = dict(
            session.execute(
                select(Scope.key, func.count(Vote.id))
                .join(Vote, Vote.competition_id == Scope.competition_id)
                .group_by(Scope.key)
            ).all()
        )
    totals = {key: (battles, wins, losses, ties) for key, battles, wins, losses, ties in per_scope}
    assert totals["overall"][0] == 2 * len(accepted)
    assert totals["category:portrait"][0] == 2 * len(accepted)
    for key, votes in votes_per_competition.items():
        assert totals[key][0] == 2 * votes
    for battles, wins, losses, ties in totals.values():
        assert wins == losses and battles == wins + losses + ties

    result = voting_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(accepted)} votes replayed" in result.output


def test_racing_votes_on_one_token_count_once(voting_app, live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        token = client.post("/api/v1/battles", json={"competition": COMPETITIONS[0]}).json()[
            "token"
        ]
        cookies = dict(client.cookies)
    barrier = threading.Barrier(8)

    def vote(_: int) -> int:
        with httpx.Client(base_url=live_server, timeout=60, cookies=cookies) as c:
            barrier.wait()
            return c.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(vote, range(8)))
    assert codes == [200] + [409] * 7
    with voting_app.app_context(), get_db().session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1
        assert session.scalar(select(func.sum(Rating.battles))) == 6
