"""Per-competition progress: prompts, models, outputs done/failed/missing and votes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.models import Category, Competition, CompetitionModel, Model, Output, Prompt, Vote


def competition_status(session: Session, *, public_only: bool = False) -> list[dict[str, Any]]:
    """One dict per competition with the status fields of docs/contract.md (3.6), by slug.

    Fields: ``slug, name, category, status, prompts, models, model_ids, outputs_done,
    outputs_failed, outputs_missing, votes``. ``outputs_missing`` counts the (model, prompt)
    pairs with no finished output, failed ones included. ``public_only`` leaves out drafts.
    """
    query = (
        select(
            Competition.id, Competition.slug, Competition.name, Competition.status, Category.slug
        )
        .join(Category)
        .order_by(Competition.slug)
    )
    if public_only:
        query = query.where(Competition.status != "draft")
    competitions = session.execute(query).all()

    prompts = dict(
        session.execute(
            select(Prompt.competition_id, func.count()).group_by(Prompt.competition_id)
        ).all()
    )
    model_ids: dict[int, list[str]] = {}
    for competition_id, slug in session.execute(
        select(CompetitionModel.competition_id, Model.slug)
        .join(Model, Model.id == CompetitionModel.model_id)
        .order_by(Model.slug)
    ):
        model_ids.setdefault(competition_id, []).append(slug)
    # Only outputs of models still entered in the competition count toward its progress.
    entered = (
        select(Prompt.competition_id, Output.status, func.count())
        .join(Output, Output.prompt_id == Prompt.id)
        .join(
            CompetitionModel,
            (CompetitionModel.competition_id == Prompt.competition_id)
            & (CompetitionModel.model_id == Output.model_id),
        )
        .group_by(Prompt.competition_id, Output.status)
    )
    outputs: dict[tuple[int, str], int] = {
        (cid, status): n for cid, status, n in session.execute(entered)
    }
    votes = dict(
        session.execute(
            select(Vote.competition_id, func.count()).group_by(Vote.competition_id)
        ).all()
    )
    rows = []
    for cid, slug, name, status, category in competitions:
        ids = model_ids.get(cid, [])
        n_prompts = prompts.get(cid, 0)
        done = outputs.get((cid, "done"), 0)
        rows.append(
            {
                "slug": slug,
                "name": name,
                "category": category,
                "status": status,
                "prompts": n_prompts,
                "models": len(ids),
                "model_ids": ids,
                "outputs_done": done,
                "outputs_failed": outputs.get((cid, "failed"), 0),
                "outputs_missing": n_prompts * len(ids) - done,
                "votes": votes.get(cid, 0),
            }
        )
    return rows
