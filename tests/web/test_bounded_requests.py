"""Bounded requests: each route's body limit (413 before the body is read, chunked bodies cut
off at the limit, worker memory flat under real gunicorn), and JSON fields a route does not
know refused with a 400 naming them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from arena.services.api_keys import create_key
from arena.web.bodies import BODY_LIMITS, DEFAULT_BODY_LIMIT
from arena.web.db import get_db
from tests.web.test_shared_limits import serve_arena, worker_pids

KIB = 1024
MODEL = "hidream-i1-fast"
IMAGES = "/openai/v1/images/generations"
#: Seconds a 413 may take: the body is never waited for.
FAST = 0.5

#: (method, path, limit, JSON errors?) for every route that takes a body, and the default.
ROUTES = [
    ("POST", "/api/v1/battles", 16 * KIB, True),
    ("POST", "/api/v1/battles/some-token/vote", 16 * KIB, True),
    ("POST", "/api/v1/voters/verify", 16 * KIB, True),
    ("POST", IMAGES, 128 * KIB, True),
    ("POST", "/arena/vote", 16 * KIB, False),
    ("POST", "/arena/next", 16 * KIB, False),
    ("POST", "/admin/login", 256 * KIB, False),
    ("POST", "/admin/models/new", 256 * KIB, False),
    ("POST", "/", 64 * KIB, False),
]


def test_the_limits_are_the_documented_ones():
    assert dict(BODY_LIMITS) == {
        "api": 16 * KIB,
        "openai": 128 * KIB,
        "arena": 16 * KIB,
        "admin": 256 * KIB,
    }
    assert DEFAULT_BODY_LIMIT == 64 * KIB


def _assert_too_large(response, limit: int, wants_json: bool) -> None:
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    text = f"at most {limit // KIB} KiB ({limit} bytes)"
    if wants_json:
        error = response.get_json()["error"]
        assert error["code"] == "request_entity_too_large"
        assert error["type"] == "invalid_request_error" and error["param"] is None
        assert text in error["message"]
    else:
        assert response.mimetype == "text/html"
        assert text in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "limit", "wants_json"), ROUTES)
def test_each_route_refuses_a_byte_over_its_limit(app, method, path, limit, wants_json):
    client = app.test_client()
    over = client.open(path, method=method, data=b"x" * (limit + 1), content_type="text/plain")
    _assert_too_large(over, limit, wants_json)
    # Exactly the limit passes the limit (and fails later for what it is: junk, no CSRF token).
    at = client.open(path, method=method, data=b"x" * limit, content_type="text/plain")
    assert at.status_code != 413


# --- unknown fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        (
            "/api/v1/battles",
            '{"competition": "x", "foo": 1, "bar": 2}',
            "foo",
            "unknown field(s): foo, bar; this endpoint takes competition, size",
        ),
        (
            "/api/v1/battles/a-token/vote",
            '{"winner": "left", "confidence": 0.9}',
            "confidence",
            "unknown field(s): confidence; this endpoint takes winner, best, ranking",
        ),
        (
            "/api/v1/voters/verify",
            '{"altcha": "e30=", "number": 7}',
            "number",
            "unknown field(s): number; this endpoint takes altcha",
        ),
    ],
)
def test_unknown_fields_are_a_400_naming_them(app, path, body, field, message):
    before = app.test_client()
    response = before.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["field"], error["param"], error["message"]) == (field, field, message)


def test_many_unknown_fields_are_named_briefly(app):
    body = {f"field{i}": i for i in range(40)} | {"x" * 5000: 1}
    response = app.test_client().post("/api/v1/battles", json=body)
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["field"] == "field0"
    assert "field0, field1," in error["message"] and "and 31 more" in error["message"]
    assert len(response.get_data()) < 1000


@pytest.fixture
def api_key(seeded) -> str:
    with seeded.app_context(), get_db().session() as session:
        return create_key(session, "bounded")


def _generate(app, api_key: str, **fields):
    body = {"model": MODEL, "prompt": "a red fox", "size": "64x64", **fields}
    headers = {"Authorization": f"Bearer {api_key}"}
    return app.test_client().post(IMAGES, json=body, headers=headers)


def test_image_endpoint_refuses_unknown_fields_and_names_the_models_own(seeded, api_key):
    response = _generate(seeded, api_key, style="vivid", colour="red")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["param"] == error["field"] == "colour"  # the test client sorts the keys
    assert error["message"].startswith(
        f"unknown field(s): colour, style; the model {MODEL} takes model, prompt"
    )
    assert "response_format" in error["message"] and "user" in error["message"]


def test_image_endpoint_accepts_and_ignores_openais_user(seeded, api_key):
    made = _generate(seeded, api_key, user="end-user-42", n=1, response_format="b64_json")
    assert made.status_code == 200, made.get_data(as_text=True)
    for user in (None, 42, ["a"]):
        refused = _generate(seeded, api_key, user=user)
        assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "user"


# --- over real HTTP: Werkzeug's server and gunicorn ---------------------------------------------


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _raw_post(
    base: str, path: str, headers: dict[str, str], body: Iterable[bytes]
) -> tuple[int, bytes, float]:
    """POST by hand: the head, then ``body``'s parts from a thread while the answer is read.

    Returns the status, the whole answer and the seconds from the head's sending to the
    status line's arrival.
    """
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()

    def send() -> None:
        try:
            for part in body:
                sock.sendall(part)
        except OSError:
            pass  # the server answered and closed: the rest is never read

    sock.sendall(head)
    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer, arrived = b"", None
    try:
        # Until the whole answer is in: a server may keep reading (and the socket open) after.
        while not _complete(answer) and (chunk := sock.recv(65536)):
            arrived = arrived or time.perf_counter()
            answer += chunk
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1."), answer[:200]
    assert arrived is not None
    return int(answer.split()[1]), answer, arrived - started


def _json_error(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])["error"]


def _declared_50_mb(base: str) -> float:
    status, answer, seconds = _raw_post(
        base,
        "/api/v1/battles",
        {"Content-Type": "application/json", "Content-Length": "50000000"},
        [b'{"competition": "'],
    )
    assert status == 413 and _json_error(answer)["code"] == "request_entity_too_large"
    assert seconds < FAST, seconds
    return seconds


def _real_5_mb(base: str, path: str = "/api/v1/battles") -> float:
    part = b"x" * 65536
    status, answer, seconds = _raw_post(
        base,
        path,
        {"Content-Type": "application/json", "Content-Length": str(80 * len(part))},
        [part] * 80,
    )
    assert status == 413, answer[:300]
    assert seconds < FAST, seconds
    return seconds


def _chunked_5_mb(base: str, path: str = "/api/v1/battles") -> float:
    part = b"x" * 65536
    chunk = b"%x\r\n%s\r\n" % (len(part), part)
    status, answer, seconds = _raw_post(
        base,
        path,
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        [*[chunk] * 80, b"0\r\n\r\n"],
    )
    assert status == 413, answer[:300]
    assert seconds < FAST, seconds
    return seconds


def _chunked_small(base: str) -> None:
    """A chunked body within the limit is read whole (not taken for an empty one)."""
    body = b'{"size": 2, "colour": "red"}'
    status, answer, _ = _raw_post(
        base,
        "/api/v1/battles",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        [b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)],
    )
    assert status == 400 and _json_error(answer)["field"] == "colour", answer[-300:]


def test_werkzeug_server_answers_413_at_once(live_server):
    for _ in range(3):
        _declared_50_mb(live_server)
        _real_5_mb(live_server)
        _real_5_mb(live_server, "/arena/vote")
        _chunked_5_mb(live_server)
    _chunked_small(live_server)


def _peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def test_gunicorn_answers_413_at_once_with_flat_worker_memory(app, tmp_path):
    # One worker takes every request; no battle-image pool, whose background refills would
    # move the worker's memory while it is measured.
    with serve_arena(app, tmp_path, {"ARENA_VARIANT_POOL": "0"}, workers=1) as (process, base):
        workers = worker_pids(process.pid)
        assert len(workers) == 1
        paths = ["/api/v1/battles", IMAGES, "/arena/vote", "/admin/login", "/"]

        def mix() -> list[float]:
            timings = [_declared_50_mb(base)]
            timings += [_real_5_mb(base, path) for path in paths]
            return timings + [_chunked_5_mb(base, path) for path in paths]

        # Warm up every code path (imports, templates) before taking the workers' peaks.
        for _ in range(8):
            mix()
        _chunked_small(base)
        before = {pid: _peak_rss_kib(pid) for pid in workers}
        timings = [seconds for _ in range(8) for seconds in mix()]
        after = {pid: _peak_rss_kib(pid) for pid in workers}
    # 80 bodies of 5 MB went to the worker: had one been read, its peak would be 5 MB higher.
    grown = {pid: after[pid] - before[pid] for pid in workers}
    assert all(kib < 3 * 1024 for kib in grown.values()), grown
    assert max(timings) < FAST
    print(f"413 in {1000 * max(timings):.1f} ms at most; worker peak RSS grew {grown} KiB")
