"""Load ``seeds/`` (YAML) into the catalog and arena tables, idempotently.

Rows are matched on their stable keys (provider, model and category slugs, competition slug,
prompt key within its competition) and only the attributes that differ are written, so a
second run changes nothing and an edited file updates exactly what was edited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from arena.errors import SeedError
from arena.models import (
    Battle,
    Category,
    Competition,
    Model,
    ModelParameter,
    Output,
    Prompt,
    Provider,
    ProviderOffering,
)
from arena.models.arena import COMPETITION_STATUSES
from arena.models.catalog import MODEL_STATUSES, PARAMETER_GROUPS, PARAMETER_TYPES, PRICING_UNITS
from arena.services.rating_rows import ensure_scopes_and_ratings
from arena.services.voting.battles import models_shown
from arena.sizes import parse_size

PROMPT_INPUTS = ("text", "negative_prompt", "seed", "width", "height")


@dataclass
class SeedReport:
    """What a seed run did, per kind of row: ``created``, ``updated`` and ``deleted`` counts."""

    counts: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str, what: str, n: int = 1) -> None:
        if n:
            self.counts[f"{kind} {what}"] += n

    @property
    def changed(self) -> bool:
        return bool(self.counts)

    def summary(self) -> str:
        if not self.counts:
            return "Seeds already up to date: nothing changed."
        return "Seeded: " + ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set only the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class _Reader:
    """Reads one YAML file and checks its entries, naming the file and entry in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise SeedError(f"{path}: seed file not found")
        try:
            self.data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SeedError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(self.data, dict):
            raise SeedError(f"{path}: expected a mapping at the top level")

    def fail(self, where: str, message: str) -> SeedError:
        return SeedError(f"{self.path}: {where}: {message}")

    def entries(self, key: str) -> list[dict[str, Any]]:
        items = self.data.get(key)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self.fail(key, "expected a list of mappings")
        return items

    def get(
        self,
        entry: dict[str, Any],
        name: str,
        kind: type | tuple[type, ...],
        where: str,
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        value = entry.get(name, default)
        if value is None:
            if required:
                raise self.fail(where, f"'{name}' is required")
            return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(where, f"'{name}' has the wrong type ({type(value).__name__})")
        return value

    def choice(
        self,
        entry: dict[str, Any],
        name: str,
        choices: tuple[str, ...],
        where: str,
        default: str | None = None,
    ) -> str:
        value = entry.get(name, default)
        if value not in choices:
            raise self.fail(where, f"'{name}' must be one of {', '.join(choices)}, got {value!r}")
        return value

    def str_list(self, entry: dict[str, Any], name: str, where: str) -> list[str]:
        value = entry.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"'{name}' must be a list of strings")
        return value


def load_seeds(session: Session, seeds_dir: Path) -> SeedReport:
    """Bring the database in line with the seed files in ``seeds_dir`` and commit.

    Args:
        session: a fresh session; committed on success, rolled back on any error.
        seeds_dir: folder with providers.yaml, parameters.yaml, categories.yaml,
            competitions.yaml and models/*.yaml.

    Returns:
        What changed.

    Raises:
        SeedError: a file is missing or malformed, or an edit would orphan recorded votes;
            nothing is written then.
    """
    report = SeedReport()
    try:
        providers = _seed_providers(session, _Reader(seeds_dir / "providers.yaml"), report)
        common = _read_parameters(_Reader(seeds_dir / "parameters.yaml"))
        model_files = sorted((seeds_dir / "models").glob("*.yaml"))
        if not model_files:
            raise SeedError(f"{seeds_dir / 'models'}: no model files (*.yaml)")
        models = {}
        for path in model_files:
            model = _seed_model(session, _Reader(path), common, providers, report)
            if model.slug in models:
                raise SeedError(f"{path}: model id {model.slug!r} is defined twice")
            models[model.slug] = model
        categories = _seed_categories(session, _Reader(seeds_dir / "categories.yaml"), report)
        _seed_competitions(
            session, _Reader(seeds_dir / "competitions.yaml"), categories, models, report
        )
        report.note("ratings/scopes", "created", ensure_scopes_and_ratings(session))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _seed_providers(session: Session, reader: _Reader, report: SeedReport) -> dict[str, Provider]:
    existing = {p.slug: p for p in session.scalars(select(Provider))}
    for i, entry in enumerate(reader.entries("providers")):
        where = f"providers[{i}]"
        slug = reader.get(entry, "id", str, where)
        values = {
            "name": reader.get(entry, "name", str, where),
            "website": reader.get(entry, "website", str, where, required=False),
        }
        provider = existing.get(slug)
        if provider is None:
            existing[slug] = Provider(slug=slug, **values)
            session.add(existing[slug])
            report.note("providers", "created")
        elif _assign(provider, values):
            report.note("providers", "updated")
    session.flush()
    return existing


