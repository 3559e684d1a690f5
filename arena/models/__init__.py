"""SQLAlchemy 2.0 typed models, grouped by domain; importing this registers every table."""

from arena.models.access import ApiKey, ApiUsage
from arena.models.arena import (
    Battle,
    BattleEntry,
    Category,
    Competition,
    CompetitionModel,
    Matchup,
    Output,
    Prompt,
    Vote,
    Voter,
)
from arena.models.base import Base, utcnow
from arena.models.catalog import Model, ModelParameter, Provider, ProviderOffering
from arena.models.ratings import Lease, Rating, Scope, Snapshot, SnapshotRow

__all__ = [
    "ApiKey",
    "ApiUsage",
    "Base",
    "Battle",
    "BattleEntry",
    "Category",
    "Competition",
    "CompetitionModel",
    "Lease",
    "Matchup",
    "Model",
    "ModelParameter",
    "Output",
    "Prompt",
    "Provider",
    "ProviderOffering",
    "Rating",
    "Scope",
    "Snapshot",
    "SnapshotRow",
    "Vote",
    "Voter",
    "utcnow",
]
