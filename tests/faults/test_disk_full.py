"""A full disk: clear 503s where something must be written, nothing half-written, votes go on.

The media folder (``ARENA_MEDIA_DIR``) is a small tmpfs mounted for the test and filled to
the last byte. What writes there is exercised: a battle image's variant fetched by its voter
(a 503 page, not a 500), and ``arena generate`` (exit 1 with a clear message, no output row
``done`` without its file, no partial temp file); votes, which need no media, still go
through. Once space is freed both work again. A second test puts the SQLite database itself
on a full disk: votes get a 503 JSON error, and every acknowledged vote stays in the log.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from arena import create_app
from arena.media import image_path
from arena.models import Output, Prompt
from tests.faults.conftest import COMPETITION, arena, prepare, require, server_env, verify_command

pytestmark = pytest.mark.faults

OTHER = "heroic-super-hero-portrait"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator:
    """``small_disk(name, size)`` mounts a tmpfs of ``size`` at ``tmp_path / name``;
    unmounted after the test."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        require(os.geteuid() == 0, "mounting a tmpfs needs root")
        target = tmp_path / name
        target.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
            capture_output=True,
            text=True,
        )
        require(done.returncode == 0, f"cannot mount a tmpfs: {done.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=True)


def fill(folder: Path) -> Path:
    """Fill ``folder``'s file system to the last byte; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def _app(url: str, media: Path, folder: Path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "faults",
            "DATABASE_URL": url,
            "MEDIA_DIR": str(media),
            "LIMITS_DB": str(folder / "limits.db"),
            "RATE_LIMIT": "off",
            "IP_RATE_LIMIT": "off",
            "MIN_VOTE_MS": 0,
            "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
        }
    )


def _temp_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if ".tmp" in p.name or p.name.endswith(".claimed")]


def _outputs(url: str, slug: str) -> list[Output]:
    from arena.models import Competition

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(Output)
                    .join(Prompt, Prompt.id == Output.prompt_id)
                    .join(Competition, Competition.id == Prompt.competition_id)
                    .where(Competition.slug == slug)
                ).all()
            )
    finally:
        engine.dispose()


def _check_done_files(url: str, media: Path) -> None:
    """Every output marked done has its whole file."""
    for slug in (COMPETITION, OTHER):
        for output in _outputs(url, slug):
            if output.status == "done":
                data = image_path(media, output.image_name).read_bytes()
                assert hashlib.sha256(data).hexdigest() == output.sha256, output.image_name


def test_full_media_disk_gives_clear_errors_and_votes_go_on(
    tmp_path: Path, small_seeds: Path, small_disk
) -> None:
    media = small_disk("media", "2m")
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    prepare(url, small_seeds, media)
    filler = fill(media)
    app = _app(url, media, tmp_path)
    client = app.test_client()

    # A voter's battle: issuing it writes no file; fetching an image does (its variant).
    battle = client.post("/api/v1/battles", json={"competition": COMPETITION})
    assert battle.status_code == 201, battle.get_data(as_text=True)
    image = client.get(battle.json["left"]["image_url"])
    assert image.status_code == 503, image.get_data(as_text=True)[:500]
    assert "Image storage is full" in image.get_data(as_text=True)
    assert "ARENA_MEDIA_DIR" in image.get_data(as_text=True)
    # The vote needs no media: it is recorded.
    vote = client.post(f"/api/v1/battles/{battle.json['token']}/vote", json={"winner": "left"})
    assert vote.status_code == 200, vote.get_data(as_text=True)

    # Generation stops with a clear message and records no output without its file.
    env = server_env(url, tmp_path, media)
    done = arena(env, "generate", OTHER, "--provider", "builtin", "--workers", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "Image storage is full" in done.stderr, done.stderr
    assert "outputs not started" in done.stderr or "failed" in done.stdout, done.stdout
    assert [o.status for o in _outputs(url, OTHER) if o.status == "done"] == []
    _check_done_files(url, media)
    assert _temp_files(media) == []

    # Space freed: the same image is served, and generation completes.
    filler.unlink()
    second = client.get(battle.json["right"]["image_url"])
    assert second.status_code == 200 and second.mimetype == "image/webp"
    done = arena(env, "generate", OTHER, "--provider", "builtin", "--workers", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = _outputs(url, OTHER)
    assert outputs and {o.status for o in outputs} == {"done"}
    _check_done_files(url, media)
    assert _temp_files(media) == []
    app.extensions["arena.db"].dispose()


def test_full_database_disk_refuses_votes_with_503_and_keeps_acknowledged(
    tmp_path: Path, small_seeds: Path, small_disk
) -> None:
    disk = small_disk("db", "3m")
    url = f"sqlite:///{disk / 'arena.db'}"
    media = tmp_path / "media"
    prepare(url, small_seeds, media)
    app = _app(url, media, tmp_path)
    client = app.test_client()
    accepted: list[int] = []
    for _ in range(5):
        battle = client.post("/api/v1/battles", json={"competition": COMPETITION})
        assert battle.status_code == 201, battle.get_data(as_text=True)
        vote = client.post(f"/api/v1/battles/{battle.json['token']}/vote", json={"winner": "tie"})
        assert vote.status_code == 200, vote.get_data(as_text=True)
        accepted.append(vote.json["vote_id"])
    filler = fill(disk)
    refused = 0
    for _ in range(20):  # until the database itself cannot grow (WAL pages already there)
        battle = client.post("/api/v1/battles", json={"competition": COMPETITION})
        if battle.status_code == 201:
            vote = client.post(
                f"/api/v1/battles/{battle.json['token']}/vote", json={"winner": "right"}
            )
            if vote.status_code == 200:
                accepted.append(vote.json["vote_id"])
                continue
            response = vote
        else:
            response = battle
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["error"]["code"] == "database_unavailable"
        refused += 1
    assert refused > 0
    filler.unlink()
    app.extensions["arena.db"].dispose()

    engine = create_engine(url)
    from arena.models import Vote

    with engine.connect() as conn:
        logged = set(conn.execute(select(Vote.id)).scalars())
    engine.dispose()
    assert set(accepted) <= logged
    env = server_env(url, tmp_path, media)
    verify = verify_command(env)
    assert verify.exit_code == 0, verify.output
