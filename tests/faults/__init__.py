"""Fault tests: killed workers, a restarted database, a full disk (``pytest -m faults``)."""
