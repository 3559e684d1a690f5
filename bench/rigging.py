"""Rigging harness: honest traffic and four attacks from one address against a real server.

It makes a temporary database (SQLite, or PostgreSQL with ``--postgresql``), migrates and
seeds it with the repository's seeds, renders Fantasy Warrior's outputs with the builtin
provider (and, where the tree has them, fills the battle-image variant pools as the server's
worker would, on every core), and serves it with ``arena serve`` (gunicorn). Then:

1. **Honest traffic.** Simulated people with a known truth (ratings for the competition's
   models spread evenly over 400 Elo points, shuffled) vote by Bradley-Terry with 15% ties,
   10 to 40 votes each, each with its own cookie and address (``X-Forwarded-For``), a few
   seconds per vote, proving work when the server asks: ``--honest-votes`` votes in Fantasy
   Warrior first. That history is then moved two hours into the past (every timestamp in the
   database; rate-limit counts forgotten), as if those votes had come in before the attack:
   a real arena gathers them over hours, and any probation of new voters is over for them.
   One more honest vote makes the publisher publish; that board names the target, its
   middle model (#14 of 27). The database is saved there and restored before each attack,
   so the attacks are independent; honest traffic goes on during each (``--honest-rate``).
2. **Attacks**, all bot traffic from 127.0.0.1, a new cookie every ``--votes-per-cookie``
   votes while the address may make new voters (the ones it has once it may not), each vote
   sent just over the server's default minimum time after its battle:
   - ``target``: votes only when the target is shown, for it;
   - ``random``: for the target when shown, at random otherwise;
   - ``hash``: learns sha256(image) -> model and a 64-bit difference hash (dHash) -> model
     from the reveals of random votes, and checks what ``Content-Length`` (HEAD, GET) and
     first-fetch timing give away;
   - ``cycling``: new cookies and random votes as fast as the server lets one address.

   The ``target`` and ``random`` bots recognise their target perfectly (the bench tells them
   which side shows it): the worst case, whatever recognition costs (``hash`` measures that).
   When the target is not #1 by the end of an attack (``--max-votes``, ``--max-seconds``),
   the database is moved 15 minutes on (past any probation), then 65 (the battles it skipped
   have expired), the board republished and read again each time: where the attack stands
   once its voters may count, and who is flagged then.

Printed: votes and seconds of traffic to lift the target to #1 of the published board
(``GET /api/v1/leaderboards/competition:fantasy-warrior``) or how far it got, with the rates
measured and the time 4,000 votes would take at them; bot and honest voters flagged, read from
the database as the admin sees them (flagged, suspicious on the dashboard, or named by a
detector's finding); battles until the hash bot knows 90% of what it is shown; counted votes
per minute and new voters one address gets.

Settings that differ from the defaults, and why: ``ARENA_TRUSTED_PROXIES=1`` (so honest voters
can come from many addresses; the bot sends no ``X-Forwarded-For``) and
``ARENA_PUBLISH_MAX_STALE=5`` (boards follow the votes within seconds rather than a minute, so
the votes and time needed are not blurred by the board's lag); a temporary database, media
folder, rate-limit store and secret key.

Run from the repository root: ``.venv/bin/python bench/rigging.py`` (about 15 to 20 minutes on
two cores, a third of it rendering), or ``--quick`` (a few minutes: three prompts, small
images, fewer votes; for trying it out, not for figures).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import and_, bindparam, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import rigging_traffic as traffic  # noqa: E402

COMPETITION = "fantasy-warrior"
SCOPE = f"competition:{COMPETITION}"
ATTACKS = ("target", "random", "hash", "cycling")
#: Honest voters spend about this long per vote (think time and requests), for the rate.
HONEST_CYCLE = 2.7
#: The hash bot's window: the share of images recognised over this many latest battles.
WINDOW = 25
#: The honest history is moved this far into the past before the attacks (as if its votes
#: had come in before them).
HISTORY_AGE = dt.timedelta(hours=2)
#: Once an attack ends, the board is read again this long after it (cumulative): once new
#: voters' probation is over, and once the battles it skipped have expired (an hour's TTL).
AFTER_WAITS = (dt.timedelta(minutes=15), dt.timedelta(minutes=65))
SERVER_ENV = {
    "ARENA_TRUSTED_PROXIES": "1",
    "ARENA_PUBLISH_MAX_STALE": "5",
}


# --- the database, saved after the honest phase and restored before each attack ---------------


class Store:
    """A temporary database and media folder, with a saved copy to restore."""

    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self.folder = folder
        self.media = folder / "media"
        self.saved_media = folder / "media-saved"
        self.limits = folder / "ratelimits.db"
        self.postgres_url = postgres_url
        if postgres_url:
            self.admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
            self.name = f"arena_rigging_{secrets.token_hex(4)}"
            self.saved_name = f"{self.name}_saved"
            self._sql(f'CREATE DATABASE "{self.name}"')
            self.url = (
                make_url(postgres_url).set(database=self.name).render_as_string(hide_password=False)
            )
        else:
            self.path = folder / "rigging.db"
            self.saved_path = folder / "rigging-saved.db"
            self.url = f"sqlite:///{self.path}"

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres_url else "sqlite"

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def save(self) -> None:
        """Keep a copy of the database and media as they are now (the server stopped)."""
        if self.postgres_url:
            self._sql(f'CREATE DATABASE "{self.saved_name}" TEMPLATE "{self.name}"')
        else:
            with sqlite3.connect(self.path) as source, sqlite3.connect(self.saved_path) as copy:
                source.backup(copy)
        shutil.copytree(self.media, self.saved_media, copy_function=os.link)

    def restore(self) -> None:
        """Put the saved copy back (the server stopped)."""
        if self.postgres_url:
            self._sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._sql(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.saved_name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            with sqlite3.connect(self.saved_path) as source, sqlite3.connect(self.path) as copy:
                source.backup(copy)
        shutil.rmtree(self.media)
        shutil.copytree(self.saved_media, self.media, copy_function=os.link)
        self.clear_limits()

    def clear_limits(self) -> None:
        """Forget every rate-limit count (the shared store of the server's workers)."""
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{self.limits}{suffix}").unlink(missing_ok=True)

    def drop(self) -> None:
        if self.postgres_url:
            for name in (self.name, self.saved_name):
                self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin.dispose()


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``arena serve`` (gunicorn) on a free port, in its own process group."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env = env
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        self.port = _free_port()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [_arena(), "serve", "--workers", str(self.workers), "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        for _ in range(300):
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{tail}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start listening within 30 s")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def _arena() -> str:
    return str(Path(sys.executable).parent / "arena")


def _run_arena(env: dict[str, str], *args: str) -> None:
    subprocess.run([_arena(), *args], env=env, check=True, capture_output=True)


def _seeds(folder: Path, prompts: int | None, size: str | None) -> Path:
    """The repository's seeds, Fantasy Warrior cut to ``prompts`` prompts and resized if asked."""
    target = folder / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    if prompts is None and size is None:
        return target
    path = target / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    for competition in data["competitions"]:
        if competition["id"] == COMPETITION and prompts is not None:
            competition["prompts"] = competition["prompts"][:prompts]
        for prompt in competition["prompts"]:
            prompt["size"] = size or prompt["size"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return target


# --- reading the database (the bench owns it) ---------------------------------------------------


def _engine(url: str) -> Any:
    return create_engine(url)


def pool_size(url: str) -> tuple[int, int, int]:
    """(finished outputs, prompts, models) of the competition."""
    from arena.models import Competition, CompetitionModel, Output, Prompt

    engine = _engine(url)
    with engine.connect() as conn:
        competition = conn.execute(
            select(Competition.id).where(Competition.slug == COMPETITION)
        ).scalar_one()
        outputs = conn.execute(
            select(func.count())
            .select_from(Output)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .where(Prompt.competition_id == competition, Output.status == "done")
        ).scalar_one()
        prompts = conn.execute(
            select(func.count()).where(Prompt.competition_id == competition)
        ).scalar_one()
        models = conn.execute(
            select(func.count()).where(CompetitionModel.competition_id == competition)
        ).scalar_one()
    engine.dispose()
    return outputs, prompts, models


def competition_models(url: str) -> list[str]:
    from arena.models import Competition, CompetitionModel, Model

    engine = _engine(url)
    with engine.connect() as conn:
        slugs = conn.execute(
            select(Model.slug)
            .join(CompetitionModel, CompetitionModel.model_id == Model.id)
            .join(Competition, Competition.id == CompetitionModel.competition_id)
            .where(Competition.slug == COMPETITION)
            .order_by(Model.slug)
        ).scalars()
        result = list(slugs)
    engine.dispose()
    return result


def published_through(url: str) -> int:
    """The last vote id the competition's latest snapshot includes (0: none yet)."""
    from arena.models import Scope, Snapshot

    engine = _engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            select(func.max(Snapshot.last_vote_id))
            .join(Scope, Scope.id == Snapshot.scope_id)
            .where(Scope.key == SCOPE)
        ).scalar()
    engine.dispose()
    return int(value or 0)


def snapshot_last_vote(url: str, snapshot_id: int) -> int:
    from arena.models import Snapshot

    engine = _engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            select(Snapshot.last_vote_id).where(Snapshot.id == snapshot_id)
        ).scalar()
    engine.dispose()
    return int(value or 0)


def counted_among(url: str, vote_ids: list[int]) -> int:
    """How many of these votes count now (the server's own rule)."""
    from arena.models import Vote
    from arena.services.counting import counted_votes

    engine = _engine(url)
    total = 0
    with engine.connect() as conn:
        for start in range(0, len(vote_ids), 900):
            chunk = vote_ids[start : start + 900]
            total += conn.execute(
                select(func.count()).where(Vote.id.in_(chunk), counted_votes())
            ).scalar_one()
    engine.dispose()
    return total


def _tables(conn: Any) -> dict[str, set[str]]:
    """The database's tables and their columns (the tree's models may be ahead of it)."""
    found = inspect(conn)
    return {name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()}


def flagged_voters(url: str) -> dict[int, str]:
    """Voters the admin sees as flagged, suspicious or named by a finding (id -> why)."""
    from arena.models import Voter
    from arena.services import integrity

    engine = _engine(url)
    result: dict[int, str] = {}
    with OrmSession(engine) as session:
        for voter_id, reason in session.execute(
            select(Voter.id, Voter.flag_reason).where(Voter.flagged.is_(True))
        ):
            result[voter_id] = f"flagged ({(reason or '').split(':')[0]})"
        rows = session.execute(select(Voter.public_id, Voter.id))
        ids = {public: voter for public, voter in rows}
        for signal in integrity.voter_signals(session, suspicious_only=True, limit=10**7):
            voter_id = ids[signal.public_id]
            result.setdefault(voter_id, "suspicious (dashboard)")
        if "findings" in _tables(session.connection()):
            for detector, voter_id in session.execute(
                text("SELECT detector, voter_id FROM findings WHERE voter_id IS NOT NULL")
            ):
                result.setdefault(voter_id, f"finding ({detector})")
    engine.dispose()
    return result


def findings_about(url: str, voters: set[int]) -> dict[str, int]:
    """The findings of the latest publication that name one of ``voters`` or their addresses
    or networks, per detector."""
    engine = _engine(url)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        tables = _tables(conn)
        if "findings" not in tables or "address_hash" not in tables["voters"]:
            engine.dispose()
            return counts
        places: set[str] = set()
        ids = sorted(voters)
        for start in range(0, len(ids), 900):
            chunk = ",".join(str(v) for v in ids[start : start + 900])
            for address, network in conn.execute(
                text(f"SELECT address_hash, network_hash FROM voters WHERE id IN ({chunk})")
            ):
                places.update(h for h in (address, network) if h)
        for detector, voter_id, address, network in conn.execute(
            text("SELECT detector, voter_id, address_hash, network_hash FROM findings")
        ):
            if voter_id in voters or address in places or network in places:
                counts[detector] = counts.get(detector, 0) + 1
    engine.dispose()
    return counts


def fit_weights(url: str) -> dict[str, Any] | None:
    """What the latest snapshot of the competition fitted (its audit's ``weights``), if any."""
    from arena.models import Scope, Snapshot

    engine = _engine(url)
    with engine.connect() as conn:
        if "audit" not in _tables(conn)["snapshots"]:
            engine.dispose()
            return None
        audit = conn.execute(
            select(Snapshot.audit)
            .join(Scope, Scope.id == Snapshot.scope_id)
            .where(Scope.key == SCOPE)
            .order_by(Snapshot.id.desc())
            .limit(1)
        ).scalar()
    engine.dispose()
    return (audit or {}).get("weights")


def age(url: str, shift: dt.timedelta) -> None:
    """Move every timestamp in the database ``shift`` into the past: as if that much time had
    gone by since (the server stopped)."""
    from arena.models import Base
    from arena.models.base import UTCDateTime

    engine = _engine(url)
    with engine.begin() as conn:
        tables = _tables(conn)
        for table in Base.metadata.sorted_tables:
            stamps = [
                c
                for c in table.columns
                if isinstance(c.type, UTCDateTime) and c.name in tables.get(table.name, ())
            ]
            keys = list(table.primary_key.columns)
            if not stamps or not keys:
                continue
            rows = conn.execute(select(*keys, *stamps)).all()
            if not rows:
                continue
            params = []
            for row in rows:
                values = {f"k_{k.name}": row[i] for i, k in enumerate(keys)}
                for j, column in enumerate(stamps):
                    stamp = row[len(keys) + j]
                    values[f"v_{column.name}"] = stamp - shift if stamp is not None else None
                params.append(values)
            statement = (
                table.update()
                .where(and_(*(k == bindparam(f"k_{k.name}") for k in keys)))
                .values({c.name: bindparam(f"v_{c.name}", type_=c.type) for c in stamps})
            )
            conn.execute(statement, params)
    engine.dispose()


def _add_variant(job: tuple[str, str, Any, int]) -> bool:
    """Add one variant to an output's pool unless it is full (the server fills it too)."""
    from arena.services.voting import variants

    media, secret, source, size = job
    folder = variants.pool_dir(media, secret, source)
    if folder.exists() and len(list(folder.iterdir())) >= size:
        return False
    variants.add_to_pool(media, secret, source)
    return True


def prefill_pools(url: str, media: Path, secret: str) -> str:
    """Fill the battle-image variant pools as the server's worker would given time (on every
    core at once), so the attacks meet a server in its steady state."""
    started = time.perf_counter()
    try:
        from arena.db import Database
        from arena.services.voting import variants

        settings = variants.VariantSettings.from_config({})
        db = Database(url)
        try:
            sources = variants.in_play(db, settings)
        finally:
            db.engine.dispose()
        jobs = [(str(media), secret, source, settings.pool) for source in sources] * settings.pool
    except (ImportError, AttributeError, TypeError) as error:
        return f"no variant pools to fill ({error})"
    context = mp.get_context("spawn")
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=context) as executor:
        made = sum(executor.map(_add_variant, jobs, chunksize=8))
    return (
        f"{made} battle-image variants made ahead for {len(sources)} outputs in "
        f"{time.perf_counter() - started:.0f} s"
    )


