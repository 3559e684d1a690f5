"""Blueprints per audience; ``register_blueprints`` attaches them all to the app."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the template helpers they share."""
    from arena.web import admin, api, arena, catalog, docs, leaderboards, openai, ops, pages
    from arena.web.gallery import bp as gallery_bp

    app.register_blueprint(pages.bp)
    app.register_blueprint(leaderboards.bp)
    app.register_blueprint(arena.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(catalog.api_bp)
    app.register_blueprint(gallery_bp)
    app.register_blueprint(openai.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(admin.bp)
    ops.init_app(app)  # /healthz, /metrics and the request metrics' hooks
