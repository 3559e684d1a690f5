"""Vote dumps for the import tests: writing them, and the ratings they should give."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from arena.models import Competition, Model, Rating, Scope, Vote
from arena.ratings.elo import Replay
from arena.services.imports import apply as imports_apply
from arena.services.imports.read import read_votes
from arena.services.scopes import scope_key

K = 32.0
FANTASY = "fantasy-warrior"
FANTASY_II = "fantasy-warrior-ii"  # 14 of the 27 models; kolors and sana are not entered
COLUMNS = ("model_a", "model_b", "winner")

# model_a, model_b, winner: slugs and names mixed, every winner value.
ROWS = [
    ("hidream-i1-fast", "flux-1-dev", "model_a"),
    ("HiDream I1 Fast", "sdxl", "model_a"),
    ("flux-1-dev", "Stable Diffusion XL", "model_b"),
    ("sdxl", "hidream-i1-fast", "tie"),
    ("hidream-i1-fast", "FLUX.1 [dev]", "tie (bothbad)"),
    ("kolors", "hidream-i1-fast", "model_b"),
    ("flux-1-dev", "kolors", "model_a"),
]


def write_csv(path: Path, rows, columns=COLUMNS) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def as_records(rows, columns=COLUMNS) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def slug(db, name_or_slug: str) -> str:
    with db.session() as session:
        return session.scalar(
            select(Model.slug).where((Model.slug == name_or_slug) | (Model.name == name_or_slug))
        )


def stored_ratings(db) -> dict[tuple[str, str], tuple]:
    """(scope key, model slug) -> (elo, wins, losses, ties, battles) for every rating row."""
    with db.session() as session:
        rows = session.execute(
            select(Scope.key, Model.slug, Rating.elo, Rating.wins, Rating.losses, Rating.ties)
            .join(Scope, Scope.id == Rating.scope_id)
            .join(Model, Model.id == Rating.model_id)
        ).all()
    return {(key, slug): tuple(rest) for key, slug, *rest in rows}


def replayed(db, batches: list[tuple[str, list[tuple]]]) -> dict[tuple[str, str], tuple]:
    """What ``stored`` should show after live votes of ``batches`` ((competition, rows))."""
    replay = Replay(k=K)
    with db.session() as session:
        categories = dict(
            session.execute(
                select(Competition.slug, Scope.key)
                .join(Scope, Scope.category_id == Competition.category_id)
                .where(Scope.kind == "category")
            ).all()
        )
    for competition, rows in batches:
        scopes = (scope_key("competition", competition), categories[competition], "overall")
        for a, b, winner, *_ in rows:
            replay.apply(scopes, slug(db, a), slug(db, b), winner)
    return {key: (r.elo, r.wins, r.losses, r.ties) for key, r in replay.records.items()}


def assert_ratings_match(db, batches) -> None:
    stored = stored_ratings(db)
    expected = replayed(db, batches)
    for key, values in expected.items():
        assert stored[key] == values, key
    untouched = {key for key in stored if key not in expected}
    assert all(stored[key] == (1000.0, 0, 0, 0) for key in untouched)


def vote_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Vote))


def verify_passes(runner) -> None:
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output


def import_dump(
    db, path: Path, competition: str | None = FANTASY, **kwargs
) -> imports_apply.ImportReport:
    return imports_apply.import_votes(db, read_votes(path), competition=competition, k=K, **kwargs)
