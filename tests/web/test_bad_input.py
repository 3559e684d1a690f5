"""Bad input to every POST and every path and query parameter: a helpful 4xx, never a 500.

Malformed JSON, bodies of the wrong shape, unknown fields, wrong types for every field,
strings as long as the body limit allows, deep nesting, NUL bytes, lone surrogates,
right-to-left marks and emoji, path tricks, wrong content types and abused query
parameters go to the JSON API and to the voting forms (past CSRF, with a real token from the
page). Every answer must be a 4xx naming the problem (and the field, where there is one) and
leave the vote log, the battles and the usage log as they were. The cases only read or fail,
so one seeded app serves the whole module.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import create_engine, func, select

from arena import create_app, schema
from arena.models import ApiUsage, Battle, Vote
from arena.services import generation
from arena.services.api_keys import create_key
from arena.services.seeding import load_seeds
from arena.web.db import get_db
from tests.conftest import ROOT, fresh_database_url

COMPETITION = "fantasy-warrior-ii"
MODEL = "hidream-i1-fast"
IMAGES = "/openai/v1/images/generations"
#: The longest strings a body of the JSON API (16 KiB) and of the forms of the voting page
#: (16 KiB) leave room for, and of the image endpoint (128 KiB); longer bodies are a 413
#: (tests/web/test_bounded_requests.py).
LONG_STRING = 15_000
IMAGE_LONG_STRING = 120_000
#: An error message that echoes a long value back is no help: answers stay small.
MAX_ERROR_BYTES = 2_000


@pytest.fixture(scope="module")
def arena_app(backend: str, postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Seeds loaded into a database of its own, with the outputs of one prompt of one
    competition (enough for battles) and an API key in ``config["TEST_API_KEY"]``."""
    folder = tmp_path_factory.mktemp("bad-input")
    url = fresh_database_url(backend, postgres, folder, "badinput")
    engine = create_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    seeds = folder / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    competitions = yaml.safe_load((seeds / "competitions.yaml").read_text())
    for competition in competitions["competitions"]:
        for prompt in competition["prompts"]:
            prompt["size"] = "64x64"
    (seeds / "competitions.yaml").write_text(yaml.safe_dump(competitions, allow_unicode=True))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": url,
            "MEDIA_DIR": str(folder / "media"),
            "RATE_LIMIT": "off",
            "IP_RATE_LIMIT": "off",
            "GENERATION_BACKOFF_S": 0.0,
            "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
        }
    )
    with app.app_context(), get_db().session() as session:
        load_seeds(session, seeds)
        chosen = generation.select_competitions(session, [COMPETITION], False)
        first_prompt = chosen[0].prompts[0].id
        jobs = [
            job
            for job in generation.plan_jobs(session, chosen, app.config, "builtin").jobs
            if job.prompt_id == first_prompt
        ][:3]
        generation.run_jobs(session, jobs, app.config, workers=2)
        app.config["TEST_API_KEY"] = create_key(session, "bad-input")
    yield app
    app.extensions["arena.db"].engine.dispose()


@pytest.fixture(scope="module")
def voter(arena_app: Flask):
    """A client that already has its voter cookie."""
    client = arena_app.test_client()
    assert client.post("/api/v1/battles", json={}).status_code == 201
    return client


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context(), get_db().session() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in (Vote, Battle, ApiUsage)
        }


