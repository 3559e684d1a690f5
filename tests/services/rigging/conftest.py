"""Fixtures of the rigging tests: a bot that votes through the real vote path."""

from __future__ import annotations

import datetime as dt
import random
import secrets

import pytest
from sqlalchemy import select, update

from arena.models import (
    Battle,
    Competition,
    CompetitionModel,
    Output,
    Prompt,
    Vote,
    Voter,
    utcnow,
)
from arena.services.voting.voters import VoterIdentity
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


class Bot:
    """Plants a bot's battles and votes as rows (the vote path shows a voter each output only
    until it is revealed, so a real bot cycles voters; these rows stand for such traffic):
    every battle is issued to ``voter``; those with ``target`` get a vote for it, the others
    none (``vote_all=False``) or a random one."""

    def __init__(self, app) -> None:
        self.app = app

    def models(self) -> list[int]:
        with self.app.app_context(), get_db().session() as session:
            return session.scalars(
                select(CompetitionModel.model_id)
                .join(Competition, Competition.id == CompetitionModel.competition_id)
                .where(Competition.slug == COMPETITION)
                .order_by(CompetitionModel.model_id)
            ).all()

    def target(self, index: int = 5) -> int:
        return self.models()[index]

    def run(
        self,
        voter: VoterIdentity,
        target: int,
        battles: int,
        *,
        vote_all: bool,
        seed: int = 0,
        target_expected: float = 0.5,
    ) -> int:
        """Plant ``battles`` battles; returns the votes cast. Each vote records the live
        Elo's expectation of the target winning as ``target_expected`` (0.5 without it)."""
        rng = random.Random(seed)
        models = self.models()
        now = utcnow()
        cast = 0
        with self.app.app_context(), get_db().session() as session:
            outputs = {
                model: (output_id, prompt_id, competition_id)
                for model, output_id, prompt_id, competition_id in session.execute(
                    select(Output.model_id, Output.id, Output.prompt_id, Prompt.competition_id)
                    .join(Prompt, Prompt.id == Output.prompt_id)
                    .join(Competition, Competition.id == Prompt.competition_id)
                    .where(Competition.slug == COMPETITION, Prompt.position == 0)
                )
            }
            for _ in range(battles):
                left, right = rng.sample(models, 2)
                battle = Battle(
                    token_hash=secrets.token_hex(32),
                    competition_id=outputs[left][2],
                    prompt_id=outputs[left][1],
                    left_output_id=outputs[left][0],
                    right_output_id=outputs[right][0],
                    left_model_id=left,
                    right_model_id=right,
                    left_image_key=secrets.token_hex(16),
                    right_image_key=secrets.token_hex(16),
                    voter_id=voter.id,
                    # Issued long enough ago that, left unvoted, it counts as skipped, though
                    # its token is still valid (detection.SKIPPED_AFTER, not the expiry).
                    created_at=now - dt.timedelta(minutes=6),
                    expires_at=now + dt.timedelta(minutes=54),
                )
                if target in (left, right):
                    winner = "model_a" if left == target else "model_b"
                elif vote_all:
                    winner = rng.choice(["model_a", "model_b"])
                else:
                    session.add(battle)
                    continue
                battle.voted_at = now
                session.add(battle)
                session.flush()
                session.add(
                    Vote(
                        battle_id=battle.id,
                        competition_id=battle.competition_id,
                        prompt_id=battle.prompt_id,
                        model_a_id=left,
                        model_b_id=right,
                        winner=winner,
                        voter_id=voter.id,
                        expected_a=(
                            target_expected
                            if left == target
                            else 1.0 - target_expected
                            if right == target
                            else 0.5
                        ),
                        created_at=now,
                    )
                )
                cast += 1
            session.commit()
        return cast


@pytest.fixture
def bot(voting_app) -> Bot:
    return Bot(voting_app)


def set_voter(app, voter: VoterIdentity, **values) -> None:
    """Set columns of a voter row directly (address hashes, times)."""
    with app.app_context(), get_db().session() as session:
        session.execute(update(Voter).where(Voter.id == voter.id).values(**values))
        session.commit()
