"""The layering the codebase promises: module sizes, Flask-free use cases, one owner of the
live rating rows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARENA = ROOT / "arena"
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(ARENA.rglob("*.py"))


def test_no_module_in_arena_is_over_500_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _modules()}
    assert len(sizes) > 50
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


def test_every_module_says_what_it_is_for():
    undocumented = [
        str(p.relative_to(ROOT))
        for p in _modules()
        if not re.match(r'\s*(#[^\n]*\n\s*)*"""\S', p.read_text())
    ]
    assert undocumented == []


def test_services_and_ratings_load_without_flask():
    names = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for folder in ("services", "ratings")
        for p in sorted((ARENA / folder).rglob("*.py"))
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('flask', 'werkzeug', 'flask_wtf', 'flask_limiter'))\n"
        "print(len(sys.modules), loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    count, loaded = done.stdout.split(" ", 1)
    assert int(count) > 100  # the modules really were imported ...
    assert loaded.strip() == "[]"  # ... and none of them pulled in Flask


def test_only_rating_rows_locks_or_writes_the_live_rating_rows():
    writes = re.compile(
        r"with_for_update|Rating\.__table__|update\(Rating\b|insert\(Rating\b|UPDATE ratings"
        r"|INSERT INTO ratings|\bRating\("
    )
    owners = {str(p.relative_to(ROOT)) for p in _modules() if writes.search(p.read_text())}
    # The model's own module declares the table; only the rating_rows package touches its rows.
    assert owners == {
        "arena/models/ratings.py",
        "arena/services/rating_rows/__init__.py",
        "arena/services/rating_rows/groups.py",
    }