# --- traffic runs ---------------------------------------------------------------------------


@dataclass
class Options:
    honest_votes: int
    honest_rate: float
    honest_concurrency: int
    attacks: list[str]
    max_votes: int
    max_seconds: float
    cycling_seconds: float
    votes_per_cookie: int
    hash_seconds: float
    lanes: int
    cycling_lanes: int
    workers: int
    seed: int


@dataclass
class Context:
    """What the traffic of one server needs, made fresh for each server start."""

    store: Store
    server: Server
    executor: ProcessPoolExecutor
    truth: dict[str, float]
    options: Options
    honest_voters: set[int] = field(default_factory=set)
    honest_votes: int = 0


def _session(context: Context, started: float) -> traffic.Session:
    http = traffic.Http(context.server.port)
    return traffic.Session(
        http,
        traffic.Oracle(context.store.url),
        traffic.Verifier(http, context.executor),
        COMPETITION,
        started,
    )


async def _board(http: traffic.Http) -> dict[str, Any]:
    reply = await http.call("GET", f"/api/v1/leaderboards/{SCOPE}")
    return reply.json() if reply.status == 200 else {"rows": []}


def _row(board: dict[str, Any], model: str) -> dict[str, Any] | None:
    return next((row for row in board["rows"] if row["model_id"] == model), None)


