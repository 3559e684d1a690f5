"""The `arena` command group: db upgrade, seed, generate, status — as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _status(runner) -> dict:
    result = runner.invoke(args=["status", "--json"])
    assert result.exit_code == 0, result.output
    return {c["slug"]: c for c in json.loads(result.output)["competitions"]}


def test_cli_db_upgrade_reports_head(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at head" in result.output


def test_cli_seed_twice_leaves_status_unchanged(runner, small_seeds: Path):
    first = runner.invoke(args=["seed", "--path", str(small_seeds)])
    assert first.exit_code == 0, first.output
    assert "27 models created" in first.output
    before = _status(runner)
    second = runner.invoke(args=["seed", "--path", str(small_seeds)])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert _status(runner) == before


def test_cli_status_json_has_the_contract_fields(runner, small_seeds: Path):
    runner.invoke(args=["seed", "--path", str(small_seeds)])
    rows = _status(runner)
    row = rows["fantasy-warrior"]
    assert list(row) == [
        "slug",
        "name",
        "category",
        "status",
        "prompts",
        "models",
        "model_ids",
        "outputs_done",
        "outputs_failed",
        "outputs_missing",
        "votes",
    ]
    assert row["models"] == len(row["model_ids"]) >= 21
    assert row["outputs_missing"] == row["models"] * row["prompts"]
    assert "hidream-i1-fast" in row["model_ids"]
    text = runner.invoke(args=["status"])
    assert "fantasy-warrior" in text.output and "outputs_missing" in text.output


def test_cli_generate_all_fills_every_output_then_skips(runner, small_seeds: Path):
    runner.invoke(args=["seed", "--path", str(small_seeds)])
    result = runner.invoke(args=["generate", "--all", "--provider", "builtin"])
    assert result.exit_code == 0, result.output
    rows = _status(runner)
    for row in rows.values():
        assert row["outputs_done"] == row["models"] * row["prompts"]
        assert row["outputs_missing"] == 0 and row["outputs_failed"] == 0
    again = runner.invoke(args=["generate", "--all"])
    assert again.exit_code == 0
    assert "Nothing to generate" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate"], "name one or more competitions, or pass --all"),
        (["generate", "no-such-competition"], "no competition with slug: no-such-competition"),
        (["generate", "--all", "--provider", "nope"], "unknown provider 'nope'"),
    ],
)
def test_cli_generate_bad_arguments_explain_themselves(runner, small_seeds, args, message):
    runner.invoke(args=["seed", "--path", str(small_seeds)])
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output


def test_cli_seed_malformed_folder_is_a_clear_error(runner, tmp_path: Path):
    result = runner.invoke(args=["seed", "--path", str(tmp_path)])
    assert result.exit_code == 1
    assert "providers.yaml: seed file not found" in result.output


def test_cli_console_script_runs_against_the_configured_database(database_url, tmp_path, app):
    """The installed `arena` script (a real process) reads ARENA_DATABASE_URL."""
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": database_url,
        "ARENA_MEDIA_DIR": str(tmp_path / "media"),
        "ARENA_SECRET_KEY": "x",
    }
    arena = Path(sys.executable).parent / "arena"
    result = subprocess.run(
        [str(arena), "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"competitions": []}
    result = subprocess.run(
        [str(arena), "--help"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    for command in ("db", "seed", "generate", "status", "serve"):
        assert command in result.stdout


def test_cli_recompute_and_export_round_trip(voting_app, votes, tmp_path: Path):
    votes.cast(30, choice="left", seed=1)
    runner = voting_app.test_cli_runner()
    empty = runner.invoke(args=["export", "leaderboard", "--scope", "overall", "--format", "json"])
    assert json.loads(empty.output)["snapshot_id"] is None

    result = runner.invoke(args=["recompute", "--bootstrap", "50", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "overall: snapshot" in result.output and "Published 3 snapshots" in result.output

    out = tmp_path / "board.csv"
    result = runner.invoke(
        args=["export", "leaderboard", "--scope", "category:portrait", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("rank,rank_of,model_id,model_name,creator,elo,wins")
    assert len(lines) == 15  # header + 14 models
    votes = runner.invoke(args=["export", "votes", "--format", "json"])
    assert json.loads(votes.output)["count"] == 30
    bad = runner.invoke(args=["export", "leaderboard", "--scope", "planet:x"])
    assert bad.exit_code == 1 and "scope must be" in bad.output


def test_cli_api_key_create_prints_once_and_revoke(runner, app):
    from sqlalchemy import select

    from arena.models import ApiKey
    from arena.web.db import get_db

    created = runner.invoke(args=["api-key", "create", "ci-bot"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[0]
    assert key.startswith("arena-") and len(key) > 30
    with app.app_context(), get_db().session() as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.name == "ci-bot"))
        assert stored.key_hash != key and key not in stored.key_hash
    again = runner.invoke(args=["api-key", "create", "ci-bot"])
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(args=["api-key", "revoke", "ci-bot"]).exit_code == 0
    missing = runner.invoke(args=["api-key", "revoke", "nobody"])
    assert missing.exit_code == 1 and "no API key named" in missing.output


def test_cli_recompute_tie_models(voting_app, votes):
    from sqlalchemy import select

    from arena.models import Snapshot
    from arena.web.db import get_db

    votes.cast(30, seed=2)
    runner = voting_app.test_cli_runner()
    for ties in ("half", "davidson", "decisive"):
        result = runner.invoke(args=["recompute", "--bootstrap", "20", "--ties", ties])
        assert result.exit_code == 0, result.output
        with voting_app.app_context(), get_db().session() as session:
            latest = session.scalar(select(Snapshot).order_by(Snapshot.id.desc()).limit(1))
            assert latest.ties_model == ties
    bad = runner.invoke(args=["recompute", "--ties", "quarter"])
    assert bad.exit_code == 2 and "'quarter' is not one of" in bad.output
