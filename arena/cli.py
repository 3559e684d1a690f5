"""The ``arena`` command group (a Flask CLI group; ``flask --app arena`` works too)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from arena.errors import ArenaError
from arena.web.db import get_db, get_session


def _fail(error: ArenaError) -> None:
    raise click.ClickException(error.message)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (Alembic `upgrade head`)."""
    from arena import schema

    schema.upgrade(get_db().engine, revision)
    click.echo(f"Database at {revision}: {get_db().url.render_as_string(hide_password=True)}")


@click.command("seed")
@click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Seed folder (default: the repository's seeds/).",
)
@with_appcontext
def seed(path: Path | None) -> None:
    """Load the seed files (models, offerings, categories, competitions, prompts).

    Idempotent: a second run changes nothing; an edited file updates its rows.
    """
    from arena.services.seeding import load_seeds

    try:
        report = load_seeds(get_session(), path or Path(current_app.config["SEEDS_DIR"]))
    except ArenaError as exc:
        _fail(exc)
    click.echo(report.summary())


@click.command("generate")
@click.argument("slugs", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every competition.")
@click.option("--provider", help="Use only this provider (e.g. builtin).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Concurrent renders (default: ARENA_GENERATION_WORKERS or the CPU count).",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Retries per output, with exponential backoff.",
)
@click.option(
    "--first-prompts",
    type=click.IntRange(1),
    help="Only each competition's first N prompts (make the rest later, e.g. in the background).",
)
@with_appcontext
def generate(
    slugs: tuple[str, ...],
    all_: bool,
    provider: str | None,
    workers: int | None,
    retries: int,
    first_prompts: int | None,
) -> None:
    """Make the missing matched outputs of the named competitions (or --all).

    Every model of a competition gets every prompt with the same text, negative prompt,
    seed and size. Failures are recorded and retried on the next run. ``make run`` makes
    the first prompts of each competition with --first-prompts and the rest in the
    background while the arena serves.
    """
    from arena.services import generation

    session = get_session()
    config = current_app.config
    try:
        competitions = generation.select_competitions(session, slugs, all_)
        plan = generation.plan_jobs(session, competitions, config, provider, first_prompts)
    except ArenaError as exc:
        _fail(exc)
    jobs = plan.jobs
    if plan.unserved:
        click.echo(
            f"Skipped (not offered by {provider}): {', '.join(sorted(plan.unserved))}", err=True
        )
    if not jobs:
        click.echo(generation.GenerationReport().summary())
        return
    with click.progressbar(
        length=len(jobs),
        label=f"Generating {len(jobs)} outputs",
        show_pos=True,
        show_eta=True,
        file=sys.stderr,
    ) as bar:
        report = generation.run_jobs(
            session,
            jobs,
            config,
            workers=workers or config["GENERATION_WORKERS"],
            retries=retries,
            backoff_s=config.get("GENERATION_BACKOFF_S", 0.5),
            progress=bar.update,
        )
    for line in report.errors[:20]:
        click.echo(f"failed: {line}", err=True)
    if len(report.errors) > 20:
        click.echo(f"... and {len(report.errors) - 20} more failures", err=True)
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"competitions": [...]}.')
@with_appcontext
def status(as_json: bool) -> None:
    """Per competition: prompts, models, outputs done/failed/missing and votes."""
    from arena.services.status import competition_status

    rows = competition_status(get_session())
    if as_json:
        click.echo(json.dumps({"competitions": rows}, indent=2))
        return
    headers = [
        "slug",
        "name",
        "category",
        "status",
        "prompts",
        "models",
        "outputs_done",
        "outputs_failed",
        "outputs_missing",
        "votes",
    ]
    table = [headers] + [[str(row[h]) for h in headers] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


@click.command("verify")
@with_appcontext
def verify() -> None:
    """Replay the vote log in order and compare every stored Elo and record.

    Prints each mismatch and exits 1 if there is any.
    """
    from arena.services.verification import verify as run_verify

    mismatches, votes = run_verify(get_session(), current_app.config["ELO_K"])
    for mismatch in mismatches:
        click.echo(f"mismatch: {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatches after replaying {votes} votes.", err=True)
        sys.exit(1)
    click.echo(f"OK: {votes} votes replayed; every stored Elo and record agrees.")


@click.command("recompute")
@click.option(
    "--bootstrap",
    "rounds",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap rounds for the 95% intervals.",
)
@click.option("--seed", type=int, help="Seed for a reproducible bootstrap.")
@click.option(
    "--ties",
    type=click.Choice(["decisive", "davidson", "half"]),
    default="decisive",
    show_default=True,
    help="Tie model: decisive (published: ratings from decisive votes, ties a separate "
    "outcome), davidson, or half (a tie is half a win, as FastChat).",
)
@with_appcontext
def recompute(rounds: int, seed: int | None, ties: str) -> None:
    """Publish a leaderboard snapshot (Bradley-Terry + bootstrap CIs) for every scope."""
    from arena.services.leaderboards.publishing import publish_snapshots
    from arena.services.leaderboards.weights import WeightRules

    started = time.perf_counter()
    published = publish_snapshots(
        get_session(),
        rounds=rounds,
        seed=seed,
        min_battles=current_app.config["MIN_BATTLES"],
        k=current_app.config["ELO_K"],
        ties=ties,
        rules=WeightRules.from_config(current_app.config),
        progress=lambda key: click.echo(f"  published {key}", err=True),
    )
    for p in published:
        click.echo(
            f"{p.scope}: snapshot {p.snapshot_id}, {p.votes} votes, {p.models} models, "
            f"{p.seconds:.2f} s"
        )
    if not published:
        click.echo("No votes yet: nothing to publish.")
    else:
        elapsed = time.perf_counter() - started
        click.echo(f"Published {len(published)} snapshots in {elapsed:.2f} s.")


@click.command("publish-loop")
@click.option(
    "--once",
    is_flag=True,
    help="One cycle: publish now if any board is stale (and the lease is free), then exit.",
)
@with_appcontext
def publish_loop(once: bool) -> None:
    """Publish snapshots in the foreground whenever the boards are stale enough.

    The loop web workers run in the background (ARENA_AUTOPUBLISH), for deployments that
    prefer a process of their own: it publishes after ARENA_PUBLISH_AFTER_VOTES new counted
    votes or before a board is ARENA_PUBLISH_MAX_STALE seconds stale, with
    ARENA_PUBLISH_BOOTSTRAP rounds, and only while it holds the publisher lease (one
    publisher at a time across processes and machines). SIGINT or SIGTERM stops it after
    the current cycle, releasing the lease.
    """
    import logging
    import signal
    import threading

    from arena.services.leaderboards.autopublish import Publisher, PublishSettings

    settings = PublishSettings.from_config(current_app.config)
    publisher = Publisher(get_db(), settings)
    if once:
        try:
            cycle = publisher.run_once(when_stale=True)
        finally:
            publisher.lease.release()
        click.echo(cycle.summary())
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(
        f"Publishing as {publisher.lease.holder}: after {settings.after_votes} new counted "
        f"votes or before a board is {settings.max_stale:g} s stale, checking every "
        f"{settings.poll:g} s; Ctrl-C stops.",
        err=True,
    )
    publisher.run_forever(stop)
    click.echo("Stopped; the publisher lease is released.", err=True)


@click.command("serve")
@click.option("--host", help="Interface to bind (default: ARENA_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: ARENA_PORT or 5000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: 2 * (os.cpu_count() or 1) + 1,
    show_default="2 x CPUs + 1",
    help="gunicorn worker processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 1024),
    default=32,
    show_default=True,
    help="Request threads per gthread worker; a slow client holds one while it sends.",
)
@click.option(
    "--worker-class",
    type=click.Choice(["gthread", "sync"]),
    default="gthread",
    show_default=True,
    help="sync: a request per process, only behind a buffering proxy.",
)
@click.option("--debug", is_flag=True, help="Flask's development server with the reloader.")
@with_appcontext
def serve(
    host: str | None, port: int | None, workers: int, threads: int, worker_class: str, debug: bool
) -> None:
    """Serve the web app under gunicorn (or Flask's reloader with --debug)."""
    config = current_app.config
    host = host or config["HOST"]
    port = port or config["PORT"]
    if debug:
        # Not app.run: under a Flask CLI group it declines to serve (FLASK_RUN_FROM_CLI).
        from werkzeug.serving import run_simple

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        app.debug = True
        run_simple(host, port, app, use_reloader=True, use_debugger=True, threaded=True)
        return
    from arena.gunicorn_conf import command_line  # gunicorn's argv and hooks, /metrics folder

    click.echo(f"Arena on http://{host}:{port}/ ({workers} gunicorn {worker_class} workers)")
    argv = command_line(host, port, workers, threads, worker_class)
    os.execvp(argv[0], argv)


@click.group("api-key")
def api_key_group() -> None:
    """API keys for the OpenAI-compatible image endpoint."""


@api_key_group.command("create")
@click.argument("name")
@with_appcontext
def api_key_create(name: str) -> None:
    """Create a key called NAME and print it (once: only its hash is stored)."""
    from arena.services.api_keys import create_key

    try:
        key = create_key(get_session(), name)
    except ArenaError as exc:
        _fail(exc)
    click.echo(key)
    click.echo(f"Created API key {name!r}. Store it now: it cannot be shown again.", err=True)


@api_key_group.command("revoke")
@click.argument("name")
@with_appcontext
def api_key_revoke(name: str) -> None:
    """Revoke the key called NAME; requests with it get 401 from now on."""
    from arena.services.api_keys import revoke_key

    try:
        revoke_key(get_session(), name)
    except ArenaError as exc:
        _fail(exc)
    click.echo(f"Revoked API key {name!r}.")


def register_cli(app: Flask) -> None:
    """Attach the arena commands to the app's CLI (used by both `arena` and `flask`)."""
    from arena.cli_data import export, import_votes

    for command in (
        db_group,
        seed,
        generate,
        status,
        verify,
        recompute,
        publish_loop,
        export,
        serve,
        import_votes,
        api_key_group,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from arena import create_app

    return create_app()


class _ArenaGroup(FlaskGroup):
    """FlaskGroup that turns a missing schema into advice instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            text = str(exc.orig).lower()
            if "no such table" in text or "does not exist" in text:
                raise click.ClickException(
                    f"the database has no Arena schema yet ({exc.orig}); run `arena db upgrade`"
                ) from None
            raise


@click.group(
    cls=_ArenaGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Arena: an open, self-hostable Elo arena for text-to-image models."""