def _assert_json_error(response, status: int | None = None, field: str | None = None) -> dict:
    """A 4xx (``status`` if given) with the JSON error shape naming ``field``."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, text[:300])
    if status is not None:
        assert response.status_code == status, text[:300]
    assert response.mimetype == "application/json", text[:300]
    assert len(response.get_data()) < MAX_ERROR_BYTES, text[:300]
    error = response.get_json()["error"]
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    assert error["code"] and error["type"]
    if field is not None:
        assert error["field"] == field and error["param"] == field, error
    return error


# --- the JSON POST bodies ---------------------------------------------------------------------

#: Far deeper than Python's parser goes (about a thousand levels), within the 16 KiB limit.
NESTED = b"[" * 8_000 + b"]" * 8_000
#: Bodies that are not a JSON object at all: a 400 whatever the endpoint.
NOT_AN_OBJECT = {
    "invalid JSON": b'{"winner": ',
    "trailing garbage": b'{"winner": "left"} x',
    "single quotes": b"{'winner': 'left'}",
    "array": b'["left"]',
    "string": b'"left"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "invalid UTF-8": b'{"winner": "\xff\xfe"}',
    "deeply nested array": NESTED,
    "deeply nested object": b'{"a":' * 2_000 + b"1" + b"}" * 2_000,
    "NUL byte outside a string": b'{"winner": "left"}\x00',
}


def _string_cases(field: str) -> dict[str, bytes]:
    """``{field: <string>}`` with strings no slug, winner or model can be."""
    values = {
        "15 kB string": "a" * LONG_STRING,
        "NUL": "\x00",
        "NUL inside": "fantasy\x00warrior",
        "right-to-left override": "\u202eroirraw-ysatnaf",
        "emoji": "🦊⚔️",
        "zero-width joiner": "left\u200d",
        "whitespace": " \t\n",
        "path traversal": "../../etc/passwd",
        "SQL": "' OR 1=1 --",
    }
    cases = {name: json.dumps({field: value}).encode() for name, value in values.items()}
    # Python's JSON parser lets a lone surrogate through, as an escape or as raw bytes.
    cases["lone surrogate"] = b'{"%s": "\\ud800"}' % field.encode()
    cases["lone surrogate raw bytes"] = b'{"%s": "\xed\xa0\x80"}' % field.encode()
    return cases


BATTLE_BODIES: list[tuple[str, bytes, int | None, str | None]] = [
    *((name, body, 400, None) for name, body in NOT_AN_OBJECT.items()),
    *(
        (f"competition {t}", json.dumps({"competition": v}).encode(), 400, "competition")
        for t, v in [("number", 1), ("true", True), ("array", []), ("object", {"a": 1})]
    ),
    ("competition too long", json.dumps({"competition": "a" * 121}).encode(), 400, "competition"),
    ("unknown field", b'{"competition": "fantasy-warrior-ii", "colour": "red"}', 400, "colour"),
    ("unknown field only", b'{"size": 2, "sizes": 4}', 400, "sizes"),
    ("unknown field name 10 kB", json.dumps({"x" * 10_000: 1}).encode(), 400, None),
    (
        "competition nested deeply",
        b'{"competition": ' + b"[" * 40 + b"]" * 40 + b"}",
        400,
        None,
    ),
    *(
        (f"competition {name}", body, None, "competition")
        for name, body in _string_cases("competition").items()
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [pytest.param(b, s, f, id=name) for name, b, s, f in BATTLE_BODIES],
)
def test_create_battle_bad_body_is_a_4xx_and_issues_nothing(arena_app, voter, body, status, field):
    before = _counts(arena_app)
    response = voter.post("/api/v1/battles", data=body, content_type="application/json")
    _assert_json_error(response, status, field)
    assert _counts(arena_app) == before


VOTE_BODIES: list[tuple[str, bytes, str | None]] = [
    ("empty", b"", None),
    ("empty object", b"{}", "winner"),
    ("winner missing", b"{}", "winner"),
    ("unknown field", b'{"choice": "left"}', "choice"),
    ("unknown field beside winner", b'{"winner": "left", "why": "nice"}', "why"),
    ("winner and best", b'{"winner": "left", "best": 0}', "winner"),
    *((name, body, None) for name, body in NOT_AN_OBJECT.items()),
    *(
        (f"winner {t}", json.dumps({"winner": v}).encode(), "winner")
        for t, v in [
            ("null", None),
            ("number", 1),
            ("true", True),
            ("array", ["left"]),
            ("object", {"side": "left"}),
            ("upper case", "LEFT"),
            ("padded", " left"),
            ("unknown", "maybe"),
            ("empty", ""),
        ]
    ),
    ("winner nested deeply", b'{"winner": ' + b"[" * 40 + b"]" * 40 + b"}", None),
    *((f"winner {name}", body, "winner") for name, body in _string_cases("winner").items()),
]


@pytest.mark.parametrize(
    ("body", "field"), [pytest.param(b, f, id=name) for name, b, f in VOTE_BODIES]
)
def test_vote_bad_body_is_a_400_and_records_nothing(arena_app, voter, body, field):
    token = voter.post("/api/v1/battles", json={}).get_json()["token"]
    before = _counts(arena_app)
    response = voter.post(
        f"/api/v1/battles/{token}/vote", data=body, content_type="application/json"
    )
    _assert_json_error(response, 400, field)
    assert _counts(arena_app) == before


def test_vote_after_a_bad_body_still_counts(arena_app, voter):
    """A refused body leaves the battle unclaimed: the same token then takes its vote."""
    token = voter.post("/api/v1/battles", json={}).get_json()["token"]
    url = f"/api/v1/battles/{token}/vote"
    for body in (b'{"winner": "\\ud800"}', NESTED, b"[]"):
        assert voter.post(url, data=body, content_type="application/json").status_code == 400
    before = _counts(arena_app)
    assert voter.post(url, json={"winner": "left"}).status_code == 200
    assert _counts(arena_app)["votes"] == before["votes"] + 1
    _assert_json_error(voter.post(url, json={"winner": "left"}), 409, "token")


IMAGE_FIELDS: list[tuple[str, Any, int, str]] = [
    ("model", None, 400, "model"),
    ("model", 1, 400, "model"),
    ("model", "", 400, "model"),
    ("model", ["hidream-i1-fast"], 400, "model"),
    ("model", "a" * IMAGE_LONG_STRING, 404, "model"),
    ("model", "\x00", 404, "model"),
    ("model", "hidream-i1-fast\x00", 404, "model"),
    ("model", "\u202etsaf-1i-maerdih", 404, "model"),
    ("model", "🦊", 404, "model"),
    ("model", "../hidream-i1-fast", 404, "model"),
    ("prompt", None, 400, "prompt"),
    ("prompt", 1, 400, "prompt"),
    ("prompt", ["a fox"], 400, "prompt"),
    ("negative_prompt", 1, 400, "negative_prompt"),
    ("negative_prompt", None, 400, "negative_prompt"),
    ("seed", "7", 400, "seed"),
    ("seed", 1.5, 400, "seed"),
    ("seed", True, 400, "seed"),
    ("size", 64, 400, "size"),
    ("size", "64x64x64", 400, "size"),
    ("size", "1x1", 400, "size"),
    ("size", "99999x99999", 400, "size"),
    ("size", "0:0", 400, "size"),
    ("size", "x" * IMAGE_LONG_STRING, 400, "size"),
    ("size", "６４x６４", 400, "size"),
    ("aspect_ratio", 1.5, 400, "aspect_ratio"),
    ("aspect_ratio", "1:100", 400, "aspect_ratio"),
    ("resolution", "8K", 400, "resolution"),
    ("resolution", "", 400, "resolution"),
    ("response_format", "xml", 400, "response_format"),
    ("output_format", "bmp", 400, "output_format"),
    ("output_format", "../png", 400, "output_format"),
    ("output_compression", 101, 400, "output_compression"),
    ("output_compression", -1, 400, "output_compression"),
    ("output_compression", "50", 400, "output_compression"),
    ("n", 0, 400, "n"),
    ("n", 5, 400, "n"),
    ("n", 10**30, 400, "n"),
    ("n", "2", 400, "n"),
    ("n", 2.5, 400, "n"),
    ("n", True, 400, "n"),
    ("n", None, 400, "n"),
    ("no_such_parameter", 1, 400, "no_such_parameter"),
    ("x" * 100, 1, 400, "x" * 100),
]


def _image_body(field: str, value: Any) -> bytes:
    """A small valid request with ``field`` set to ``value``."""
    body = {"model": MODEL, "prompt": "a fox", "size": "64x64"}
    if field in ("aspect_ratio", "resolution"):
        del body["size"]  # a WxH size with either is refused for that reason alone
    return json.dumps({**body, field: value}).encode()


IMAGE_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("empty", b"", 400, None),
    *((name, body, 400, None) for name, body in NOT_AN_OBJECT.items()),
    *(
        (f"{field[:20]} {value!r:.30}", _image_body(field, value), status, expected)
        for field, value, status, expected in IMAGE_FIELDS
    ),
    (
        "size with aspect_ratio",
        json.dumps(
            {"model": MODEL, "prompt": "x", "size": "64x64", "aspect_ratio": "1:1"}
        ).encode(),
        400,
        "size",
    ),
    (
        "NaN compression",
        b'{"model": "hidream-i1-fast", "prompt": "x", "size": "64x64", "output_compression": NaN}',
        400,
        "output_compression",
    ),
    (
        "Infinity seed",
        b'{"model": "hidream-i1-fast", "prompt": "x", "size": "64x64", "seed": Infinity}',
        400,
        "seed",
    ),
    (
        "model as lone surrogate",
        b'{"model": "\\ud800", "prompt": "x", "size": "64x64"}',
        404,
        "model",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [pytest.param(b, s, f, id=name) for name, b, s, f in IMAGE_BODIES],
)
def test_image_bad_body_is_a_4xx_and_logs_no_usage(arena_app, body, status, field):
    client = arena_app.test_client()
    before = _counts(arena_app)
    headers = {"Authorization": f"Bearer {arena_app.config['TEST_API_KEY']}"}
    response = client.post(IMAGES, data=body, content_type="application/json", headers=headers)
    _assert_json_error(response, status, field)
    assert _counts(arena_app) == before


def test_image_whole_numbers_written_as_floats_are_integers(arena_app):
    """JSON Schema counts 2.0 as an integer, so the endpoint must too (it was a 500)."""
    body = {"model": MODEL, "prompt": "a fox", "size": "64x64", "response_format": "b64_json"}
    body |= {"n": 2.0, "seed": 7.0, "output_format": "webp", "output_compression": 50.0}
    headers = {"Authorization": f"Bearer {arena_app.config['TEST_API_KEY']}"}
    response = arena_app.test_client().post(IMAGES, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["data"]) == 2


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer arena-nope", "Bearer \x00"],
)
def test_image_without_a_valid_key_is_a_401(arena_app, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {"model": MODEL, "prompt": "a fox", "size": "64x64"}
    before = _counts(arena_app)
    response = arena_app.test_client().post(IMAGES, json=body, headers=headers)
    _assert_json_error(response, 401)
    assert _counts(arena_app) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"winner": "left"}'),
        ("application/x-www-form-urlencoded", b"winner=left&competition=fantasy-warrior-ii"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="winner"',
        ),
        ("application/xml", b"<winner>left</winner>"),
        ("text/html; charset=utf-8", b'{"winner": "left"}'),
        ("application/javascript", b'{"winner": "left"}'),
    ],
)
@pytest.mark.parametrize("target", ["battles", "vote"])
def test_api_post_with_another_content_type_is_a_415(arena_app, voter, target, content_type, body):
    path = "/api/v1/battles"
    if target == "vote":
        path = f"/api/v1/battles/{voter.post(path, json={}).get_json()['token']}/vote"
    before = _counts(arena_app)
    response = voter.post(path, data=body, content_type=content_type)
    _assert_json_error(response, 415, "Content-Type")
    assert _counts(arena_app) == before


# --- path parameters --------------------------------------------------------------------------

LONG = "a" * 10_000


@pytest.mark.parametrize(
    "token",
    [
        "..",
        "%2e%2e%2f",
        "..%2F..%2Fadmin",
        "%00",
        "abc%00def",
        LONG,
        "%F0%9F%A6%8A",
        "%ED%A0%80",
        "%FF",
    ],
)
def test_vote_on_a_tricky_token_is_a_404(arena_app, voter, token):
    before = _counts(arena_app)
    response = voter.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
    _assert_json_error(response, 404)
    assert _counts(arena_app) == before


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/leaderboards/category:..%2F..%2Fx", 404, None),
        ("/api/v1/leaderboards/category:..", 404, "scope"),
        ("/api/v1/leaderboards/category:%00", 404, "scope"),
        ("/api/v1/leaderboards/competition:%ED%A0%80", 404, "scope"),
        ("/api/v1/leaderboards/competition:%E2%80%AE", 404, "scope"),
        ("/api/v1/leaderboards/competition:" + LONG, 404, "scope"),
        ("/api/v1/leaderboards/%00", 400, "scope"),
        ("/api/v1/leaderboards/model:sdxl", 400, "scope"),
        ("/api/v1/leaderboards/category:", 400, "scope"),
        ("/api/v1/leaderboards/Overall", 400, "scope"),
        ("/api/v1/leaderboards/overall%20", 400, "scope"),
        ("/v1/models/%00", 404, "model"),
        ("/v1/models/..", 404, "model"),
        ("/v1/models/..%2F..%2Fapi", 404, None),
        ("/v1/models/%ED%A0%80", 404, "model"),
        ("/v1/models/" + LONG, 404, "model"),
        ("/openai/v1/models/%00", 404, "model"),
        ("/openai/v1/models/%F0%9F%A6%8A", 404, "model"),
        ("/openai/v1/images/..%2F..%2Fetc%2Fpasswd", 404, None),
        ("/openai/v1/images/%00", 404, None),
        ("/openai/v1/images/" + "0" * 32 + ".png", 404, None),
        ("/openai/v1/images/" + "0" * 32 + ".png%00.txt", 404, None),
        ("/openai/v1/images/" + "0" * 32 + ".py", 404, None),
        ("/openai/v1/images/" + LONG + ".png", 404, None),
    ],
)
def test_tricky_path_parameter_is_a_json_4xx(arena_app, path, status, field):
    _assert_json_error(arena_app.test_client().get(path), status, field)


# --- query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/leaderboards/overall?format=xml", "format"),
        ("/api/v1/leaderboards/overall?format=", "format"),
        ("/api/v1/leaderboards/overall?format=CSV", "format"),
        ("/api/v1/leaderboards/overall?format=%00", "format"),
        ("/api/v1/votes?format=xml", "format"),
        ("/api/v1/votes?format=json%00", "format"),
        ("/api/v1/leaderboards/overall?snapshot=-1", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=99999999999999999999", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=2147483648", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=1.5", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=1e3", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=%20%31", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=%C2%B2", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=%D9%A3", "snapshot"),
        ("/api/v1/leaderboards/overall?snapshot=%00", "snapshot"),
        ("/v1/models/hidream-i1-fast?schema=maybe", "schema"),
        ("/v1/models/hidream-i1-fast?schema=", "schema"),
        ("/openai/v1/models/hidream-i1-fast?schema=%00", "schema"),
    ],
)
def test_abused_query_parameter_is_a_400_naming_it(arena_app, path, field):
    _assert_json_error(arena_app.test_client().get(path), 400, field)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leaderboards/overall?snapshot=2147483647",
        "/api/v1/leaderboards/overall?snapshot=0",
        "/api/v1/leaderboards/competition:fantasy-warrior-ii?snapshot=1&format=csv",
    ],
)
def test_well_formed_unknown_snapshot_is_a_404(arena_app, path):
    _assert_json_error(arena_app.test_client().get(path), 404, "snapshot")


# --- the voting forms -------------------------------------------------------------------------


def _page_form(client) -> dict[str, str]:
    """The hidden fields of a fresh voting page: battle token and CSRF token."""
    html = client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    fields = dict(re.findall(r'name="(token|csrf_token)" value="([^"]+)"', html))
    assert set(fields) == {"token", "csrf_token"}, html[:500]
    return fields


def _assert_page_error(response, status: int, text: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:500]
    assert text in page, page[:2000]


@pytest.mark.parametrize(
    ("changes", "status", "text"),
    [
        ({"token": None}, 400, "lost its battle token"),
        ({"token": ""}, 400, "lost its battle token"),
        ({"winner": None}, 400, "winner must be one of"),
        ({"winner": ""}, 400, "winner must be one of"),
        ({"winner": "maybe"}, 400, "winner must be one of"),
        ({"winner": "LEFT"}, 400, "winner must be one of"),
        ({"winner": "left\x00"}, 400, "winner must be one of"),
        ({"winner": "a" * LONG_STRING}, 400, "winner must be one of"),
        ({"winner": "🦊"}, 400, "winner must be one of"),
        ({"token": "no-such-token"}, 404, "no battle has this token"),
        ({"token": "\x00"}, 404, "no battle has this token"),
        ({"token": "../../etc/passwd"}, 404, "no battle has this token"),
        ({"token": "\u202e" + "a" * 40}, 404, "no battle has this token"),
        ({"token": "a" * LONG_STRING}, 404, "no battle has this token"),
    ],
)
def test_vote_form_bad_field_is_a_4xx_page_and_records_nothing(arena_app, changes, status, text):
    client = arena_app.test_client()
    form = {**_page_form(client), "winner": "left", "competition": COMPETITION}
    for name, value in changes.items():
        if value is None:
            del form[name]
        else:
            form[name] = value
    before = _counts(arena_app)
    _assert_page_error(client.post("/arena/vote", data=form), status, text)
    assert _counts(arena_app) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"token": "x", "winner": "left"})),
        ("text/plain", "token=x&winner=left"),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
def test_vote_form_in_another_content_type_is_a_400(arena_app, content_type, body):
    """Past CSRF (the token in the header), the form fields are simply not there."""
    client = arena_app.test_client()
    form = _page_form(client)
    before = _counts(arena_app)
    response = client.post(
        "/arena/vote",
        data=body,
        content_type=content_type,
        headers={"X-CSRFToken": form["csrf_token"]},
    )
    _assert_page_error(response, 400, "lost its battle token")
    assert _counts(arena_app) == before


@pytest.mark.parametrize(
    "competition", ["\x00", "no-such-competition", "../../admin", "🦊", "a" * 10_000]
)
def test_next_battle_form_for_an_unknown_competition_is_a_404(arena_app, competition):
    client = arena_app.test_client()
    form = {"csrf_token": _page_form(client)["csrf_token"], "competition": competition}
    before = _counts(arena_app)
    response = client.post("/arena/next", data=form, headers={"HX-Request": "true"})
    _assert_page_error(response, 404, "no competition with slug")
    assert _counts(arena_app) == before


@pytest.mark.parametrize("path", ["/arena/vote", "/arena/next"])
@pytest.mark.parametrize(
    "csrf_token",
    [None, "", "forged", "a" * LONG_STRING, "\x00", "IjEyMyI.ZZZZZZ.forged-signature"],
)
def test_form_without_a_valid_csrf_token_is_a_400_saying_so(arena_app, path, csrf_token):
    client = arena_app.test_client()
    form = {**_page_form(client), "winner": "left", "competition": COMPETITION}
    if csrf_token is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = csrf_token
    before = _counts(arena_app)
    response = client.post(path, data=form)
    _assert_page_error(response, 400, "This form could not be accepted")
    assert "CSRF" in response.get_data(as_text=True)
    assert _counts(arena_app) == before


def test_csrf_token_of_another_session_is_refused(arena_app):
    form = {**_page_form(arena_app.test_client()), "winner": "left"}
    before = _counts(arena_app)
    response = arena_app.test_client().post("/arena/vote", data=form)
    _assert_page_error(response, 400, "CSRF")
    assert _counts(arena_app) == before
