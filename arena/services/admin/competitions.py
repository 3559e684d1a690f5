"""The admin's competitions: create and edit them, open and close them, and manage prompts.

Each public function that writes is one unit of work (all or nothing). The rules that keep
the arena honest are enforced here:

- A prompt's inputs (text, negative prompt, seed, size) cannot change, and the prompt cannot
  be deleted, once it has a finished output or a battle: every model's output was made from
  exactly those inputs (matched outputs), and votes refer to them.
- A model with battles in a competition cannot be withdrawn from it, and a competition with
  votes cannot move to another category (its category leaderboard already counts them).
- A closed competition is not reopened: its outputs are public with their models' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from arena.errors import Conflict, NotFound, ValidationError
from arena.models import (
    Battle,
    Category,
    Competition,
    Model,
    Output,
    Prompt,
    Scope,
    Vote,
)
from arena.models.arena import COMPETITION_STATUSES
from arena.services.admin import forms as f
from arena.services.rating_rows import ensure_scopes_and_ratings
from arena.services.scopes import scope_key
from arena.services.voting.battles import models_shown
from arena.sizes import MAX_SIDE, MIN_SIDE

#: A prompt's inputs: what every model receives, identical for matched outputs.
PROMPT_INPUTS = ("text", "negative_prompt", "seed", "width", "height")
MAX_PROMPT = 4000
MAX_SEED = 2**32 - 1
MIN_MODELS = 2


def get_competition(session: Session, slug: str) -> Competition:
    """The competition with its category, models and prompts loaded.

    Raises:
        NotFound: no competition has this slug.
    """
    competition = session.scalar(
        select(Competition)
        .where(Competition.slug == slug)
        .options(
            selectinload(Competition.category),
            selectinload(Competition.models),
            selectinload(Competition.prompts),
        )
    )
    if competition is None:
        raise NotFound(f"There is no competition called {slug!r}.", field="competition")
    return competition


def model_choices(session: Session) -> list[Model]:
    """Every model that can be entered, active ones first, then by name."""
    return list(
        session.scalars(select(Model).order_by(Model.status != "active", Model.name, Model.slug))
    )


def category_choices(session: Session) -> list[Category]:
    """Every category by name."""
    return list(session.scalars(select(Category).order_by(Category.name, Category.slug)))


def competition_form(competition: Competition | None) -> dict[str, Any]:
    """The competition's values as the form shows them; ``models`` is a set of slugs."""
    if competition is None:
        return {"models": set()}
    return {
        "slug": competition.slug,
        "name": competition.name,
        "category": competition.category.slug,
        "description": competition.description or "",
        "models": {m.slug for m in competition.models},
    }


def _competition_values(
    session: Session, form: f.Form, model_slugs: list[str]
) -> tuple[dict[str, Any], list[Model]]:
    values: dict[str, Any] = {
        "slug": f.slug(form, "slug", limit=f.max_length(Competition.slug)),
        "name": f.required_text(form, "name", limit=f.max_length(Competition.name)),
        "description": f.text(form, "description", limit=MAX_PROMPT),
    }
    category_slug = (form.get("category") or "").strip()
    category = session.scalar(select(Category).where(Category.slug == category_slug))
    if category is None:
        raise ValidationError("Choose the competition's category.", field="category")
    values["category"] = category
    wanted = sorted(set(model_slugs))
    models = list(session.scalars(select(Model).where(Model.slug.in_(wanted)).order_by(Model.slug)))
    unknown = sorted(set(wanted) - {m.slug for m in models})
    if unknown:
        raise ValidationError(f"Unknown models: {', '.join(unknown)}.", field="models")
    if len(models) < MIN_MODELS:
        raise ValidationError(
            f"Choose at least {MIN_MODELS} models: a battle puts two of them side by side.",
            field="models",
        )
    return values, models


def _require_free_slug(session: Session, slug: str, own_id: int | None) -> None:
    other = session.scalar(select(Competition.id).where(Competition.slug == slug))
    if other is not None and other != own_id:
        raise Conflict(f"A competition with the slug {slug!r} already exists.", field="slug")


def create_competition(session: Session, form: f.Form, model_slugs: list[str]) -> Competition:
    """Add a competition as a draft, with its leaderboard scope and rating rows.

    Args:
        form: ``slug``, ``name``, ``category`` (slug) and optional ``description``.
        model_slugs: the models entered (at least two).

    Raises:
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the slug is taken (``field="slug"``).
    """
    values, models = _competition_values(session, form, model_slugs)
    with f.unit_of_work(session):
        _require_free_slug(session, values["slug"], None)
        competition = Competition(status="draft", **values)
        competition.models = models
        session.add(competition)
        session.flush()
        ensure_scopes_and_ratings(session)
    return competition


