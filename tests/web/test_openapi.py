"""The OpenAPI document at /api/openapi.json: valid, complete, and true to the running app.

schemathesis drives the app in-process (WSGI) with requests generated from the document, on a
seeded database with outputs so that battles are really issued: every answer must be a
documented status, with the documented content type, headers and body, and never a 5xx.
Explicit requests then reach what generated data cannot: a real vote, a second vote, another
voter's battle, an expired one, and the 401, 415, 429 and 502 answers.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from arena import create_app
from arena.generation.base import ProviderError
from arena.services.api_keys import create_key
from arena.web.db import get_db
from arena.web.docs import openapi_document

COMPETITION = "fantasy-warrior-ii"
IMAGES = "/openai/v1/images/generations"
JSON_PREFIXES = ("/api/", "/v1/", "/openai/")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

#: A documented status, content type, headers and body; no 5xx.
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: ...and data the document calls invalid is refused with a 4xx.
CHECKS = [*CONFORMANCE, negative_data_rejection]

#: Fixed seed, no example database: the same requests on every run.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240601,
        "warnings": False,
        "generation": {"deterministic": True, "database": "none"},
    }
)


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    """The app without a database: enough for the document and the URL map (one backend)."""
    return create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{tmp_path}/none.db"}
    )


def _document(client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


# --- the document itself -----------------------------------------------------------------------


def test_openapi_is_served_as_json_with_this_host_as_server(bare_app):
    response = bare_app.test_client().get("/api/openapi.json", base_url="https://arena.example.org")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [
        {"url": "https://arena.example.org", "description": "this server"}
    ]
    shipped = yaml.safe_load(resources.files("arena.web").joinpath("openapi.yaml").read_text())
    assert document["paths"] == shipped["paths"]
    assert document["components"] == shipped["components"]


def _schemas(node: Any, key: str | None = None):
    """Every JSON Schema in an OpenAPI document: ``schema`` values and component schemas."""
    if isinstance(node, dict):
        if key == "schema":
            yield node
        for name, value in node.items():
            if key == "schemas" and isinstance(value, dict):
                yield value
            yield from _schemas(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from _schemas(item)


def test_openapi_is_valid_openapi_3_1_with_valid_json_schemas(bare_app):
    document = _document(bare_app.test_client())
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]  # every $ref resolves
    assert len(operations) >= 10
    schemas = list(_schemas(document))
    assert len(schemas) > 40
    for item in schemas:
        Draft202012Validator.check_schema(item)
    operation_ids = [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_openapi_documents_every_json_route_and_no_other(bare_app):
    documented = {
        (path, method)
        for path, item in _document(bare_app.test_client())["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    routed = set()
    for rule in bare_app.url_map.iter_rules():
        if rule.rule.startswith(JSON_PREFIXES):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routed) >= 11, "the JSON routes were not found"
    assert routed - documented == set(), "routes missing from arena/web/openapi.yaml"
    assert documented - routed == set(), "documented operations the app does not have"


# --- schemathesis against the app --------------------------------------------------------------


@pytest.fixture
def api_key(voting_app) -> str:
    with voting_app.app_context(), get_db().session() as session:
        return create_key(session, "schemathesis")


@pytest.fixture
def tiny_images(monkeypatch) -> None:
    """The builtin renderer swapped for one 8x8 PNG: this run checks the API, not pictures
    (tests/web/test_openai.py renders real ones), and "4K, n=4, avif" would take seconds per
    request."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    monkeypatch.setattr("arena.generation.builtin.render_png", lambda *a, **k: buffer.getvalue())


@pytest.fixture
def api_client(voting_app):
    """One client for the whole run, so the voter cookie of the first battle is kept."""
    return voting_app.test_client()


#: Loaded at collection, so that each operation is a test of its own; requests go to the
#: fixture's app in-process (``app=``).
api = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()), config=CONFIG)


