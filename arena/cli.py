"""The ``arena`` command group (a Flask CLI group; ``flask --app arena`` works too)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from arena.db import get_db, get_session
from arena.errors import ArenaError


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
@with_appcontext
def generate(
    slugs: tuple[str, ...], all_: bool, provider: str | None, workers: int | None, retries: int
) -> None:
    """Make the missing matched outputs of the named competitions (or --all).

    Every model of a competition gets every prompt with the same text, negative prompt,
    seed and size. Failures are recorded and retried on the next run.
    """
    from arena.services import generation

    session = get_session()
    config = current_app.config
    try:
        competitions = generation.select_competitions(session, slugs, all_)
        plan = generation.plan_jobs(session, competitions, config, provider)
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
@click.option("--debug", is_flag=True, help="Flask's development server with the reloader.")
@with_appcontext
def serve(host: str | None, port: int | None, workers: int, debug: bool) -> None:
    """Serve the web app under gunicorn (or Flask's reloader with --debug)."""
    config = current_app.config
    host = host or config["HOST"]
    port = port or config["PORT"]
    if debug:
        current_app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    click.echo(f"Arena on http://{host}:{port}/ ({workers} gunicorn workers)")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{host}:{port}",
            "--access-logfile",
            "-",
            "arena.wsgi:app",
        ],
    )


def register_cli(app: Flask) -> None:
    """Attach the arena commands to the app's CLI (used by both `arena` and `flask`)."""
    for command in (db_group, seed, generate, status, verify, serve):
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