async def _wait_published(url: str, vote_id: int, seconds: float = 120.0) -> bool:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if published_through(url) >= vote_id:
            return True
        await asyncio.sleep(1.0)
    return False


async def honest_phase(context: Context) -> dict[str, Any]:
    """The first honest votes, until the board has published them."""
    started = time.perf_counter()
    session = _session(context, started)
    try:
        pow_on = await session.verifier.detect()
        tally = await traffic.honest_traffic(
            session,
            context.truth,
            concurrency=context.options.honest_concurrency,
            stop=asyncio.Event(),
            total=context.options.honest_votes,
            seed=context.options.seed,
        )
        elapsed = time.perf_counter() - started
        await _wait_published(context.store.url, max(tally.vote_ids, default=0))
    finally:
        session.oracle.close()
    return {
        "tally": tally,
        "seconds": elapsed,
        "pow": pow_on,
    }


async def republish(context: Context) -> dict[str, Any]:
    """One honest vote from a new person, so the publisher publishes again; that board."""
    session = _session(context, time.perf_counter())
    try:
        await session.verifier.detect()
        tally = traffic.Tally()
        await traffic.honest_traffic(
            session,
            context.truth,
            concurrency=1,
            stop=asyncio.Event(),
            total=1,
            seed=random.randrange(2**32),
            tally=tally,
        )
        await _wait_published(context.store.url, max(tally.vote_ids, default=0))
        return await _board(session.http)
    finally:
        session.oracle.close()