def common_parameters(seeds_dir: Path) -> list[dict[str, Any]]:
    """The parameters every model accepts (``parameters.yaml``), as ``ModelParameter`` values.

    Models created in the admin get these, as seeded models do.

    Raises:
        SeedError: the file is missing or malformed.
    """
    return _read_parameters(_Reader(seeds_dir / "parameters.yaml"))


def _read_parameters(reader: _Reader) -> list[dict[str, Any]]:
    return [
        _parameter_values(reader, entry, f"parameters[{i}]", provider_only=False)
        for i, entry in enumerate(reader.entries("parameters"))
    ]


def _parameter_values(
    reader: _Reader, entry: dict[str, Any], where: str, *, provider_only: bool
) -> dict[str, Any]:
    values = {
        "name": reader.get(entry, "name", str, where),
        "group": reader.choice(
            entry, "group", PARAMETER_GROUPS, where, "additional" if provider_only else None
        ),
        "type": reader.choice(entry, "type", PARAMETER_TYPES, where),
        "required": reader.get(entry, "required", bool, where, required=False, default=False),
        "description": reader.get(entry, "description", str, where, required=False),
        "default": entry.get("default"),
        "enum": reader.get(entry, "enum", list, where, required=False),
        "minimum": reader.get(entry, "minimum", (int, float), where, required=False),
        "maximum": reader.get(entry, "maximum", (int, float), where, required=False),
        "providers": reader.get(entry, "providers", list, where, required=False),
    }
    for bound in ("minimum", "maximum"):
        if values[bound] is not None:
            values[bound] = float(values[bound])
    return values


def _price(reader: _Reader, entry: dict[str, Any], where: str) -> tuple[str | None, Decimal | None]:
    pricing = entry.get("pricing")
    if pricing is None:
        return None, None
    if not isinstance(pricing, dict):
        raise reader.fail(where, "'pricing' must be null or {unit, usd}")
    unit = reader.choice(pricing, "unit", PRICING_UNITS, where)
    usd = pricing.get("usd")
    try:
        price = Decimal(str(usd))
    except InvalidOperation:
        raise reader.fail(where, f"'pricing.usd' must be a number, got {usd!r}") from None
    if usd is None or isinstance(usd, bool) or price < 0:
        raise reader.fail(where, f"'pricing.usd' must be a non-negative number, got {usd!r}")
    return unit, price.quantize(Decimal("0.000001"))


