"""Bounded influence on the published fit: probation, and per-voter and per-address caps.

The rules apply to the published snapshots only; the live Elo counts every counted vote at
once (instant feedback). Applied to the counted vote log (``arena.services.counting``):

- **Probation.** A voter's votes enter the published fit only once the voter is past
  probation (``arena.services.voting.voters.past_probation``): verified by the new-voter
  proof of work at least ``PROBATION_MINUTES`` (10) earlier and with ``PROBATION_VOTES`` (10)
  votes cast. With the proof of work off (``ARENA_POW=off``) the voter's creation time
  stands in for the verification time. Then all of its votes count, the first ones too.
- **Voter cap.** In each scope, a voter's earliest ``voter_cap`` counted votes (by log
  order) enter the fit; later ones do not.
- **Address cap.** In each scope, of the votes left after the voter cap, the earliest
  ``address_cap`` of all voters created from one address (``voters.address_hash``) enter.

Votes without a voter (imported) are neither on probation nor capped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from arena.models import Vote, Voter
from arena.services.voting.voters import PROBATION_MINUTES, PROBATION_VOTES, past_probation

#: Default counted votes per voter per scope in the published fit.
VOTER_CAP = 100
#: Default counted votes per address (all its voters) per scope in the published fit.
ADDRESS_CAP = 300


@dataclass(frozen=True)
class WeightRules:
    """How much weight voters get in the published fit, and whether detectors flag.

    ``voter_cap``/``address_cap`` of 0 mean no cap; ``probation`` False lets new voters in
    at once; ``require_verified`` is the proof of work's setting (``ARENA_POW``);
    ``autoflag`` lets the detectors flag voters whose evidence is strong.
    """

    voter_cap: int = VOTER_CAP
    address_cap: int = ADDRESS_CAP
    probation: bool = True
    require_verified: bool = True
    autoflag: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WeightRules:
        """The rules from the app's settings (``VOTER_WEIGHT_CAP``, ``ADDRESS_WEIGHT_CAP``,
        ``PROBATION``, ``POW``, ``AUTOFLAG``)."""
        return cls(
            voter_cap=config["VOTER_WEIGHT_CAP"],
            address_cap=config["ADDRESS_WEIGHT_CAP"],
            probation=config["PROBATION"],
            require_verified=config.get("POW", True),
            autoflag=config["AUTOFLAG"],
        )


#: No caps, no probation, no automatic flags (every counted vote is fitted).
UNBOUNDED = WeightRules(0, 0, probation=False, require_verified=False, autoflag=False)


def voters_past_probation(session: Session, rules: WeightRules, now: dt.datetime) -> np.ndarray:
    """Ids of the voters whose votes may enter the published fit (sorted)."""
    if rules.require_verified:
        condition = past_probation(now)
    else:
        votes = (
            select(func.count())
            .select_from(Vote)
            .where(Vote.voter_id == Voter.id)
            .scalar_subquery()
        )
        condition = and_(
            Voter.created_at <= now - dt.timedelta(minutes=PROBATION_MINUTES),
            votes >= PROBATION_VOTES,
        )
    ids = session.scalars(select(Voter.id).where(condition).order_by(Voter.id)).all()
    return np.asarray(ids, dtype=np.int64)


def voter_addresses(session: Session) -> tuple[pd.Series, list[str]]:
    """Each voter's address as a small integer code, indexed by voter id (-1: none), and
    the address hash of each code."""
    rows = session.execute(
        select(Voter.id, Voter.address_hash).where(Voter.address_hash.is_not(None))
    ).all()
    if not rows:
        return pd.Series(dtype=np.int64), []
    ids, hashes = zip(*rows, strict=True)
    codes, uniques = pd.factorize(pd.Series(hashes, dtype=object))
    return pd.Series(codes.astype(np.int64), index=np.asarray(ids, dtype=np.int64)), list(uniques)


def on_probation(votes: pd.DataFrame, past: np.ndarray) -> np.ndarray:
    """Bool per vote: its voter is not yet past probation (votes without a voter: False)."""
    voter = votes["voter_id"].to_numpy()
    return (voter > 0) & ~np.isin(voter, past)


def within_caps(votes: pd.DataFrame, rules: WeightRules) -> np.ndarray:
    """Bool per vote of one scope (in log order): inside the voter and address caps.

    ``votes`` needs ``voter_id`` (0: none) and ``address`` (-1: none) columns.
    """
    keep = np.ones(len(votes), dtype=bool)
    voter = votes["voter_id"].to_numpy()
    if rules.voter_cap > 0:
        rank = votes.groupby("voter_id", sort=False).cumcount().to_numpy()
        keep &= (voter == 0) | (rank < rules.voter_cap)
    if rules.address_cap > 0:
        address = votes["address"].to_numpy()
        kept = votes[keep]
        rank = np.zeros(len(votes), dtype=np.int64)
        rank[keep] = kept.groupby("address", sort=False).cumcount().to_numpy()
        keep &= (voter == 0) | (address < 0) | (rank < rules.address_cap)
    return keep