def _votes(session: Session, competition_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Vote).where(Vote.competition_id == competition_id)
    )


def update_competition(
    session: Session, slug: str, form: f.Form, model_slugs: list[str]
) -> Competition:
    """Change a competition's slug, name, category, description and models.

    A new slug renames its leaderboard scope with it; newly entered models get their rating
    rows (and need outputs: generate them from the admin).

    Raises:
        NotFound: no such competition.
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the slug is taken; a withdrawn model already has battles here; the category
            changes although the competition has votes.
    """
    competition = get_competition(session, slug)
    values, models = _competition_values(session, form, model_slugs)
    with f.unit_of_work(session):
        _require_free_slug(session, values["slug"], competition.id)
        if values["category"].id != competition.category_id and _votes(session, competition.id):
            raise Conflict(
                "This competition already has votes, which its category's leaderboard counts; "
                "it cannot move to another category. Create a new competition instead.",
                field="category",
            )
        kept = {m.id for m in models}
        withdrawn = {m.id: m.slug for m in competition.models if m.id not in kept}
        shown = models_shown(session, competition.id) if withdrawn else set()
        fought = sorted(slug_ for id_, slug_ in withdrawn.items() if id_ in shown)
        if fought:
            raise Conflict(
                f"Cannot withdraw {', '.join(fought)}: they already have battles in this "
                "competition, and its votes must stay with their models.",
                field="models",
            )
        if values["slug"] != competition.slug:
            session.execute(
                update(Scope)
                .where(Scope.competition_id == competition.id)
                .values(key=scope_key("competition", values["slug"]))
            )
        for name, value in values.items():
            setattr(competition, name, value)
        competition.models = models
        session.flush()
        ensure_scopes_and_ratings(session)
    return competition


def set_status(session: Session, slug: str, status: str) -> Competition:
    """Open a competition for voting, close it, or take it back to draft.

    Rules: only a draft opens (with at least two models and one prompt); a closed
    competition stays closed (its outputs are public with their models, so reopening would
    break the voters' anonymity); back to draft only before the first vote.

    Raises:
        NotFound: no such competition.
        ValidationError: not draft, open or closed.
        Conflict: the change breaks one of the rules above; the message says which.
    """
    competition = get_competition(session, slug)
    target = f.choice({"status": status}, "status", COMPETITION_STATUSES)
    current = competition.status
    if target == current:
        return competition
    if target == "open":
        if current == "closed":
            raise Conflict(
                "A closed competition cannot reopen: its outputs are shown publicly with their "
                "models' names, so voters would no longer judge blind. Create a new edition.",
                field="status",
            )
        if len(competition.models) < MIN_MODELS or not competition.prompts:
            raise Conflict(
                f"To open it for voting, enter at least {MIN_MODELS} models and add a prompt.",
                field="status",
            )
    if target == "draft" and _votes(session, competition.id):
        raise Conflict(
            "This competition already has votes; it can be closed but not taken back to draft.",
            field="status",
        )
    with f.unit_of_work(session):
        competition.status = target
    return competition


# --- prompts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptUsage:
    """What depends on a prompt's inputs: finished outputs and battles."""

    outputs_done: int
    battles: int

    @property
    def locked(self) -> bool:
        """True when the inputs may no longer change."""
        return bool(self.outputs_done or self.battles)


def prompt_usage(session: Session, prompt_ids: list[int]) -> dict[int, PromptUsage]:
    """Finished outputs and battles (or votes) per prompt."""
    done = dict(
        session.execute(
            select(Output.prompt_id, func.count())
            .where(Output.prompt_id.in_(prompt_ids), Output.status == "done")
            .group_by(Output.prompt_id)
        ).all()
    )
    battles = dict(
        session.execute(
            select(Battle.prompt_id, func.count())
            .where(Battle.prompt_id.in_(prompt_ids))
            .group_by(Battle.prompt_id)
        ).all()
    )
    votes = dict(
        session.execute(
            select(Vote.prompt_id, func.count())
            .where(Vote.prompt_id.in_(prompt_ids))
            .group_by(Vote.prompt_id)
        ).all()
    )
    return {
        pid: PromptUsage(done.get(pid, 0), max(battles.get(pid, 0), votes.get(pid, 0)))
        for pid in prompt_ids
    }


def get_prompt(session: Session, competition_slug: str, prompt_id: int) -> Prompt:
    """One prompt of the competition.

    Raises:
        NotFound: the competition has no such prompt.
    """
    prompt = session.scalar(
        select(Prompt)
        .join(Competition, Competition.id == Prompt.competition_id)
        .where(Prompt.id == prompt_id, Competition.slug == competition_slug)
        .options(selectinload(Prompt.competition))
    )
    if prompt is None:
        raise NotFound(
            f"Competition {competition_slug!r} has no prompt #{prompt_id}.", field="prompt"
        )
    return prompt