def _seed_model(
    session: Session,
    reader: _Reader,
    common: list[dict[str, Any]],
    providers: dict[str, Provider],
    report: SeedReport,
) -> Model:
    entry = reader.data
    where = "model"
    slug = reader.get(entry, "id", str, where)
    released = entry.get("released")
    if released is not None and not isinstance(released, dt.date):
        raise reader.fail(where, f"'released' must be an ISO date or null, got {released!r}")
    about = reader.get(entry, "about", dict, where, required=False)
    values = {
        "name": reader.get(entry, "name", str, where),
        "summary": reader.get(entry, "summary", str, where, required=False),
        "creator": reader.get(entry, "creator", str, where, required=False),
        "license": reader.get(entry, "license", str, where, required=False),
        "family": reader.get(entry, "family", str, where, required=False),
        "status": reader.choice(entry, "status", MODEL_STATUSES, where, "active"),
        "input_modalities": reader.str_list(entry, "input_modalities", where),
        "output_modalities": reader.str_list(entry, "output_modalities", where),
        "modes": reader.str_list(entry, "modes", where),
        "tags": reader.str_list(entry, "tags", where),
        "released": released,
        "description": reader.get(entry, "description", str, where, required=False),
        "about": about,
        "example_prompt": reader.get(entry, "example_prompt", str, where, required=False),
        "curated_prompts": reader.str_list(entry, "curated_prompts", where),
    }
    model = session.scalar(select(Model).where(Model.slug == slug))
    if model is None:
        model = Model(slug=slug, **values)
        session.add(model)
        report.note("models", "created")
    elif _assign(model, values):
        report.note("models", "updated")

    extras = [
        _parameter_values(reader, p, f"parameters[{i}]", provider_only=True)
        for i, p in enumerate(reader.entries("parameters") if entry.get("parameters") else [])
    ]
    wanted = common + extras
    names = [p["name"] for p in wanted]
    if len(set(names)) != len(names):
        raise reader.fail("parameters", "a parameter name appears twice")
    current = {p.name: p for p in model.parameters}
    for position, values_ in enumerate(wanted):
        values_ = {**values_, "position": position}
        parameter = current.pop(values_["name"], None)
        if parameter is None:
            model.parameters.append(ModelParameter(**values_))
            report.note("model parameters", "created")
        elif _assign(parameter, values_):
            report.note("model parameters", "updated")
    for parameter in current.values():
        model.parameters.remove(parameter)
        report.note("model parameters", "deleted")

    current_offerings = {o.provider.slug: o for o in model.offerings}
    for i, offering_entry in enumerate(entry.get("offerings") or []):
        where = f"offerings[{i}]"
        if not isinstance(offering_entry, dict):
            raise reader.fail(where, "expected a mapping")
        provider_slug = reader.get(offering_entry, "provider", str, where)
        if provider_slug not in providers:
            raise reader.fail(where, f"unknown provider {provider_slug!r} (see providers.yaml)")
        unit, price = _price(reader, offering_entry, where)
        offering_values = {
            "config_key": f"{provider_slug}/{slug}",
            "provider_model_id": reader.get(offering_entry, "provider_model_id", str, where),
            "pricing_unit": unit,
            "price_usd": price,
            "notes": reader.str_list(offering_entry, "notes", where),
            "source_url": reader.get(offering_entry, "source_url", str, where, required=False),
        }
        offering = current_offerings.pop(provider_slug, None)
        if offering is None:
            model.offerings.append(
                ProviderOffering(provider=providers[provider_slug], **offering_values)
            )
            report.note("offerings", "created")
        elif _assign(offering, offering_values):
            report.note("offerings", "updated")
    for offering in current_offerings.values():
        model.offerings.remove(offering)
        report.note("offerings", "deleted")
    session.flush()
    return model


def _seed_categories(session: Session, reader: _Reader, report: SeedReport) -> dict[str, Category]:
    existing = {c.slug: c for c in session.scalars(select(Category))}
    for i, entry in enumerate(reader.entries("categories")):
        where = f"categories[{i}]"
        slug = reader.get(entry, "id", str, where)
        values = {
            "name": reader.get(entry, "name", str, where),
            "mode": reader.get(entry, "mode", str, where, required=False, default="Text-to-Image"),
            "description": reader.get(entry, "description", str, where, required=False),
        }
        category = existing.get(slug)
        if category is None:
            existing[slug] = Category(slug=slug, **values)
            session.add(existing[slug])
            report.note("categories", "created")
        elif _assign(category, values):
            report.note("categories", "updated")
    session.flush()
    return existing


