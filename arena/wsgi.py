"""WSGI entry point for gunicorn and other servers: ``arena.wsgi:app``."""

from arena import create_app

app = create_app()
