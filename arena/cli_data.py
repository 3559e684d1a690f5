"""The data commands of the `arena` CLI: `arena export` (votes, leaderboards, static dumps,
streamed) and `arena import-votes` (a public arena dump, all or nothing). Registered by
``arena.cli.register_cli``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from arena.errors import ArenaError
from arena.web.db import get_db, get_session


def _fail(error: ArenaError) -> None:
    raise click.ClickException(error.message)


#: Seconds between progress lines of long exports (on standard error).
EXPORT_PROGRESS_EVERY = 5.0


@click.command("export")
@click.argument("what", type=click.Choice(["votes", "leaderboard", "dump"]))
@click.option(
    "--scope",
    default="overall",
    show_default=True,
    help="Leaderboard scope: overall, category:<slug> or competition:<slug>.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "jsonl"]),
    default="csv",
    show_default=True,
    help="jsonl (JSON Lines, one vote per line): votes only.",
)
@click.option("--after", type=click.IntRange(min=0), default=0, help="Votes after this vote id.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many votes.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (atomically: a temporary file renamed at the end) instead of stdout.",
)
@click.option(
    "--if-older-than",
    type=click.FloatRange(min=0),
    help="dump: only if the last dump is older than this many seconds (for cron).",
)
@with_appcontext
def export(
    what: str,
    scope: str,
    fmt: str,
    after: int,
    limit: int | None,
    output: Path | None,
    if_older_than: float | None,
) -> None:
    """Export the vote log or a leaderboard as CSV or JSON, or write the static dump.

    \b
    votes        the counted votes, streamed as they are read (memory does not grow with
                 the log); --after/--limit for a slice
    leaderboard  one scope's board (--scope)
    dump         the vote log and every board as gzip CSV and JSON Lines into
                 <ARENA_MEDIA_DIR>/dumps, served by GET /api/v1/dumps/<name>
    """
    from arena.services import dumps, exports
    from arena.services.leaderboards.boards import board, board_frame

    config = current_app.config
    if what == "dump":
        if output is not None:
            raise click.UsageError("dump writes into <ARENA_MEDIA_DIR>/dumps; no --output")
        folder = dumps.dump_folder(config["MEDIA_DIR"])
        progress = _export_progress()
        try:
            if if_older_than is not None:
                secret = config["SECRET_KEY"]
                dump = dumps.refresh_if_due(get_db(), folder, secret, max_age=if_older_than)
                if dump is None:
                    click.echo(f"The dump in {folder} is recent enough: nothing written.")
                    return
            else:
                dump = dumps.write_dump(get_db(), folder, config["SECRET_KEY"], progress=progress)
        except dumps.DumpBusy as exc:
            raise click.ClickException(str(exc)) from None
        sizes = ", ".join(f"{f.name} {f.bytes:,} B" for f in dump.files)
        click.echo(f"Dumped {dump.votes} votes in {dump.seconds:.1f} s into {folder}: {sizes}")
        return
    if what == "votes":
        db = get_db()
        page = exports.plan_page(get_session(), after=after, limit=limit)
        progress = _export_progress()

        done = [0]

        def counted(batches: Iterable[list[exports.VoteRow]]) -> Iterator[list[exports.VoteRow]]:
            for rows in batches:
                done[0] += len(rows)
                progress(done[0])
                yield rows

        batches = counted(exports.page_batches(db.session, config["SECRET_KEY"], page))
        if fmt == "csv":
            chunks = exports.csv_chunks(batches)
        elif fmt == "json":
            chunks = exports.json_chunks(batches, next_after=page.next_after)
        else:
            chunks = (exports.jsonl_text(rows) for rows in batches)
        _write_chunks(chunks, output, tail="\n" if fmt == "json" else "")
        if output is not None:
            click.echo(f"Wrote {done[0]} votes to {output}", err=True)
        return
    if fmt == "jsonl":
        raise click.UsageError("--format jsonl is for votes")
    try:
        b = board(get_session(), scope)
    except ArenaError as exc:
        _fail(exc)
    if fmt == "json":
        text = json.dumps(exports.leaderboard_document(b), indent=2) + "\n"
    else:
        text = exports.frame_to_csv(board_frame(b))
    _write_chunks(iter([text]), output)
    if output is not None:
        click.echo(f"Wrote {len(b.rows)} rows to {output}", err=True)


def _export_progress() -> Callable[[int], None]:
    """A callback for long exports: ``N votes, R/s`` on stderr every few seconds."""
    started = last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= EXPORT_PROGRESS_EVERY:
            last = now
            click.echo(f"{done:,} votes ({done / (now - started):,.0f}/s)…", err=True)

    return report


def _write_chunks(chunks: Iterator[str], output: Path | None, tail: str = "") -> None:
    """Write text chunks to stdout as they come, or to ``output`` through a temporary file
    renamed at the end (an interrupted export leaves no half file behind)."""
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        click.echo(tail, nl=False)
        return
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as out:
            for chunk in chunks:
                out.write(chunk)
            out.write(tail)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


@click.command("import-votes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--competition",
    metavar="SLUG",
    help="Competition of every vote (default: each row's competition column).",
)
@with_appcontext
def import_votes(file: Path, competition: str | None) -> None:
    """Import battles from a public arena dump (CSV, JSON or JSON Lines), all or nothing.

    Columns: model_a, model_b (model slug or name), winner (model_a, model_b, tie or
    tie (bothbad)); optional tstamp or timestamp (unix seconds or ISO 8601), prompt (key or
    text) and competition (slug). Every row is checked first: any problem is reported, with
    row numbers, and nothing is written. The votes are then appended in file order and every
    Elo and record updated as if they had been cast live.
    """
    import time
    from dataclasses import replace

    from arena.services.imports.apply import apply_votes
    from arena.services.imports.read import read_votes
    from arena.services.imports.validate import validate_votes

    started = time.perf_counter()
    db = get_db()
    try:
        votes = validate_votes(db, read_votes(file), competition=competition)
        with click.progressbar(
            length=votes.rows,
            label=f"Importing {votes.rows} votes",
            show_pos=True,
            show_eta=True,
            file=sys.stderr,
        ) as bar:
            report = apply_votes(db, votes, k=current_app.config["ELO_K"], progress=bar.update)
    except ArenaError as exc:
        _fail(exc)
    # The time from reading the file to the commit, not just the writing.
    click.echo(replace(report, elapsed_s=time.perf_counter() - started).summary())
