"""How ``arena serve`` runs gunicorn: its command line, and the hooks of its
``--config python:arena.gunicorn_conf`` (Prometheus multiprocess bookkeeping).

:func:`command_line` makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` (prefix ``METRICS_DIR_PREFIX``)
before gunicorn starts; a dead worker's live gauges are dropped (``child_exit``), its counters
kept, and the folder is removed when the server exits (``on_exit``). gunicorn takes every
module-level name that is one of its settings (lower case), so only the hooks are named so.

The default worker class is gthread: a worker's main loop accepts connections and keeps idle
ones (silent or kept alive) off the request threads, and a client that trickles its request
holds one of the worker's threads (``arena serve --threads``, 32), not the whole process as a
sync worker would.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

#: The prefix of the metrics folders ``arena serve`` makes (and ``on_exit`` removes).
METRICS_DIR_PREFIX = "arena-metrics-"


def command_line(host: str, port: int, workers: int, threads: int, worker_class: str) -> list[str]:
    """gunicorn's argv for ``arena serve``; sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh folder
    (before any worker imports prometheus_client, which picks its mode then)."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_DIR_PREFIX)
    return [
        *(sys.executable, "-m", "gunicorn", "--config", "python:arena.gunicorn_conf"),
        *("--worker-class", worker_class, "--workers", str(workers)),
        # Not for sync: gunicorn turns a sync worker with threads into gthread.
        *(("--threads", str(threads)) if worker_class == "gthread" else ()),
        *("--bind", f"{host}:{port}", "--access-logfile", "-", "arena.wsgi:app"),
    ]


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: forget its live gauges (its counts stay in the totals)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, path)


def on_exit(server: Any) -> None:
    """The server stops: remove the metrics folder ``arena serve`` made for this start."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and os.path.basename(path.rstrip("/")).startswith(METRICS_DIR_PREFIX):
        shutil.rmtree(path, ignore_errors=True)
