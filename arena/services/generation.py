"""Make the missing matched outputs of competitions: every model x every prompt, same inputs.

Rendering runs concurrently in worker threads; only the calling thread touches the database,
so a SQLite database sees one writer, and finished images are committed as they land, in
small batches (an interrupted run keeps what it made; the next run does only what is missing).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from arena.errors import NotFound, ValidationError
from arena.generation import registry, router
from arena.generation.base import ImageRequest, ProviderError
from arena.generation.router import Route, Routed
from arena.media import StorageFull, new_image_name, write_image
from arena.models import Competition, Model, Output, Prompt, ProviderOffering, utcnow

#: Finished outputs are committed in batches at most this far apart, so an interrupted run
#: loses at most this much work and a fast renderer is not throttled by per-row commits.
COMMIT_EVERY_S = 0.5


@dataclass(frozen=True)
class Job:
    """One output to make: which prompt and model, with the inputs and routes decided."""

    prompt_id: int
    model_id: int
    request: ImageRequest
    routes: tuple[Route, ...]


@dataclass
class GenerationReport:
    """Counts of a run and the errors of the outputs that failed."""

    planned: int = 0
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.planned:
            return "Nothing to generate: every output is already done."
        text = f"Generated {self.done} of {self.planned} outputs"
        return text + (f"; {self.failed} failed (rerun to retry)." if self.failed else ".")


def select_competitions(session: Session, slugs: Sequence[str], all_: bool) -> list[Competition]:
    """The competitions named by ``slugs``, or every competition with ``all_``.

    Raises:
        ValidationError: neither slugs nor ``all_`` given.
        NotFound: a slug names no competition.
    """
    if not slugs and not all_:
        raise ValidationError("name one or more competitions, or pass --all")
    query = select(Competition).order_by(Competition.id)
    if not all_:
        query = query.where(Competition.slug.in_(slugs))
    competitions = list(session.scalars(query))
    missing = sorted(set(slugs) - {c.slug for c in competitions})
    if missing:
        raise NotFound(f"no competition with slug: {', '.join(missing)}", field="slug")
    return competitions


@dataclass
class Plan:
    """The jobs to run, and the models skipped because the chosen provider cannot serve them."""

    jobs: list[Job] = field(default_factory=list)
    unserved: set[str] = field(default_factory=set)


def plan_jobs(
    session: Session,
    competitions: Iterable[Competition],
    config: Mapping[str, Any],
    provider: str | None = None,
    first_prompts: int | None = None,
) -> Plan:
    """Jobs for every (prompt, model) of the competitions whose output is missing or failed.

    With ``provider``, only that provider is used, and models it does not offer are left
    out (listed in ``Plan.unserved``); ``builtin`` serves every model. With
    ``first_prompts``, only each competition's first prompts (by position) are planned: a
    competition is playable with those while the rest are made later.

    Raises:
        ValidationError: ``provider`` names no registered provider.
    """
    if provider is not None and provider not in registry.provider_names():
        raise ValidationError(
            f"unknown provider {provider!r}; known: {', '.join(registry.provider_names())}",
            field="provider",
        )
    done = set(
        session.execute(
            select(Output.prompt_id, Output.model_id).where(Output.status == "done")
        ).all()
    )
    plan = Plan()
    route_cache: dict[tuple[int, int, int], tuple[Route, ...]] = {}
    for competition in competitions:
        models = session.scalars(
            select(Model)
            .where(Model.id.in_([m.id for m in competition.models]))
            .options(selectinload(Model.offerings).selectinload(ProviderOffering.provider))
            .order_by(Model.slug)
        ).all()
        for prompt in competition.prompts[:first_prompts]:
            for model in models:
                if (prompt.id, model.id) in done:
                    continue
                key = (model.id, prompt.width, prompt.height)
                if key not in route_cache:
                    offerings = [
                        Route(
                            provider=o.provider.slug,
                            provider_model_id=o.provider_model_id,
                            offering_id=o.id,
                            pricing_unit=o.pricing_unit,
                            price_usd=o.price_usd,
                        )
                        for o in model.offerings
                    ]
                    route_cache[key] = tuple(
                        router.plan_routes(
                            model.slug,
                            offerings,
                            config,
                            width=prompt.width,
                            height=prompt.height,
                            only=provider,
                        )
                    )
                if not route_cache[key]:
                    plan.unserved.add(model.slug)
                    continue
                plan.jobs.append(
                    Job(
                        prompt_id=prompt.id,
                        model_id=model.id,
                        request=_request(prompt, model.slug),
                        routes=route_cache[key],
                    )
                )
    return plan


def _request(prompt: Prompt, model_slug: str) -> ImageRequest:
    return ImageRequest(
        model_id=model_slug,
        provider_model_id=model_slug,
        prompt=prompt.text,
        negative_prompt=prompt.negative_prompt,
        seed=prompt.seed,
        width=prompt.width,
        height=prompt.height,
    )


def run_jobs(
    session: Session,
    jobs: Sequence[Job],
    config: Mapping[str, Any],
    *,
    workers: int = 2,
    retries: int = 2,
    backoff_s: float = 0.5,
    progress: Callable[[int], None] | None = None,
) -> GenerationReport:
    """Make the jobs' images concurrently, store them, and record every outcome.

    Each output row records the provider that made it, the offering, latency, cost,
    attempts, status and error. Failed jobs are retried with backoff inside the run (see
    ``router.generate``); an output still failing is recorded as ``failed`` and retried by
    the next run. When the media folder's disk is full, the output is recorded as failed
    (never ``done`` without its file), the jobs not yet started are cancelled and counted as
    failed (they stay missing: the next run plans them), and the rest are still recorded.

    Args:
        session: committed as outputs finish (in batches, see ``COMMIT_EVERY_S``).
        progress: called with 1 as each job finishes (drives the CLI progress bar).
    """
    report = GenerationReport(planned=len(jobs))
    if not jobs:
        return report
    media_dir = Path(config["MEDIA_DIR"])
    existing = {
        (o.prompt_id, o.model_id): o
        for o in session.scalars(
            select(Output).where(Output.prompt_id.in_({j.prompt_id for j in jobs}))
        )
    }

    def work(job: Job) -> Routed:
        return router.generate(
            job.request, job.routes, config, retries=retries, backoff_s=backoff_s
        )

    last_commit = time.monotonic()
    full: StorageFull | None = None
    not_started = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures: dict[Future[Routed], Job] = {pool.submit(work, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            if future.cancelled():
                not_started += 1
                if progress is not None:
                    progress(1)
                continue
            output = existing.get((job.prompt_id, job.model_id))
            if output is None:
                output = Output(prompt_id=job.prompt_id, model_id=job.model_id, attempts=0)
                session.add(output)
            try:
                routed = future.result()
            except ProviderError as exc:
                output.status = "failed"
                output.error = str(exc)
                output.attempts += exc.attempts
                output.updated_at = utcnow()
                report.failed += 1
                report.errors.append(f"{job.request.model_id} / prompt {job.prompt_id}: {exc}")
            else:
                try:
                    _store(output, routed, media_dir)
                except StorageFull as exc:
                    output.status = "failed"
                    output.error = str(exc)
                    output.attempts += routed.attempts
                    output.updated_at = utcnow()
                    report.failed += 1
                    report.errors.append(f"{job.request.model_id} / prompt {job.prompt_id}: {exc}")
                    if full is None:  # stop rendering (and paying for) images nowhere to go
                        full = exc
                        for other in futures:
                            other.cancel()
                else:
                    report.done += 1
            if time.monotonic() - last_commit >= COMMIT_EVERY_S:
                session.commit()
                last_commit = time.monotonic()
            if progress is not None:
                progress(1)
    session.commit()
    if not_started:
        report.failed += not_started
        report.errors.append(f"{not_started} outputs not started: {full}")
    return report


def _store(output: Output, routed: Routed, media_dir: Path) -> None:
    result = routed.result
    name = new_image_name(result.format)
    write_image(media_dir, name, result.data)
    output.status = "done"
    output.provider = routed.route.provider
    output.offering_id = routed.route.offering_id
    output.image_name = name
    output.format = result.format
    output.width = result.width
    output.height = result.height
    output.bytes = len(result.data)
    output.sha256 = hashlib.sha256(result.data).hexdigest()
    output.latency_ms = routed.latency_ms
    output.cost_usd = routed.cost_usd
    output.attempts += routed.attempts
    output.error = None
    output.updated_at = utcnow()