def _seed_competitions(
    session: Session,
    reader: _Reader,
    categories: dict[str, Category],
    models: dict[str, Model],
    report: SeedReport,
) -> None:
    existing = {c.slug: c for c in session.scalars(select(Competition))}
    active = [m for slug, m in sorted(models.items()) if m.status == "active"]
    for i, entry in enumerate(reader.entries("competitions")):
        where = f"competitions[{i}]"
        slug = reader.get(entry, "id", str, where)
        category_slug = reader.get(entry, "category", str, where)
        if category_slug not in categories:
            raise reader.fail(where, f"unknown category {category_slug!r} (see categories.yaml)")
        values = {
            "name": reader.get(entry, "name", str, where),
            "category": categories[category_slug],
            "status": reader.choice(entry, "status", COMPETITION_STATUSES, where, "draft"),
            "description": reader.get(entry, "description", str, where, required=False),
        }
        wanted_models = entry.get("models", "all")
        if wanted_models == "all":
            entered = active
        elif isinstance(wanted_models, list) and all(isinstance(m, str) for m in wanted_models):
            unknown = sorted(set(wanted_models) - set(models))
            if unknown:
                raise reader.fail(where, f"unknown model ids: {', '.join(unknown)}")
            entered = sorted((models[m] for m in set(wanted_models)), key=lambda m: m.slug)
        else:
            raise reader.fail(where, "'models' must be `all` or a list of model ids")
        if len(entered) < 2:
            raise reader.fail(where, "a competition needs at least two models")

        competition = existing.get(slug)
        if competition is None:
            competition = Competition(slug=slug, **values)
            session.add(competition)
            report.note("competitions", "created")
        elif _assign(competition, values):
            report.note("competitions", "updated")
        if [m.id for m in competition.models] != [m.id for m in entered]:
            _check_withdrawals(session, reader, where, competition, entered)
            competition.models = list(entered)
            report.note("competition entries", "updated")
        _seed_prompts(session, reader, where, competition, entry, report)
    session.flush()


def _check_withdrawals(
    session: Session, reader: _Reader, where: str, competition: Competition, entered: list[Model]
) -> None:
    if competition.id is None:
        return
    withdrawn = {m.id for m in competition.models} - {m.id for m in entered}
    if not withdrawn:
        return
    voted = models_shown(session, competition.id) & withdrawn
    if voted:
        raise reader.fail(
            where, "cannot withdraw models that already have battles in this competition"
        )


def _seed_prompts(
    session: Session,
    reader: _Reader,
    where: str,
    competition: Competition,
    entry: dict[str, Any],
    report: SeedReport,
) -> None:
    prompt_entries = entry.get("prompts")
    if not isinstance(prompt_entries, list) or not prompt_entries:
        raise reader.fail(where, "'prompts' must be a non-empty list")
    current = {p.key: p for p in competition.prompts}
    seen: set[str] = set()
    for position, prompt_entry in enumerate(prompt_entries):
        pwhere = f"{where}.prompts[{position}]"
        if not isinstance(prompt_entry, dict):
            raise reader.fail(pwhere, "expected a mapping")
        key = reader.get(prompt_entry, "key", str, pwhere)
        if key in seen:
            raise reader.fail(pwhere, f"prompt key {key!r} appears twice")
        seen.add(key)
        try:
            width, height = parse_size(reader.get(prompt_entry, "size", str, pwhere))
        except ValueError as exc:
            raise reader.fail(pwhere, str(exc)) from None
        values = {
            "text": reader.get(prompt_entry, "text", str, pwhere),
            "negative_prompt": reader.get(
                prompt_entry, "negative_prompt", str, pwhere, required=False
            ),
            "seed": reader.get(prompt_entry, "seed", int, pwhere, required=False),
            "width": width,
            "height": height,
            "position": position,
        }
        prompt = current.pop(key, None)
        if values["seed"] is None:  # none in the file: a private seed, drawn once and kept
            values["seed"] = prompt.seed if prompt else secrets.randbelow(2**32)
        if prompt is None:
            competition.prompts.append(Prompt(key=key, **values))
            report.note("prompts", "created")
            continue
        inputs_changed = any(getattr(prompt, name) != values[name] for name in PROMPT_INPUTS)
        if inputs_changed:
            _require_no_battles(session, reader, pwhere, prompt, "change its inputs")
            # The old outputs no longer match the prompt: drop them so generate remakes them.
            deleted = session.execute(delete(Output).where(Output.prompt_id == prompt.id))
            report.note("outputs", "deleted", deleted.rowcount or 0)
        if _assign(prompt, values):
            report.note("prompts", "updated")
    for prompt in current.values():
        _require_no_battles(session, reader, where, prompt, f"remove prompt {prompt.key!r}")
        competition.prompts.remove(prompt)
        report.note("prompts", "deleted")


def _require_no_battles(
    session: Session, reader: _Reader, where: str, prompt: Prompt, action: str
) -> None:
    battles = session.scalar(
        select(func.count()).select_from(Battle).where(Battle.prompt_id == prompt.id)
    )
    if battles:
        raise reader.fail(
            where,
            f"cannot {action}: it already has {battles} battles; add a new prompt key instead",
        )
