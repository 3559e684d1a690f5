"""The admin's influence audit and rigging findings: what the latest snapshots and detectors
found, phrased for the page, and excluding every voter of one address at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.db import Database
from arena.errors import NotFound, ValidationError
from arena.models import Model, Scope, Snapshot, Voter
from arena.models.ratings import FINDING_DETECTORS, Finding
from arena.services import integrity


@dataclass(frozen=True)
class ScopeAudit:
    """One scope's latest audit, with voters, addresses and models named for the page."""

    scope: str
    snapshot_id: int
    computed_at: dt.datetime
    weights: dict[str, Any]
    voters: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    without_voters: dict[str, Any] | None = None
    without_addresses: dict[str, Any] | None = None


def _named(rows: list[dict[str, Any]] | None, names: dict[int, str]) -> None:
    for row in rows or []:
        row["model_name"] = names.get(row["model"], f"model {row['model']}")


def latest_audits(session: Session) -> list[ScopeAudit]:
    """The audit of every scope's latest snapshot (scopes without one left out)."""
    latest = select(func.max(Snapshot.id)).group_by(Snapshot.scope_id).scalar_subquery()
    snapshots = session.execute(
        select(Snapshot.id, Scope.key, Snapshot.computed_at, Snapshot.audit)
        .join(Scope, Scope.id == Snapshot.scope_id)
        .where(Snapshot.id.in_(latest), Snapshot.audit.is_not(None))
        .order_by(Scope.id)
    ).all()
    names = dict(session.execute(select(Model.id, Model.name)).all())
    voter_ids = {row["voter_id"] for s in snapshots for row in s.audit.get("voters", [])}
    voters = {}
    if voter_ids:
        voters = {
            v.id: v
            for v in session.execute(
                select(Voter.id, Voter.public_id, Voter.flagged).where(Voter.id.in_(voter_ids))
            )
        }
    result = []
    for snapshot_id, key, computed_at, audit in snapshots:
        for row in audit.get("voters", []):
            voter = voters.get(row["voter_id"])
            row["public_id"] = voter.public_id if voter else None
            row["flagged"] = bool(voter.flagged) if voter else False
        for name in ("voters", "addresses"):
            _named(audit.get(name), names)
            moved = audit.get(f"without_{name}")
            if moved:
                _named(moved["models"], names)
                moved["models"].sort(key=lambda m: -abs(m["shift"]))
        result.append(
            ScopeAudit(
                scope=key,
                snapshot_id=snapshot_id,
                computed_at=computed_at,
                weights=audit.get("weights", {}),
                voters=audit.get("voters", []),
                addresses=audit.get("addresses", []),
                without_voters=audit.get("without_voters"),
                without_addresses=audit.get("without_addresses"),
            )
        )
    return result


@dataclass(frozen=True)
class FindingLine:
    """One finding for the page: detector, voter (pseudonym) or group hash, why."""

    detector: str
    found_at: dt.datetime
    voter: str | None
    group: str | None
    score: float
    reason: str
    flagged: bool


def findings(session: Session, *, limit: int = 20) -> tuple[dict[str, int], list[FindingLine]]:
    """Counts per detector (every one listed) and the strongest ``limit`` findings."""
    counts = dict.fromkeys(FINDING_DETECTORS, 0)
    counts.update(
        session.execute(select(Finding.detector, func.count()).group_by(Finding.detector)).all()
    )
    rows = session.execute(
        select(
            Finding.detector,
            Finding.found_at,
            Voter.public_id,
            func.coalesce(Finding.address_hash, Finding.network_hash),
            Finding.score,
            Finding.reason,
            Finding.flagged,
        )
        .outerjoin(Voter, Voter.id == Finding.voter_id)
        .order_by(Finding.flagged.desc(), Finding.score.desc(), Finding.id)
        .limit(limit)
    ).all()
    return counts, [FindingLine(*row) for row in rows]


def exclude_address(db: Database, address_hash: str, *, reason: str, k: float) -> int:
    """Flag every unflagged voter created from one address, with one rebuild of the live Elo.

    Returns:
        How many voters were flagged.

    Raises:
        ValidationError: no reason, or one over 500 characters.
        NotFound: no voter has this address.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("say why this address is excluded", field="reason")
    if len(reason) > integrity.MAX_REASON:
        raise ValidationError(
            f"the reason is limited to {integrity.MAX_REASON} characters", field="reason"
        )
    with db.write_transaction() as conn:
        ids = conn.execute(
            select(Voter.id, Voter.flagged).where(Voter.address_hash == address_hash)
        ).all()
        if not ids:
            raise NotFound("no voter was created from this address", field="address")
        return integrity.flag_voters(
            conn, {vid: reason for vid, flagged in ids if not flagged}, k=k
        )