def _honest_concurrency(rate: float) -> int:
    return max(1, round(rate * HONEST_CYCLE)) if rate > 0 else 0


async def _with_honest(
    context: Context, session: traffic.Session, attack: Any
) -> tuple[Any, traffic.Tally]:
    """Run ``attack`` (a coroutine) while honest traffic goes on at the configured rate."""
    stop = asyncio.Event()
    honest = traffic.Tally()
    background = asyncio.create_task(
        traffic.honest_traffic(
            session,
            context.truth,
            concurrency=_honest_concurrency(context.options.honest_rate),
            stop=stop,
            seed=context.options.seed + 1,
            tally=honest,
        )
    )
    try:
        result = await attack
    finally:
        stop.set()
        await background
    return result, honest


async def lift(
    context: Context, target: str, policy: traffic.Policy
) -> tuple[dict[str, Any], traffic.Tally, traffic.Tally]:
    """Attacks 1 and 2: bot traffic until the target is #1 of the published board (or the
    limits of votes and time); the figures, the bot's and the honest voters' tallies."""
    options = context.options
    started = time.perf_counter()
    session = _session(context, started)
    await session.verifier.detect()
    bot = traffic.Tally()
    plan = traffic.BotPlan(policy, options.votes_per_cookie, options.lanes, options.max_votes)

    async def attack() -> dict[str, Any]:
        stop = asyncio.Event()
        task = asyncio.create_task(traffic.run_bot(session, plan, bot, stop))
        start_board = await _board(session.http)
        trajectory: list[tuple[float, int | None, float | None]] = []
        reached: dict[str, Any] | None = None
        finished_at: float | None = None
        best = None
        while True:
            await asyncio.sleep(1.0)
            now = time.perf_counter() - started
            board = await _board(session.http)
            row = _row(board, target)
            rank = row["rank"] if row else None
            trajectory.append((now, rank, row["bt_rating"] if row else None))
            if rank is not None and (best is None or rank < best):
                best = rank
            if rank == 1:
                reached = {"seconds_board": now, "snapshot_id": board["snapshot_id"]}
                break
            if now > options.max_seconds:
                stop.set()
            if task.done():
                # The bot has stopped: wait for the board to take in its last votes.
                finished_at = finished_at or now
                last = max(bot.vote_ids, default=0)
                if published_through(context.store.url) >= last or now - finished_at > 30:
                    break
        stop.set()
        flags = flagged_voters(context.store.url)
        await task
        return {
            "reached": reached,
            "flags": flags,
            "start_board": start_board,
            "end_board": board,
            "best_rank": best,
            "trajectory": trajectory,
            "elapsed": time.perf_counter() - started,
        }

    try:
        result, honest = await _with_honest(context, session, attack())
    finally:
        session.oracle.close()
    return _lift_figures(context, target, result, bot, honest, session), bot, honest


def _lift_figures(
    context: Context,
    target: str,
    result: dict[str, Any],
    bot: traffic.Tally,
    honest: traffic.Tally,
    session: traffic.Session,
) -> dict[str, Any]:
    url = context.store.url
    flags = result["flags"]
    reached = result["reached"]
    figures: dict[str, Any] = {
        "target": target,
        "start_rank": (_row(result["start_board"], target) or {}).get("rank"),
        "best_rank": result["best_rank"],
        "end_rank": (_row(result["end_board"], target) or {}).get("rank"),
        "bot_votes": bot.votes,
        "bot_counted": counted_among(url, bot.vote_ids),
        "bot_battles": bot.battles,
        "bot_refused": dict(bot.statuses),
        "bot_not_counted": dict(bot.not_counted),
        "bot_identities": bot.identities,
        "new_refused": bot.new_refused,
        "new_wait": bot.new_wait,
        "bot_voters": len(bot.voter_ids),
        "bot_voters_voted": len(bot.voted),
        "bot_voters_flagged": _marked(bot.voter_ids, flags),
        "pow_solved": bot.pow_solved,
        "pow_seconds": bot.pow_seconds,
        "pow_refused": dict(bot.pow_refused),
        "elapsed": result["elapsed"],
        "honest": _honest_figures(context, honest, flags),
        "trajectory": result["trajectory"],
    }
    end = _row(result["end_board"], target) or {}
    top = next(iter(result["end_board"]["rows"]), {})
    figures["end_gap"] = (top.get("bt_rating") or 0) - (end.get("bt_rating") or 0)
    if reached:
        last = snapshot_last_vote(url, reached["snapshot_id"])
        used = [v for v in bot.vote_ids if v <= last]
        figures["reached"] = {
            "votes": len(used),
            "counted": counted_among(url, used),
            "seconds": max((bot.vote_times[v] for v in used), default=0.0),
            "seconds_board": reached["seconds_board"],
            "bot_battles": bot.battles,
        }
    else:
        figures["reached"] = None
    return figures


def _marked(voters: set[int], flags: dict[int, str]) -> tuple[int, int]:
    """(flagged: votes no longer counted, only listed: suspicious or named by a finding)."""
    marked = voters & flags.keys()
    flagged = sum(flags[v].startswith("flagged") for v in marked)
    return flagged, len(marked) - flagged


def _honest_figures(
    context: Context, honest: traffic.Tally | None, flags: dict[int, str]
) -> dict[str, Any]:
    voters = set(context.honest_voters)
    votes = context.honest_votes
    if honest is not None:
        voters |= honest.voted
        votes += honest.votes
    flagged, listed = _marked(voters, flags)
    return {
        "voters": len(voters),
        "votes": votes,
        "flagged": flagged,
        "listed": listed,
        "reasons": sorted({flags[v] for v in voters & flags.keys()})[:5],
        "during_attack": honest.votes if honest is not None else 0,
    }