@api.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    # The app is shared by every request of the run on purpose: state builds up as it would.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_answers_as_documented(case, voting_app, api_client, api_key, tiny_images):
    headers = {"Authorization": f"Bearer {api_key}"} if case.path == IMAGES else None
    case.call_and_validate(app=voting_app, session=api_client, headers=headers, checks=CHECKS)


# --- what generated data cannot reach ----------------------------------------------------------


@pytest.fixture
def document_schema(voting_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", voting_app, config=CONFIG)


def _conforms(schema, path: str, method: str, response, checks=CONFORMANCE, **case: Any) -> None:
    schema[path][method].Case(**case).validate_response(response, checks=checks)


def test_votes_answer_as_documented(voting_app, document_schema):
    vote = "/api/v1/battles/{token}/vote"
    voter = voting_app.test_client()
    battle = voter.post("/api/v1/battles", json={"competition": COMPETITION})
    _conforms(document_schema, "/api/v1/battles", "POST", battle)
    token = battle.get_json()["token"]
    answers = {}
    for status, client in ((200, voter), (409, voter)):
        answers[status] = client.post(f"/api/v1/battles/{token}/vote", json={"winner": "tie"})
    other = voting_app.test_client()
    token = other.post("/api/v1/battles", json={}).get_json()["token"]
    answers[403] = voter.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
    voting_app.config["BATTLE_TTL"] = dt.timedelta(0)
    token = voter.post("/api/v1/battles", json={}).get_json()["token"]
    answers[410] = voter.post(f"/api/v1/battles/{token}/vote", json={"winner": "right"})
    answers[415] = voter.post(
        f"/api/v1/battles/{token}/vote", data="winner=left", content_type="text/plain"
    )
    for status, response in answers.items():
        assert response.status_code == status, response.get_data(as_text=True)
        _conforms(document_schema, vote, "POST", response, path_parameters={"token": token})
    votes = voter.get("/api/v1/votes")
    assert votes.get_json()["count"] == 1
    _conforms(document_schema, "/api/v1/votes", "GET", votes)
    board = voter.get("/api/v1/leaderboards/competition:fantasy-warrior-ii")
    assert len(board.get_json()["rows"]) == 2
    _conforms(document_schema, "/api/v1/leaderboards/{scope}", "GET", board)


def test_rate_limited_answer_is_documented_with_retry_after(voting_app, document_schema):
    voting_app.config["RATE_LIMIT"] = "1/minute"
    client = voting_app.test_client()
    client.post("/api/v1/battles", json={})  # a newcomer, counted by address
    client.post("/api/v1/battles", json={})  # the voter's first
    limited = client.post("/api/v1/battles", json={})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    _conforms(document_schema, "/api/v1/battles", "POST", limited)


def test_image_answers_are_documented(voting_app, document_schema, api_key, monkeypatch):
    client = voting_app.test_client()
    body = {"model": "hidream-i1-fast", "prompt": "a red fox", "size": "64x64"}
    made = client.post(IMAGES, json=body, headers={"Authorization": f"Bearer {api_key}"})
    assert made.status_code == 200
    _conforms(document_schema, IMAGES, "POST", made)
    image = client.get(made.get_json()["data"][0]["url"].replace("http://localhost", ""))
    assert image.status_code == 200
    _conforms(document_schema, "/openai/v1/images/{name}", "GET", image)
    unauthorized = client.post(IMAGES, json=body, headers={"Authorization": "Bearer arena-nope"})
    assert unauthorized.status_code == 401
    _conforms(document_schema, IMAGES, "POST", unauthorized)

    def fail(*args: Any, **kwargs: Any):
        raise ProviderError("builtin", "out of paint", retryable=False)

    monkeypatch.setattr("arena.services.images.router.generate", fail)
    failed = client.post(IMAGES, json=body, headers={"Authorization": f"Bearer {api_key}"})
    assert failed.status_code == 502
    _conforms(document_schema, IMAGES, "POST", failed, checks=CONFORMANCE[1:])  # a 5xx on purpose
