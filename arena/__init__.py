"""Arena: an open, self-hostable Elo arena for text-to-image models (create_app only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app only: services and ratings load without it
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Args:
        test_config: settings that override the defaults and the ``ARENA_*`` environment
            (tests pass their database URL and media directory here).

    Returns:
        The configured app with the database, CLI and blueprints registered, and, when
        ``AUTOPUBLISH`` is on, the background publisher (see ``_autopublish``).

    Raises:
        arena.config.ConfigError: a required setting is missing or malformed.
    """
    from flask import Flask

    from arena import config
    from arena.cli import register_cli
    from arena.web import db, errors, register_blueprints, security

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config.load(app.instance_path, overrides=test_config))
    db.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    security.init_app(app)
    register_cli(app)
    if app.config["AUTOPUBLISH"]:
        _autopublish(app)
    return app


def _autopublish(app: Flask) -> None:
    """Run the background publisher in every process that serves this app's requests.

    The thread starts with the first request a process serves (a gunicorn worker, the
    reloader's serving child), never in the reloader's watching parent or a CLI command, and
    once per process. Its handle is ``app.extensions["arena.publisher"]``; at exit it is
    stopped, so it releases the lease for another worker to take at once.
    """
    import atexit

    from arena.services import dumps
    from arena.services.leaderboards.autopublish import BackgroundPublisher, PublishSettings

    db, config = app.extensions["arena.db"], app.config
    # After a publication, the static dumps when the last is ARENA_DUMP_EVERY seconds old.
    dump = (
        dumps.publisher_hook(
            db, config["MEDIA_DIR"], config["SECRET_KEY"], every=config["DUMP_EVERY"]
        )
        if config["DUMP_EVERY"] > 0
        else None
    )
    background = BackgroundPublisher(db, PublishSettings.from_config(config), after_publish=dump)
    app.extensions["arena.publisher"] = background
    app.before_request(background.ensure_running)
    atexit.register(background.stop, 2.0)