def _battles_until(seen: list[traffic.Seen], attribute: str) -> tuple[int | None, float]:
    """The first battle from which the bot recognised 90% of the images of the latest
    ``WINDOW`` battles, and its share over the last window."""
    if not seen:
        return None, 0.0
    battles = max(s.battle for s in seen)
    hits = np.zeros(battles + 1)
    shown = np.zeros(battles + 1)
    for s in seen:
        shown[s.battle] += 1
        hits[s.battle] += getattr(s, attribute)
    hits_sum, shown_sum = np.cumsum(hits), np.cumsum(shown)
    first = None
    for b in range(WINDOW, battles + 1):
        window_shown = shown_sum[b] - shown_sum[b - WINDOW]
        if window_shown and (hits_sum[b] - hits_sum[b - WINDOW]) / window_shown >= 0.9:
            first = b
            break
    start = max(0, battles - WINDOW)
    last = (hits_sum[battles] - hits_sum[start]) / max(1.0, shown_sum[battles] - shown_sum[start])
    return first, float(last)


def _auc(slow: list[float], fast: list[float]) -> float | None:
    """P(a first fetch takes longer than a later one): 0.5 means timing tells nothing."""
    if not slow or not fast:
        return None
    values = np.concatenate([slow, fast])
    ranks = values.argsort().argsort() + 1.0
    rank_sum = ranks[: len(slow)].sum()
    return float((rank_sum - len(slow) * (len(slow) + 1) / 2) / (len(slow) * len(fast)))


async def hashing(context: Context) -> dict[str, Any]:
    """Attack 3: the hash-learning bot, with what lengths and timing give away."""
    options = context.options
    started = time.perf_counter()
    session = _session(context, started)
    await session.verifier.detect()
    learner = traffic.Learner()
    bot = traffic.Tally()

    async def attack() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            traffic.run_hash_bot(
                session,
                learner,
                bot,
                stop,
                lanes=options.lanes,
                per_cookie=options.votes_per_cookie,
                max_battles=options.max_votes,
            )
        )
        while not task.done():
            await asyncio.sleep(1.0)
            # The perceptual hash knows whatever the exact one does: its 90% ends the attack.
            perceptual, _ = _battles_until(learner.seen, "perceptual")
            if perceptual or time.perf_counter() - started > options.hash_seconds:
                stop.set()
        await task

    try:
        _, honest = await _with_honest(context, session, attack())
    finally:
        session.oracle.close()
    return _hash_figures(context, learner, bot, honest, session, time.perf_counter() - started)


def _hash_figures(
    context: Context,
    learner: traffic.Learner,
    bot: traffic.Tally,
    honest: traffic.Tally,
    session: traffic.Session,
    elapsed: float,
) -> dict[str, Any]:
    seen = learner.seen
    outputs, _, _ = pool_size(context.store.url)
    figures: dict[str, Any] = {"battles": learner.battles, "elapsed": elapsed, "pool": outputs}
    for name in ("exact", "perceptual", "length"):
        first, last = _battles_until(seen, name)
        figures[name] = {"battles_until_90": first, "last_window": last}
    by_output: dict[int, set[int | None]] = {}
    owners: dict[int | None, set[int]] = {}
    for s in seen:
        by_output.setdefault(s.output, set()).add(s.get_length)
        owners.setdefault(s.get_length, set()).add(s.output)
    figures["lengths"] = {
        "images": len(seen),
        "outputs": len(by_output),
        "distinct_lengths": len(owners),
        "outputs_one_length": sum(len(v) == 1 for v in by_output.values()),
        "images_unique_length": sum(len(owners[s.get_length]) == 1 for s in seen),
        "head_equals_get": sum(s.head_length == s.get_length for s in seen),
    }
    first = [s.head_ms for s in seen if s.first_fetch]
    later = [s.head_ms for s in seen if not s.first_fetch]
    figures["timing"] = {
        "first_fetches": len(first),
        "later_fetches": len(later),
        "first_mean_ms": float(np.mean(first)) if first else None,
        "later_mean_ms": float(np.mean(later)) if later else None,
        "first_median_ms": float(np.median(first)) if first else None,
        "later_median_ms": float(np.median(later)) if later else None,
        "first_p90_ms": float(np.percentile(first, 90)) if first else None,
        "later_p90_ms": float(np.percentile(later, 90)) if later else None,
        "auc": _auc(first, later),
    }
    figures["expected_uniform"] = math.ceil(outputs * math.log(10) / 2)
    figures["bot_refused"] = dict(bot.statuses)
    figures["bot_identities"] = bot.identities
    figures["pow_solved"] = bot.pow_solved
    figures["pow_seconds"] = bot.pow_seconds
    figures["pow_refused"] = dict(bot.pow_refused)
    figures["honest"] = _honest_figures(context, honest, flagged_voters(context.store.url))
    return figures


async def cycling(context: Context) -> tuple[dict[str, Any], traffic.Tally, traffic.Tally]:
    """Attack 4: new cookies and random votes as fast as one address can; the figures, the
    bot's and the honest voters' tallies."""
    options = context.options
    started = time.perf_counter()
    session = _session(context, started)
    await session.verifier.detect()
    bot = traffic.Tally()
    plan = traffic.BotPlan(
        traffic.at_random, options.votes_per_cookie, options.cycling_lanes, 10**9
    )

    async def attack() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(traffic.run_bot(session, plan, bot, stop))
        await asyncio.sleep(options.cycling_seconds)
        stop.set()
        await task
        return time.perf_counter() - started

    try:
        elapsed, honest = await _with_honest(context, session, attack())
    finally:
        session.oracle.close()
    counted = counted_among(context.store.url, bot.vote_ids)
    flags = flagged_voters(context.store.url)
    figures = {
        "seconds": elapsed,
        "votes": bot.votes,
        "counted_reply": bot.counted,
        "counted": counted,
        "per_minute": counted / elapsed * 60,
        "sent_per_minute": bot.votes / elapsed * 60,
        "refused": dict(bot.statuses),
        "not_counted": dict(bot.not_counted),
        "identities": bot.identities,
        "voters": len(bot.voter_ids),
        "voters_voted": len(bot.voted),
        "new_refused": bot.new_refused,
        "new_wait": bot.new_wait,
        "voters_flagged": _marked(bot.voter_ids, flags),
        "pow_solved": bot.pow_solved,
        "pow_seconds": bot.pow_seconds,
        "pow_refused": dict(bot.pow_refused),
        "honest": _honest_figures(context, honest, flags),
    }
    return figures, bot, honest


