"""Rigging detectors run at every publication: the log's SQL in, findings out.

The maths is ``arena.ratings.rigging``; this module loads what it needs (votes of voters not
flagged yet, the battles issued to them, the voters' address and network hashes), runs the
four detectors and phrases each finding for the operator. Thresholds (chosen so that at most
1% of honest voters are ever flagged; ``tests/services/test_detection.py`` simulates them):

- **favouritism**: a voter's picks of one model beyond what the last published fit expected
  (the live Elo's for a model not yet published; see ``_published_expectation``), ``z`` over the
  Bonferroni bound for the models (family-wise ``rigging.ALPHA`` = 1e-4 per voter, about
  z >= 4.5 with 27 models), with at least ``rigging.MIN_BATTLES`` battles with it: flagged.
- **selective**: a voter votes the battles with one model and leaves the others, same bound:
  flagged.
- **cluster**: the voters of one network (``voters.network_hash``, else the address) whose
  pooled picks favour one model beyond the same bound; the members who each lean to it
  (``z >= CLUSTER_MEMBER_Z`` over at least ``CLUSTER_MEMBER_BATTLES`` battles), when there
  are at least ``CLUSTER_MIN_VOTERS`` of them: flagged.
- **burst**: ``BURST_ADDRESS`` new voters from one address (``BURST_NETWORK`` from one
  network) within ``BURST_MINUTES``: listed, not flagged (the address cap bounds them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from arena.db import Database, Prepared
from arena.models import Battle, Model, Scope, Snapshot, SnapshotRow, Vote, Voter
from arena.ratings import elo, rigging

#: A cluster member leans to the cluster's model at least this much on its own.
CLUSTER_MEMBER_Z = 2.0
#: Battles with the model a cluster member needs.
CLUSTER_MEMBER_BATTLES = 3
#: Members a cluster needs before they are flagged.
CLUSTER_MIN_VOTERS = 3
#: A burst: this many new voters from one address (network) within BURST_MINUTES.
BURST_ADDRESS = 10
BURST_NETWORK = 30
BURST_MINUTES = 10


@dataclass(frozen=True)
class Finding:
    """One finding: the detector, whom it concerns, the score, why, and whether to flag."""

    detector: str
    score: float
    reason: str
    flag: bool
    voter_id: int | None = None
    model_id: int | None = None
    address_hash: str | None = None
    network_hash: str | None = None

    def row(self, now: dt.datetime) -> dict[str, object]:
        """The ``findings`` row of this finding."""
        return {
            "found_at": now,
            "detector": self.detector,
            "voter_id": self.voter_id,
            "address_hash": self.address_hash,
            "network_hash": self.network_hash,
            "model_id": self.model_id,
            "score": round(self.score, 3),
            "reason": self.reason[:500],
            "flagged": self.flag,
        }


def _array(
    session: Session, statement: object, columns: int, params: dict[str, object] | None = None
) -> np.ndarray:
    """Rows of plain numbers straight into one float array (a million in about a second)."""
    rows = Prepared(statement).execute(session.connection(), params or {})
    return np.array(rows, dtype=np.float64).reshape(-1, columns)


def _votes(session: Session) -> np.ndarray:
    """Decisive two-image votes of unflagged voters: voter, model A, model B, A won, expected
    A (from the last published fit where it rates both models, else the live Elo's at the
    vote). Best-of-four votes are :func:`_choices`."""
    unflagged = select(Voter.id).where(Voter.flagged.is_(False))
    votes = _array(
        session,
        select(
            Vote.voter_id,
            Vote.model_a_id,
            Vote.model_b_id,
            case((Vote.winner == "model_a", 1.0), else_=0.0),
            Vote.expected_a,
            Vote.competition_id,
        )
        .outerjoin(Battle, Battle.id == Vote.battle_id)
        .where(
            Vote.voter_id.in_(unflagged),
            Vote.expected_a.is_not(None),
            or_(Vote.winner == "model_a", Vote.winner == "model_b"),
            func.coalesce(Battle.size, 2) == 2,
        ),
        6,
    )
    competition, a, b, live = votes[:, 5], votes[:, 1], votes[:, 2], votes[:, 4]
    votes[:, 4] = _published_expectation(session, competition, a, b, live)
    return votes[:, :5]


def _choices(session: Session) -> np.ndarray:
    """Best-of-four ballots of unflagged voters as trials, one row per model shown: voter,
    model, picked (1.0 or 0.0), chance of the pick by the published fit (Bradley-Terry-Luce
    first choice among the four; a model it does not rate counts as even with the others).

    The pick is the model that won all three of its comparisons; a ranking whose first tier
    holds several images has no pick and is left out.
    """
    unflagged = select(Voter.id).where(Voter.flagged.is_(False))
    rows = _array(
        session,
        select(
            Vote.battle_id,
            Vote.voter_id,
            Vote.competition_id,
            Vote.model_a_id,
            Vote.model_b_id,
            case((Vote.winner == "model_a", 1.0), (Vote.winner == "model_b", 0.0), else_=0.5),
        )
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.voter_id.in_(unflagged), Battle.size == 4),
        6,
    )
    if not len(rows):
        return np.zeros((0, 4))
    # Each model's wins and appearances per ballot.
    ballot = np.concatenate([rows[:, 0], rows[:, 0]])
    model = np.concatenate([rows[:, 3], rows[:, 4]])
    score = np.concatenate([rows[:, 5], 1.0 - rows[:, 5]])
    frame = pd.DataFrame({"ballot": ballot, "model": model, "score": score})
    per = frame.groupby(["ballot", "model"], sort=True)["score"].agg(["sum", "count"])
    per = per.reset_index()
    sizes = per.groupby("ballot")["model"].transform("size").to_numpy()
    per = per[sizes == 4]
    picked = (per["sum"] == 3.0).to_numpy()
    has_pick = pd.Series(picked).groupby(per["ballot"].to_numpy()).transform("sum").to_numpy()
    per, picked = per[has_pick == 1], picked[has_pick == 1]
    if not len(per):
        return np.zeros((0, 4))
    first = rows[np.unique(rows[:, 0], return_index=True)[1]]  # one row per ballot, by id
    info = dict(zip(first[:, 0], zip(first[:, 1], first[:, 2], strict=True), strict=True))
    ballots = per["ballot"].to_numpy()
    models = per["model"].to_numpy().reshape(-1, 4)
    voter = np.array([info[b][0] for b in ballots])
    competition = np.array([info[b][1] for b in ballots[::4]])
    i, j = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    k = len(models)
    pairs_a = models[:, i.ravel()].ravel()
    pairs_b = models[:, j.ravel()].ravel()
    even = np.full(pairs_a.shape, 0.5)
    p = _published_expectation(session, np.repeat(competition, 16), pairs_a, pairs_b, even)
    chance = rigging.first_choice(p.reshape(k, 4, 4)).ravel()
    return np.column_stack([voter, models.ravel(), picked.astype(np.float64), chance])


def _published_expectation(
    session: Session,
    competition: np.ndarray,
    model_a: np.ndarray,
    model_b: np.ndarray,
    live: np.ndarray,
) -> np.ndarray:
    """Model A's chance of winning each decisive vote by the competition's last published
    Bradley-Terry ratings, where that snapshot rates both models; ``live`` elsewhere.

    The live Elo follows every counted vote at once, so a rigger's own votes raise the
    expectation its picks are measured against (a bot that always picks its target makes
    the target the favourite, and its picks stop looking odd). The published fit leaves out
    voters on probation and beyond the caps, so a new rigger cannot move it.
    """
    latest = (
        select(func.max(Snapshot.id))
        .join(Scope, Scope.id == Snapshot.scope_id)
        .where(Scope.kind == "competition")
        .group_by(Scope.competition_id)
    )
    rows = session.execute(
        select(Scope.competition_id, SnapshotRow.model_id, SnapshotRow.bt_rating)
        .join(Snapshot, Snapshot.id == SnapshotRow.snapshot_id)
        .join(Scope, Scope.id == Snapshot.scope_id)
        .where(Snapshot.id.in_(latest))
    ).all()
    if not rows or not len(live):
        return live
    table = np.array(rows, dtype=np.float64)
    width = float(max(table[:, 1].max(), model_a.max(), model_b.max()) + 1)
    keys = table[:, 0] * width + table[:, 1]
    order = np.argsort(keys)
    keys, ratings = keys[order], table[order, 2]

    def rating(model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = competition * width + model
        at = np.clip(np.searchsorted(keys, key), 0, len(keys) - 1)
        return ratings[at], keys[at] == key

    rating_a, known_a = rating(model_a)
    rating_b, known_b = rating(model_b)
    published = 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / elo.SCALE))
    return np.where(known_a & known_b, published, live)


#: A battle left unvoted this long counts as skipped: shorter than probation (10 minutes), so
#: a voter who skips every battle without its favourite is seen before its votes are fitted.
SKIPPED_AFTER = dt.timedelta(minutes=5)


def _battles(session: Session, now: dt.datetime) -> np.ndarray:
    """Settled battles of unflagged voters: voter, left model, right model, voted.

    A battle is settled once voted, or once it was issued ``SKIPPED_AFTER`` ago unvoted
    (skipped: the voting page issues a fresh battle at every load; waiting for the token to
    expire, an hour, would let a selective voter's votes into the fit first).
    """
    unflagged = select(Voter.id).where(Voter.flagged.is_(False))
    return _array(
        session,
        select(
            Battle.voter_id,
            Battle.left_model_id,
            Battle.right_model_id,
            case((Battle.voted_at.is_not(None), 1.0), else_=0.0),
        ).where(
            Battle.voter_id.in_(unflagged),
            or_(Battle.voted_at.is_not(None), Battle.created_at < bindparam("skipped_before")),
        ),
        4,
        # The raw driver gets the value as the ORM would store it (SQLite: text).
        {"skipped_before": _stored(session, now - SKIPPED_AFTER)},
    )


def _stored(session: Session, value: dt.datetime) -> object:
    """An aware datetime as the driver stores it (SQLite: SQLAlchemy's text format)."""
    if session.get_bind().dialect.name == "sqlite":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class _Context:
    """Index maps shared by the detectors: voters, models, their names, networks."""

    def __init__(self, session: Session, voter_ids: np.ndarray, model_ids: np.ndarray) -> None:
        self.voter_ids = np.unique(voter_ids.astype(np.int64))
        self.model_ids = np.unique(model_ids.astype(np.int64))
        self.names = dict(session.execute(select(Model.id, Model.name)).all())

    def voter(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.voter_ids, ids.astype(np.int64))

    def model(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.model_ids, ids.astype(np.int64))

    def name(self, index: int) -> str:
        model_id = int(self.model_ids[index])
        return self.names.get(model_id, f"model {model_id}")


def _favouritism(ctx: _Context, tilt: rigging.Tilt) -> list[Finding]:
    bound = rigging.z_threshold(len(ctx.model_ids))
    z = np.where(tilt.battles >= rigging.MIN_BATTLES, tilt.z, np.nan)
    model, best = rigging.Tilt(tilt.battles, tilt.picks, tilt.expected, z).strongest()
    found = []
    for v in np.flatnonzero(best >= bound):
        m = model[v]
        found.append(
            Finding(
                "favouritism",
                float(best[v]),
                f"favours {ctx.name(m)}: {tilt.picks[v, m]} of {tilt.battles[v, m]} picks "
                f"(expected {tilt.expected[v, m]:.1f}), z = {best[v]:.1f}",
                True,
                voter_id=int(ctx.voter_ids[v]),
                model_id=int(ctx.model_ids[m]),
            )
        )
    return found


def _selective(ctx: _Context, battles: np.ndarray) -> list[Finding]:
    known = np.isin(battles[:, 0], ctx.voter_ids) & np.isin(battles[:, 1], ctx.model_ids)
    known &= np.isin(battles[:, 2], ctx.model_ids)
    battles = battles[known]
    s = rigging.selective_voting(
        ctx.voter(battles[:, 0]),
        ctx.model(battles[:, 1]),
        ctx.model(battles[:, 2]),
        battles[:, 3] > 0,
        len(ctx.voter_ids),
        len(ctx.model_ids),
    )
    model, best = rigging.Tilt(s.issued_with, s.voted_with, s.issued_with, s.z).strongest()
    bound = rigging.z_threshold(len(ctx.model_ids))
    return [
        Finding(
            "selective",
            float(best[v]),
            f"votes when {ctx.name(model[v])} appears: {s.voted_with[v, model[v]]} of "
            f"{s.issued_with[v, model[v]]} battles with it voted, {s.voted_without[v, model[v]]} "
            f"of {s.issued_without[v, model[v]]} without it, z = {best[v]:.1f}",
            True,
            voter_id=int(ctx.voter_ids[v]),
            model_id=int(ctx.model_ids[model[v]]),
        )
        for v in np.flatnonzero(best >= bound)
    ]


def _clusters(
    ctx: _Context,
    votes: np.ndarray,
    choices: np.ndarray,
    tilt: rigging.Tilt,
    networks: pd.Series,
) -> list[Finding]:
    """Networks whose voters' pooled picks favour one model; their leaning members."""
    net = networks.reindex(ctx.voter_ids).to_numpy()
    has = pd.notna(net)
    if not has.any():
        return []
    codes, hashes = pd.factorize(pd.Series(net[has], dtype=object))
    group = np.full(len(ctx.voter_ids), -1, dtype=np.int64)
    group[has] = codes
    v = ctx.voter(votes[:, 0])
    mine = group[v] >= 0
    c = ctx.voter(choices[:, 0])
    theirs = group[c] >= 0
    pooled = rigging.favouritism(
        group[v][mine],
        ctx.model(votes[mine, 1]),
        ctx.model(votes[mine, 2]),
        votes[mine, 3] > 0,
        votes[mine, 4],
        len(hashes),
        len(ctx.model_ids),
        choices=rigging.Choices(
            group[c][theirs],
            ctx.model(choices[theirs, 1]),
            choices[theirs, 2] > 0,
            choices[theirs, 3],
        ),
    )
    model, best = pooled.strongest()
    bound = rigging.z_threshold(len(ctx.model_ids))
    found = []
    for g in np.flatnonzero(best >= bound):
        m = model[g]
        members = np.flatnonzero(
            (group == g)
            & (tilt.battles[:, m] >= CLUSTER_MEMBER_BATTLES)
            & (np.nan_to_num(tilt.z[:, m], nan=-np.inf) >= CLUSTER_MEMBER_Z)
        )
        if len(members) < CLUSTER_MIN_VOTERS:
            continue
        for member in members:
            found.append(
                Finding(
                    "cluster",
                    float(best[g]),
                    f"one of {len(members)} voters of a network favouring {ctx.name(m)}: "
                    f"together {pooled.picks[g, m]} of {pooled.battles[g, m]} picks, "
                    f"z = {best[g]:.1f}; this voter {tilt.picks[member, m]} of "
                    f"{tilt.battles[member, m]}",
                    True,
                    voter_id=int(ctx.voter_ids[member]),
                    model_id=int(ctx.model_ids[m]),
                    network_hash=str(hashes[g]),
                )
            )
    return found


def _bursts(session: Session) -> list[Finding]:
    rows = session.execute(
        select(Voter.created_at, Voter.address_hash, Voter.network_hash).where(
            or_(Voter.address_hash.is_not(None), Voter.network_hash.is_not(None))
        )
    ).all()
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=["created_at", "address", "network"])
    seconds = frame["created_at"].map(lambda t: Database.read_timestamp(t).timestamp())
    found = []
    for column, threshold in (("address", BURST_ADDRESS), ("network", BURST_NETWORK)):
        present = frame[column].notna().to_numpy()
        codes, hashes = pd.factorize(frame.loc[present, column])
        burst = rigging.bursts(codes, seconds[present].to_numpy(), len(hashes), BURST_MINUTES * 60)
        for g in np.flatnonzero(burst.count >= threshold):
            start = dt.datetime.fromtimestamp(burst.start[g], dt.UTC)
            found.append(
                Finding(
                    "burst",
                    float(burst.count[g]),
                    f"{burst.count[g]} new voters from one {column} within {BURST_MINUTES} "
                    f"minutes from {start:%Y-%m-%d %H:%M} UTC",
                    False,
                    **{f"{column}_hash": str(hashes[g])},
                )
            )
    return found


def detect(session: Session, *, now: dt.datetime) -> list[Finding]:
    """Run every detector on the log as it is (reads only)."""
    votes = _votes(session)
    choices = _choices(session)
    battles = _battles(session, now)
    found = _bursts(session)
    if not len(votes) and not len(battles) and not len(choices):
        return found
    ctx = _Context(
        session,
        np.concatenate([votes[:, 0], battles[:, 0], choices[:, 0]]),
        np.concatenate([votes[:, 1], votes[:, 2], battles[:, 1], battles[:, 2], choices[:, 1]]),
    )
    tilt = rigging.favouritism(
        ctx.voter(votes[:, 0]),
        ctx.model(votes[:, 1]),
        ctx.model(votes[:, 2]),
        votes[:, 3] > 0,
        votes[:, 4],
        len(ctx.voter_ids),
        len(ctx.model_ids),
        min_battles=CLUSTER_MEMBER_BATTLES,
        choices=rigging.Choices(
            ctx.voter(choices[:, 0]), ctx.model(choices[:, 1]), choices[:, 2] > 0, choices[:, 3]
        ),
    )
    networks = dict(
        session.execute(
            select(Voter.id, func.coalesce(Voter.network_hash, Voter.address_hash))
        ).all()
    )
    return [
        *_favouritism(ctx, tilt),
        *_selective(ctx, battles),
        *_clusters(ctx, votes, choices, tilt, pd.Series(networks, dtype=object)),
        *found,
    ]
