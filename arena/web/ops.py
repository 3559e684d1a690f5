"""Operations endpoints: ``GET /healthz`` for load balancers and ``GET /metrics`` for Prometheus.

``/healthz`` answers 200 when every check passes and 503 naming the failing ones, as JSON::

    {"status": "fail", "checks": {"database": {"ok": false, "error": "..."},
                                  "media": {"ok": true, "ms": 0.4}, ...}}

The checks run in parallel, each bounded by ``CHECK_TIMEOUT``: the database answers a query
on the migrated schema, the media folder takes a file, the rate-limit store answers, and,
when ``ARENA_BROKER_URL`` is set, the broker accepts a connection. A new check is a function
of the app added to :func:`health_checks`.

``/metrics`` is the Prometheus text format (``arena.metrics``), behind a bearer token when
``ARENA_METRICS_TOKEN`` is set. Both are GETs without side effects on the arena: exempt from
CSRF and from every rate limit, never counted as votes.
"""

from __future__ import annotations

import hmac
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import text

from arena import metrics

bp = Blueprint("ops", __name__)

#: Seconds a health check may take before it is reported as failing.
CHECK_TIMEOUT = 3.0
#: Seconds a process reuses the database figures of /metrics (``METRICS_CACHE_S`` overrides).
METRICS_CACHE_S = 5.0

#: A check returns details to report (it passed) or raises (it failed, with the message).
HealthCheck = Callable[[Flask], dict[str, Any]]


def _check_database(app: Flask) -> dict[str, Any]:
    """The database answers a query on the migrated schema (through the app's own pool)."""
    with app.extensions["arena.db"].engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise RuntimeError("the database has no Arena schema yet; run `arena db upgrade`")
    return {}


def _check_media(app: Flask) -> dict[str, Any]:
    """The media folder exists (made as the first image would make it) and takes a file."""
    folder = Path(app.config["MEDIA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".healthz-", dir=folder)
    try:
        os.write(handle, b"ok")
    finally:
        os.close(handle)
        os.unlink(name)
    return {}


def _check_rate_limits(app: Flask) -> dict[str, Any]:
    """The rate-limit store (Redis, or this machine's SQLite file) answers: votes need it."""
    from arena.web.security import limiter

    if not limiter.storage.check():
        raise RuntimeError("the rate-limit store does not answer")
    return {}


def _check_broker(app: Flask) -> dict[str, Any]:
    """The broker accepts a TCP connection (a protocol-level check replaces this once the
    arena talks to a broker)."""
    url = urlsplit(app.config["BROKER_URL"])
    if not url.hostname:
        raise RuntimeError("ARENA_BROKER_URL has no host")
    with socket.create_connection((url.hostname, url.port or 5672), timeout=CHECK_TIMEOUT):
        return {}


def health_checks(app: Flask) -> dict[str, HealthCheck]:
    """The checks ``/healthz`` runs for this app, by the name it reports them under."""
    checks: dict[str, HealthCheck] = {
        "database": _check_database,
        "media": _check_media,
        "rate_limits": _check_rate_limits,
    }
    if app.config.get("BROKER_URL"):
        checks["broker"] = _check_broker
    return checks


class _Runner:
    """Runs checks in a small per-process pool. A check that hangs (a database that never
    answers) is not started again while it hangs: later probes wait on the same run, so a
    probe every few seconds cannot pile up stuck threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[tuple[int, str], Future[dict[str, Any]]] = {}

    def submit(self, app: Flask, name: str, check: HealthCheck) -> Future[dict[str, Any]]:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's threads are not ours
                self._pool = ThreadPoolExecutor(8, thread_name_prefix="arena-healthz")
                self._running = {}
                self._pid = os.getpid()
            assert self._pool is not None
            key = (id(app), name)
            future = self._running.get(key)
            if future is None or future.done():
                future = self._pool.submit(_timed, app, check)
                self._running[key] = future
            return future


def _timed(app: Flask, check: HealthCheck) -> dict[str, Any]:
    started = time.perf_counter()
    details = check(app)
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **details}


_runner = _Runner()


def _describe(exc: BaseException, app: Flask) -> str:
    """One line about a failure, without the database password."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    message = f"{type(cause).__name__}: {lines[0] if lines else ''}".strip()
    password = app.extensions["arena.db"].url.password
    if password:
        message = message.replace(str(password), "***")
    return message[:300]


def run_checks(app: Flask) -> dict[str, dict[str, Any]]:
    """Every check's result by name: ``{"ok": True, "ms": ...}`` or ``{"ok": False, "error"}``."""
    futures = {name: _runner.submit(app, name, check) for name, check in health_checks(app).items()}
    deadline = time.monotonic() + CHECK_TIMEOUT
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {CHECK_TIMEOUT:g} s"}
        except Exception as exc:  # every failure of a check is a failing check
            results[name] = {"ok": False, "error": _describe(exc, app)}
    return results


@bp.get("/healthz")
def healthz() -> Response:
    """200 when every check passes, else 503; the JSON names each check's outcome."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = run_checks(app)
    failing = sorted(name for name, result in checks.items() if not result["ok"])
    response = jsonify(
        {"status": "fail" if failing else "ok", "checks": checks, "failing": failing}
    )
    response.status_code = 503 if failing else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics_view() -> Response:
    """The Prometheus text format; 401 without the bearer token when one is configured."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response(
                "A bearer token is required (ARENA_METRICS_TOKEN).\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    collector: metrics.DatabaseCollector = current_app.extensions["arena.metrics"]
    collector.max_age = float(current_app.config.get("METRICS_CACHE_S", METRICS_CACHE_S))
    body, content_type = metrics.render(collector, request.headers.get("Accept"))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.arena_request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("arena_request_started")
    if started is not None:
        rule = request.url_rule
        metrics.observe_request(
            rule.rule if rule is not None else None,
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


def init_app(app: Flask) -> None:
    """Register the blueprint, the database collector and the request hooks.

    The timer runs before every other ``before_request`` function (a limiter refusing the
    request is timed too), and the count after every other ``after_request`` function.
    """
    from arena.web.security import csrf, limiter

    app.register_blueprint(bp)
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.extensions["arena.metrics"] = metrics.DatabaseCollector(app.extensions["arena.db"])
    # Flask runs before_request functions in order and after_request functions in reverse.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request_funcs.setdefault(None, []).insert(0, _observe)