def later(
    context: Context, target: str | None, bot: traffic.Tally, honest: traffic.Tally
) -> list[dict[str, Any]]:
    """Let time pass after the attack (every timestamp moved back by ``AFTER_WAITS``), publish
    again each time, and read the board, the flags and what the fit took: where the attack
    stands once its voters may count and once its skipped battles have expired."""
    url = context.store.url
    passed = dt.timedelta(0)
    result = []
    for wait in AFTER_WAITS:
        context.server.stop()
        age(url, wait - passed)
        passed = wait
        context.server.start()
        board = asyncio.run(republish(context))
        flags = flagged_voters(url)
        row = _row(board, target) if target else None
        top = next(iter(board["rows"]), {})
        result.append(
            {
                "wait_minutes": wait.total_seconds() / 60,
                "rank": row["rank"] if row else None,
                "gap": (top.get("bt_rating") or 0) - (row.get("bt_rating") or 0) if row else None,
                "bot_voters_flagged": _marked(bot.voter_ids, flags),
                "bot_reasons": sorted({flags[v] for v in bot.voter_ids & flags.keys()}),
                "findings": findings_about(url, bot.voter_ids),
                "weights": fit_weights(url),
                "honest": _honest_figures(context, honest, flags),
            }
        )
    return result


# --- report ------------------------------------------------------------------------------------


def _hours(votes: float, per_minute: float) -> str:
    return f"{votes / per_minute / 60:.1f} h" if per_minute > 0 else "never (no counted votes)"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "none"


def _report_after(after: list[dict[str, Any]], bot_voters: int, target: str | None) -> list[str]:
    lines = []
    for a in after:
        line = f"  {a['wait_minutes']:.0f} minutes after the attack, republished:"
        if target is not None:
            line += f" target #{a['rank']}" + (
                " (#1 with the votes above)"
                if a["rank"] == 1
                else f", {a['gap']:.0f} rating points below #1"
            )
        lines.append(line)
        lines.append(
            f"    bot voters {_marks(a['bot_voters_flagged'], bot_voters)}"
            + (f" ({', '.join(a['bot_reasons'])})" if a["bot_reasons"] else "")
            + f"; findings on the bot: {_counts(a['findings'])}"
        )
        if a["weights"]:
            w = a["weights"]
            lines.append(
                f"    published fit of {COMPETITION}: {w.get('fitted')} of {w.get('counted')} "
                f"counted votes fitted ({w.get('probation')} on probation, {w.get('capped')} "
                f"over the caps of {w.get('voter_cap')} per voter / {w.get('address_cap')} "
                "per address)"
            )
        lines.append("  " + _report_honest(a["honest"]))
    return lines


def _report_lift(name: str, f: dict[str, Any]) -> list[str]:
    lines = [f"{name}: target {f['target']} (#{f['start_rank']} of the published board)"]
    reached = f["reached"]
    if reached:
        lines.append(
            f"  #1 after {reached['votes']} bot votes ({reached['counted']} counted), "
            f"{reached['seconds']:.0f} s of traffic; the board showed it at "
            f"{reached['seconds_board']:.0f} s"
        )
    else:
        lines.append(
            f"  not #1 after {f['bot_votes']} bot votes ({f['bot_counted']} counted) / "
            f"{f['elapsed']:.0f} s of traffic: best #{f['best_rank']}, last #{f['end_rank']}, "
            f"{f['end_gap']:.0f} rating points below #1"
        )
        rate = f["bot_counted"] / f["elapsed"] * 60
        lines.append(
            f"  at the measured {rate:.0f} counted votes/min, 4,000 counted votes need "
            f"{_hours(4000, rate)} (extrapolated)"
        )
    lines.append(
        f"  bot: {f['bot_battles']} battles, {f['bot_votes']} votes, {f['bot_identities']} "
        f"cookies, {f['bot_voters_voted']} voters with votes; "
        f"{'before #1' if reached else 'by the end'}, bot voters "
        f"{_marks(f['bot_voters_flagged'], f['bot_voters'])}"
    )
    lines += _report_new_voters(f, f["elapsed"])
    lines += _report_refusals(f["bot_refused"], f["bot_not_counted"], f)
    lines.append(_report_honest(f["honest"]))
    if f.get("after"):
        lines += _report_after(f["after"], f["bot_voters"], f["target"])
    return lines


def _report_new_voters(f: dict[str, Any], seconds: float) -> list[str]:
    if not f["new_refused"]:
        return []
    voters = f.get("bot_voters", f.get("voters", 0))
    return [
        f"  new voters: {voters} made within {seconds:.0f} s, then {f['new_refused']} refused "
        f"(too_many_new_voters; the next one allowed after {f['new_wait']:.0f} s): the bot "
        f"went on with the {voters} it had"
    ]


def _report_refusals(
    refused: dict[str, int], not_counted: dict[str, int], f: dict[str, Any]
) -> list[str]:
    lines = []
    if refused:
        lines.append(f"  refused: {_counts(refused)}")
    if not_counted:
        lines.append(f"  kept, not counted: {_counts(not_counted)}")
    if f.get("pow_solved") or f.get("pow_refused"):
        lines.append(
            f"  proof of work: {f['pow_solved']} solved"
            + (f" in {f['pow_seconds']:.1f} s of client CPU" if "pow_seconds" in f else "")
            + (f"; refused {_counts(f['pow_refused'])}" if f.get("pow_refused") else "")
        )
    return lines


def _marks(marked: tuple[int, int] | list[int], voters: int) -> str:
    flagged, listed = marked
    return f"flagged: {flagged} of {voters}" + (
        f" (+{listed} listed as suspicious, still counted)" if listed else ""
    )


