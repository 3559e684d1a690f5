"""Competitions that share a name are told apart by edition, in creation order."""

from __future__ import annotations

import datetime as dt

from arena.models import Competition
from arena.services.editions import competition_editions, editions

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_shared_names_get_editions_in_creation_order_and_unique_names_none() -> None:
    labels = editions(
        [
            ("fw-2", "Fantasy Warrior", T0 + dt.timedelta(days=30), 9),
            ("fw", "Fantasy Warrior ", T0, 12),
            ("mm", "Misty Mountains", T0, 3),
            ("fw-3", "fantasy warrior", T0 + dt.timedelta(days=60), 1),
        ]
    )
    assert labels["fw"].label == "Fantasy Warrior · edition 1"
    assert labels["fw-2"].label == "Fantasy Warrior · edition 2"
    assert labels["fw-3"].edition_label == "edition 3"
    assert labels["mm"].label == "Misty Mountains" and labels["mm"].edition_label is None


def test_the_seeded_fantasy_warriors_are_editions_one_and_two(seeded, session) -> None:
    labels = competition_editions(session)
    assert labels["fantasy-warrior"].label == "Fantasy Warrior · edition 1"
    assert labels["fantasy-warrior-ii"].label == "Fantasy Warrior · edition 2"
    assert labels["misty-mountains"].edition is None
    assert len(labels) == session.query(Competition).count()