def prompt_form(prompt: Prompt | None, *, next_position: int = 0) -> dict[str, str]:
    """The prompt's values as the form shows them (defaults for a new one)."""
    if prompt is None:
        return {
            "key": f"prompt-{next_position + 1}",
            "seed": "0",
            "width": "1024",
            "height": "1024",
            "position": str(next_position),
        }
    return {
        "key": prompt.key,
        "text": prompt.text,
        "negative_prompt": prompt.negative_prompt or "",
        "seed": str(prompt.seed),
        "width": str(prompt.width),
        "height": str(prompt.height),
        "position": str(prompt.position),
    }


def _prompt_values(form: f.Form) -> dict[str, Any]:
    return {
        "key": f.slug(form, "key", limit=f.max_length(Prompt.key)),
        "text": f.required_text(form, "text", limit=MAX_PROMPT),
        "negative_prompt": f.text(form, "negative_prompt", limit=MAX_PROMPT),
        "seed": f.integer(form, "seed", minimum=0, maximum=MAX_SEED),
        "width": f.integer(form, "width", minimum=MIN_SIDE, maximum=MAX_SIDE),
        "height": f.integer(form, "height", minimum=MIN_SIDE, maximum=MAX_SIDE),
        "position": f.integer(form, "position", minimum=0, maximum=10_000, default=0),
    }


def _require_free_key(session: Session, competition_id: int, key: str, own_id: int | None) -> None:
    other = session.scalar(
        select(Prompt.id).where(Prompt.competition_id == competition_id, Prompt.key == key)
    )
    if other is not None and other != own_id:
        raise Conflict(f"This competition already has a prompt with the key {key!r}.", field="key")


def _locked_message(usage: PromptUsage, action: str) -> str:
    return (
        f"Cannot {action}: it already has {usage.outputs_done} finished outputs and "
        f"{usage.battles} battles. Every model's output was made from exactly these inputs "
        "(matched outputs), so they must stay as they are. Add a new prompt instead."
    )


def add_prompt(session: Session, competition_slug: str, form: f.Form) -> Prompt:
    """Add a prompt to a competition (its outputs are then missing until generated).

    Raises:
        NotFound: no such competition.
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the key is taken in this competition (``field="key"``).
    """
    competition = get_competition(session, competition_slug)
    values = _prompt_values(form)
    with f.unit_of_work(session):
        _require_free_key(session, competition.id, values["key"], None)
        prompt = Prompt(competition_id=competition.id, **values)
        session.add(prompt)
    return prompt


def update_prompt(session: Session, competition_slug: str, prompt_id: int, form: f.Form) -> Prompt:
    """Change a prompt; its inputs only while it has no finished output and no battle.

    Unfinished (failed) outputs made from the old inputs are dropped with the change, so
    the next generation makes them from the new ones.

    Raises:
        NotFound: no such prompt in this competition.
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the key is taken, or inputs change on a prompt that has outputs or battles
            (``field`` names the first changed input).
    """
    prompt = get_prompt(session, competition_slug, prompt_id)
    values = _prompt_values(form)
    changed = [name for name in PROMPT_INPUTS if getattr(prompt, name) != values[name]]
    with f.unit_of_work(session):
        _require_free_key(session, prompt.competition_id, values["key"], prompt.id)
        if changed:
            usage = prompt_usage(session, [prompt.id])[prompt.id]
            if usage.locked:
                raise Conflict(
                    _locked_message(usage, "change this prompt's inputs"), field=changed[0]
                )
            session.execute(delete(Output).where(Output.prompt_id == prompt.id))
        for name, value in values.items():
            setattr(prompt, name, value)
    return prompt


def delete_prompt(session: Session, competition_slug: str, prompt_id: int) -> None:
    """Delete a prompt that has no finished output and no battle (its failed outputs go too).

    Raises:
        NotFound: no such prompt in this competition.
        Conflict: it has finished outputs or battles.
    """
    prompt = get_prompt(session, competition_slug, prompt_id)
    usage = prompt_usage(session, [prompt.id])[prompt.id]
    if usage.locked:
        raise Conflict(_locked_message(usage, "delete this prompt"), field="prompt")
    with f.unit_of_work(session):
        session.execute(delete(Output).where(Output.prompt_id == prompt.id))
        session.execute(delete(Prompt).where(Prompt.id == prompt.id))
        session.expire_all()


def next_position(competition: Competition) -> int:
    """The position after the competition's last prompt."""
    return max((p.position for p in competition.prompts), default=-1) + 1