def _report_honest(h: dict[str, Any]) -> str:
    share = h["flagged"] / h["voters"] if h["voters"] else 0.0
    return (
        f"  honest voters flagged: {h['flagged']} of {h['voters']} ({share:.1%})"
        + (f" (+{h['listed']} listed as suspicious, still counted)" if h["listed"] else "")
        + (f"; {h['during_attack']} honest votes during the attack" if h["during_attack"] else "")
        + (f"; reasons {h['reasons']}" if h["reasons"] else "")
    )


def _report_hash(f: dict[str, Any]) -> list[str]:
    lines = [
        f"hash: {f['battles']} battles in {f['elapsed']:.0f} s, pool of {f['pool']} outputs "
        f"(learning 2 outputs per battle from uniform draws, 90% takes ~"
        f"{f['expected_uniform']} battles)"
    ]
    for name, label in (
        ("exact", "sha256"),
        ("perceptual", "dHash"),
        ("length", "Content-Length"),
    ):
        g = f[name]
        until = g["battles_until_90"]
        lines.append(
            f"  {label}: "
            + (
                f"knows >= 90% of what it is shown from battle {until}"
                if until
                else f"not 90% after {f['battles']} battles"
            )
            + f" (last {WINDOW} battles: {g['last_window']:.0%})"
        )
    n = f["lengths"]
    lines.append(
        f"  Content-Length: {n['distinct_lengths']} distinct values over {n['images']} images of "
        f"{n['outputs']} outputs; {n['outputs_one_length']} outputs always one length; "
        f"{n['images_unique_length']} images with a length no other output had; "
        f"HEAD = GET for {n['head_equals_get']}"
    )
    t = f["timing"]
    if t["auc"] is not None:
        lines.append(
            f"  fetch timing: first fetch of an output {t['first_mean_ms']:.0f} ms mean "
            f"({t['first_median_ms']:.0f} median, {t['first_p90_ms']:.0f} p90, "
            f"n={t['first_fetches']}), later {t['later_mean_ms']:.0f} ms "
            f"({t['later_median_ms']:.0f}, {t['later_p90_ms']:.0f}, n={t['later_fetches']}); "
            f"P(a first fetch is slower than a later one) = {t['auc']:.2f} (0.50: no signal)"
        )
    if f["battles"] and not (
        f["exact"]["battles_until_90"] and f["perceptual"]["battles_until_90"]
    ):
        rate = f["battles"] / f["elapsed"] * 60
        lines.append(
            f"  at the measured {rate:.0f} battles/min, {f['expected_uniform']} battles take "
            f"{f['expected_uniform'] / rate:.1f} min (extrapolated)"
        )
    lines += _report_refusals(f["bot_refused"], {}, f)
    lines.append(_report_honest(f["honest"]))
    return lines


def _report_cycling(f: dict[str, Any]) -> list[str]:
    lines = [
        f"cycling: {f['counted']} counted votes ({f['per_minute']:.0f}/min) of {f['votes']} "
        f"sent in {f['seconds']:.0f} s from one address; {f['identities']} cookies tried, "
        f"{f['voters_voted']} voters with votes; bot voters "
        f"{_marks(f['voters_flagged'], f['voters'])}"
    ]
    lines += _report_new_voters(f, f["seconds"])
    lines += _report_refusals(f["refused"], f["not_counted"], f)
    if f["per_minute"] > 0:
        lines.append(
            f"  at this rate 4,000 counted votes need {4000 / f['per_minute']:.1f} min "
            f"({_hours(4000, f['per_minute'])})"
        )
    lines.append(_report_honest(f["honest"]))
    if f.get("after"):
        lines += _report_after(f["after"], f["voters"], None)
    return lines


def report(results: dict[str, Any], options: Options) -> str:
    """The figures, for people."""
    s = results["setup"]
    h = results["honest"]
    lines = [
        f"rigging bench on {s['backend']}: {options.workers} gunicorn workers; {s['models']} "
        f"models, {s['prompts']} prompts, {s['outputs']} outputs in {COMPETITION} (generated in "
        f"{s['generate_seconds']:.0f} s; {s['pools']}); proof of work "
        f"{'on' if h['pow'] else 'absent'}",
        f"settings differing from the defaults: "
        f"{', '.join(f'{k}={v}' for k, v in SERVER_ENV.items())}; the honest history is moved "
        f"{HISTORY_AGE.total_seconds() / 3600:g} h into the past before the attacks",
        f"honest: {h['votes']} votes by {h['voters']} voters in {h['seconds']:.0f} s "
        f"({h['counted']} counted); board ranks {h['ranked']} models; target {h['target']}; "
        f"{options.honest_rate:g} honest votes/s go on during each attack",
        _report_honest(h["flags"]),
    ]
    names = {"target": "target-only", "random": "target + random"}
    for attack in options.attacks:
        f = results["attacks"][attack]
        if attack in names:
            lines += _report_lift(names[attack], f)
        elif attack == "hash":
            lines += _report_hash(f)
        else:
            lines += _report_cycling(f)
    lines.append(f"total {results['seconds']:.0f} s")
    return "\n".join(lines)


def _truth(models: list[str], seed: int) -> dict[str, float]:
    order = list(models)
    random.Random(seed).shuffle(order)
    ratings = np.linspace(1200.0, 800.0, len(order))
    return {model: float(r) for model, r in zip(order, ratings, strict=True)}


def _progress(started: float, what: str, quiet: bool) -> None:
    if not quiet:
        print(f"[{time.perf_counter() - started:4.0f} s] {what}", file=sys.stderr, flush=True)


def setup(store: Store, folder: Path, args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """Migrate, seed, generate and make the variant pools; the server's environment and what
    was set up."""
    secret = secrets.token_hex(32)
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": store.url,
        "ARENA_MEDIA_DIR": str(store.media),
        "ARENA_SECRET_KEY": secret,
        "ARENA_LIMITS_DB": str(store.limits),
        **SERVER_ENV,
    }
    seeds = _seeds(folder, args.prompts, args.size)
    started = time.perf_counter()
    for step in (
        ("db", "upgrade"),
        ("seed", "--path", str(seeds)),
        ("generate", COMPETITION, "--provider", "builtin"),
    ):
        _run_arena(env, *step)
    generated = time.perf_counter() - started
    outputs, prompts, models = pool_size(store.url)
    return env, {
        "backend": store.backend,
        "outputs": outputs,
        "prompts": prompts,
        "models": models,
        "generate_seconds": generated,
        "settings": SERVER_ENV,
    }


