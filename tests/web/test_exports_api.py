"""The vote log over HTTP: streamed, paged by vote id, and the static dump files.

Served over real HTTP on 127.0.0.1 (``live_server``), so the answers are really streamed
(chunked, no Content-Length) and really read back page by page, on SQLite and PostgreSQL.
Expected rows come from the service's own unpaged export, which tests/services/test_exports.py
checks against the pandas export of before.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re

import pytest
import requests

from arena.services import dumps, exports
from arena.web.db import get_db

SECRET = "test-secret"  # the app fixture's SECRET_KEY: the pseudonyms' key


@pytest.fixture
def logged(voting_app, votes):
    """23 counted votes by two voters."""
    votes.cast(15, seed=1)
    votes.cast(8, choice=("left", "right", "tie"), seed=2)
    return voting_app


def _expected(app) -> list[dict]:
    db = app.extensions["arena.db"]
    rows = [r for rows in exports.vote_batches(db.session, SECRET) for r in rows]
    return [dict(zip(exports.VOTE_COLUMNS, row, strict=True)) for row in rows]


def _csv_records(text: str) -> list[dict]:
    """CSV rows typed as the JSON ones (empty: null; ids: numbers)."""
    records = []
    for row in csv.DictReader(io.StringIO(text)):
        record: dict = {k: (v if v != "" else None) for k, v in row.items()}
        record["vote_id"] = int(record["vote_id"])
        record["prompt_id"] = int(record["prompt_id"]) if record["prompt_id"] else None
        records.append(record)
    return records


def _next(response: requests.Response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def test_the_whole_log_streams_in_both_formats(logged, live_server):
    expected = _expected(logged)
    assert len(expected) == 23
    response = requests.get(f"{live_server}/api/v1/votes", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed, not buffered
    assert "Link" not in response.headers
    assert response.json() == {"votes": expected, "count": 23, "next_after": None}
    response = requests.get(f"{live_server}/api/v1/votes?format=csv", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="votes.csv"'
    assert response.text.splitlines()[0] == ",".join(exports.VOTE_COLUMNS)
    assert _csv_records(response.text) == expected


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_pages_follow_the_link_header_without_gaps_or_duplicates(logged, votes, live_server, fmt):
    expected = _expected(logged)
    url: str | None = f"/api/v1/votes?format={fmt}&limit=5"
    seen: list[dict] = []
    pages = 0
    while url is not None:
        response = requests.get(live_server + url, timeout=30)
        assert response.status_code == 200, response.text
        if fmt == "json":
            body = response.json()
            rows = body["votes"]
            assert body["count"] == len(rows)
            assert body["next_after"] == (rows[-1]["vote_id"] if _next(response) else None)
        else:
            rows = _csv_records(response.text)
        pages += 1
        if pages == 2:
            votes.cast(4, seed=3)  # votes cast while a client pages come at the end
            expected = _expected(logged)
        url = _next(response)
        if url is not None:
            assert len(rows) == 5 and f"after={rows[-1]['vote_id']}" in url and "limit=5" in url
        seen += rows
    assert seen == expected and len(seen) == 27
    assert pages == 6  # 5 + 5 + 5 + 5 + 5 + 2


def test_resuming_after_the_last_id_seen_gets_exactly_the_rest(logged, live_server):
    expected = _expected(logged)
    middle = expected[9]["vote_id"]
    body = requests.get(f"{live_server}/api/v1/votes?after={middle}", timeout=30).json()
    assert body["votes"] == expected[10:] and body["next_after"] is None
    last = expected[-1]["vote_id"]
    body = requests.get(f"{live_server}/api/v1/votes?after={last}&limit=3", timeout=30).json()
    assert body == {"votes": [], "count": 0, "next_after": None}
    body = requests.get(f"{live_server}/api/v1/votes?limit=23", timeout=30)
    assert body.json()["count"] == 23 and "Link" not in body.headers  # exactly the end


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        (f"limit={exports.MAX_PAGE + 1}", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("limit=1e3", "limit"),
        ("after=-1", "after"),
        ("after=1.5", "after"),
        ("after=%D9%A3", "after"),
        (f"after={2**63}", "after"),
        ("after=99999999999999999999999", "after"),
        ("format=xml&limit=5", "format"),
        ("format=jsonl", "format"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(logged, query, field):
    response = logged.test_client().get(f"/api/v1/votes?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == field


def test_dumps_are_404_before_the_first_and_served_with_validators_after(
    logged, live_server, tmp_path
):
    for path in ("/api/v1/dumps", "/api/v1/dumps/votes.csv.gz"):
        response = requests.get(live_server + path, timeout=30)
        assert response.status_code == 404
        assert "no dump has been written yet" in response.json()["error"]["message"]
    assert requests.get(f"{live_server}/api/v1/dumps/secret_key", timeout=30).status_code == 404
    result = logged.test_cli_runner().invoke(args=["export", "dump"])
    assert result.exit_code == 0, result.output
    assert "Dumped 23 votes" in result.output

    index = requests.get(f"{live_server}/api/v1/dumps", timeout=30).json()
    assert index["votes"] == 23 and [f["name"] for f in index["files"]] == list(dumps.FILES)
    expected = _expected(logged)
    for item in index["files"]:
        response = requests.get(live_server + item["url"], timeout=30)
        assert (
            response.status_code == 200 and response.headers["Content-Type"] == "application/gzip"
        )
        assert int(response.headers["Content-Length"]) == item["bytes"] == len(response.content)
        assert response.headers["ETag"] and response.headers["Last-Modified"]
        text = gzip.decompress(response.content).decode()
        if item["name"] == "votes.csv.gz":
            assert _csv_records(text) == expected
        elif item["name"] == "votes.jsonl.gz":
            assert [json.loads(line) for line in text.splitlines()] == expected
        elif item["name"] == "leaderboards.jsonl.gz":
            overall = requests.get(f"{live_server}/api/v1/leaderboards/overall", timeout=30)
            assert json.loads(text.splitlines()[0]) == overall.json()
    url = f"{live_server}/api/v1/dumps/votes.csv.gz"
    first = requests.get(url, timeout=30)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and not again.content
    part = requests.get(url, headers={"Range": "bytes=0-9"}, timeout=30)
    assert part.status_code == 206 and part.content == first.content[:10]

    with logged.app_context():
        dumps.write_dump(get_db(), dumps.dump_folder(logged.config["MEDIA_DIR"]), "other key")
    changed = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert changed.status_code == 200 and changed.content != first.content


def test_cli_export_streams_votes_in_every_format(logged, tmp_path):
    runner = logged.test_cli_runner()
    expected = _expected(logged)
    out = tmp_path / "votes.csv"
    result = runner.invoke(args=["export", "votes", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _csv_records(out.read_text()) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    result = runner.invoke(args=["export", "votes", "--format", "json"])
    assert json.loads(result.stdout) == {"votes": expected, "count": 23, "next_after": None}
    result = runner.invoke(args=["export", "votes", "--format", "jsonl", "--limit", "4"])
    assert [json.loads(line) for line in result.stdout.splitlines()] == expected[:4]
    after = expected[19]["vote_id"]
    result = runner.invoke(args=["export", "votes", "--format", "json", "--after", str(after)])
    assert json.loads(result.stdout)["votes"] == expected[20:]
    bad = runner.invoke(args=["export", "leaderboard", "--format", "jsonl"])
    assert bad.exit_code == 2 and "jsonl" in bad.output


def test_paged_votes_and_dump_answers_are_as_documented(logged):
    """The answers schemathesis cannot reach by itself (a next page, a written dump, 304)
    against arena/web/openapi.yaml: status, content type, headers and body."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", logged)
    client = logged.test_client()

    def conforms(path: str, response, **case) -> None:
        schema[path]["GET"].Case(**case).validate_response(response, checks=checks)

    page = client.get("/api/v1/votes?limit=5&after=0")
    assert page.headers["Link"] and page.get_json()["next_after"] is not None
    conforms("/api/v1/votes", page, query={"limit": 5, "after": 0})
    conforms("/api/v1/votes", client.get("/api/v1/votes?format=csv&limit=5"))
    conforms("/api/v1/dumps", client.get("/api/v1/dumps"))  # 404 before the first dump
    assert logged.test_cli_runner().invoke(args=["export", "dump"]).exit_code == 0
    conforms("/api/v1/dumps", client.get("/api/v1/dumps"))
    for name in dumps.FILES:
        # A file answer holds the file open until the response is closed (a server closes it).
        with client.get(f"/api/v1/dumps/{name}") as response:
            assert response.status_code == 200
            conforms("/api/v1/dumps/{name}", response, path_parameters={"name": name})
            etag = response.headers["ETag"]
        with client.get(f"/api/v1/dumps/{name}", headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304
            conforms("/api/v1/dumps/{name}", again, path_parameters={"name": name})
