"""Votes whose last few swing the live Elo away from the published order (shared by the tests
of boards, pages, exports and the catalog)."""

from __future__ import annotations

import random

from flask import Flask
from sqlalchemy import select

from arena.models import Battle, Model
from arena.services.voting.battles import issue_battle, token_hash
from arena.services.voting.recording import record_vote
from arena.services.voting.voters import ensure_voter
from arena.web.db import get_db


def cast_swing(
    app: Flask,
    *,
    competition: str = "fantasy-warrior-ii",
    decided: int = 60,
    upsets: int = 12,
    seed: int = 0,
) -> None:
    """``decided`` votes won by the model whose slug sorts first, then ``upsets`` votes won by
    the other one, through the real vote path.

    The online Elo weighs recent votes most, so the upsets at the end reorder it; the
    published fit weighs every vote alike and keeps (mostly) the slug order.
    """
    rng = random.Random(seed)
    with app.app_context():
        db = get_db()
        voter = ensure_voter(db, None)
        with db.session() as session:
            slugs = dict(session.execute(select(Model.id, Model.slug)).all())
        for i in range(decided + upsets):
            battle = issue_battle(db, voter, competition, rng=rng)
            with db.session() as session:
                row = session.scalar(
                    select(Battle).where(Battle.token_hash == token_hash(battle.token))
                )
                left_first = slugs[row.left_model_id] < slugs[row.right_model_id]
            favourite = "left" if left_first else "right"
            underdog = "right" if left_first else "left"
            choice = favourite if i < decided else underdog
            record_vote(db, battle.token, voter, choice, k=app.config["ELO_K"])