def history(context: Context, pools: Future[str]) -> dict[str, Any]:
    """The honest phase (while ``pools`` fill), aged into the past; the board it leaves
    names the target."""
    store, server = context.store, context.server
    server.start()
    honest = asyncio.run(honest_phase(context))
    pools.result()
    server.stop()
    age(store.url, HISTORY_AGE)
    store.clear_limits()
    server.start()
    board = asyncio.run(republish(context))
    server.stop()
    tally = honest["tally"]
    context.honest_voters = set(tally.voted)
    context.honest_votes = tally.votes
    ranked = [row for row in board["rows"] if row["rank"] is not None]
    if not ranked:
        raise RuntimeError("the published board ranks no model after the honest votes")
    return {
        "votes": tally.votes,
        "counted": tally.counted,
        "voters": len(tally.voted),
        "seconds": honest["seconds"],
        "target": ranked[len(ranked) // 2]["model_id"],
        "ranked": len(ranked),
        "pow": honest["pow"],
        "refused": dict(tally.statuses),
        "flags": _honest_figures(context, None, flagged_voters(store.url)),
        "weights": fit_weights(store.url),
        "board": [(row["rank"], row["model_id"], row["bt_rating"]) for row in board["rows"]],
    }


def attack_once(context: Context, attack: str, target: str) -> dict[str, Any]:
    """One attack on a server restored to the end of the honest phase."""
    context.store.restore()
    context.server.start()
    try:
        if attack == "hash":
            return asyncio.run(hashing(context))
        if attack == "cycling":
            figures, bot, honest = asyncio.run(cycling(context))
            figures["after"] = later(context, None, bot, honest)
            return figures
        policy = (
            traffic.target_only(target) if attack == "target" else traffic.target_or_random(target)
        )
        figures, bot, honest = asyncio.run(lift(context, target, policy))
        if not figures["reached"]:
            figures["after"] = later(context, target, bot, honest)
        return figures
    finally:
        context.server.stop()


def run(options: Options, args: argparse.Namespace) -> dict[str, Any]:
    """Set up, run the honest phase and each attack; every figure, as plain data."""
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="arena-rigging-"))
    store: Store | None = None
    server: Server | None = None
    executor = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
    background = ThreadPoolExecutor(1)
    try:
        store = Store(folder, args.postgres_url if args.postgresql else None)
        env, ready = setup(store, folder, args)
        _progress(started, f"set up: {ready['outputs']} outputs", args.json)
        pools = background.submit(prefill_pools, store.url, store.media, env["ARENA_SECRET_KEY"])
        truth = _truth(competition_models(store.url), options.seed)
        server = Server(env, options.workers, folder / "server.log")
        context = Context(store, server, executor, truth, options)
        results: dict[str, Any] = {"setup": {**ready, "truth": truth}, "attacks": {}}
        results["honest"] = history(context, pools)
        results["setup"]["pools"] = pools.result()
        _progress(started, f"honest phase done, target {results['honest']['target']}", args.json)
        store.save()
        for attack in options.attacks:
            results["attacks"][attack] = attack_once(context, attack, results["honest"]["target"])
            _progress(started, f"{attack} done", args.json)
        results["seconds"] = time.perf_counter() - started
        return results
    finally:
        if server is not None:
            server.stop()
        executor.shutdown(cancel_futures=True)
        background.shutdown(cancel_futures=True)
        if store is not None:
            store.drop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest-votes", type=int, default=2000)
    parser.add_argument(
        "--honest-rate", type=float, default=1.0, help="honest votes/s during the attacks"
    )
    parser.add_argument("--honest-concurrency", type=int, default=80)
    parser.add_argument(
        "--attack",
        action="append",
        choices=ATTACKS,
        help="run this attack (repeat for several); default all four",
    )
    parser.add_argument(
        "--max-votes", type=int, default=4000, help="bot votes (hash: battles) per attack"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="per attack (target, random)"
    )
    parser.add_argument("--hash-seconds", type=float, default=240.0, help="the hash attack's")
    parser.add_argument("--cycling-seconds", type=float, default=60.0)
    parser.add_argument("--votes-per-cookie", type=int, default=9)
    parser.add_argument("--lanes", type=int, default=16, help="the bot's concurrent loops")
    parser.add_argument(
        "--cycling-lanes", type=int, default=48, help="the cycling bot's concurrent loops"
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--prompts", type=int, help="cut Fantasy Warrior to this many prompts")
    parser.add_argument("--size", help="render every prompt at this size, e.g. 256x256")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--quick", action="store_true", help="a small run to try it out")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.honest_votes = min(args.honest_votes, 400)
        args.max_votes = min(args.max_votes, 400)
        args.max_seconds = min(args.max_seconds, 40.0)
        args.hash_seconds = min(args.hash_seconds, 40.0)
        args.cycling_seconds = min(args.cycling_seconds, 15.0)
        args.prompts = args.prompts or 3
        args.size = args.size or "256x256"
    options = Options(
        honest_votes=args.honest_votes,
        honest_rate=args.honest_rate,
        honest_concurrency=args.honest_concurrency,
        attacks=args.attack or list(ATTACKS),
        max_votes=args.max_votes,
        max_seconds=args.max_seconds,
        hash_seconds=args.hash_seconds,
        cycling_seconds=args.cycling_seconds,
        votes_per_cookie=args.votes_per_cookie,
        lanes=args.lanes,
        cycling_lanes=args.cycling_lanes,
        workers=args.workers,
        seed=args.seed,
    )
    results = run(options, args)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(report(results, options))


if __name__ == "__main__":
    main()
