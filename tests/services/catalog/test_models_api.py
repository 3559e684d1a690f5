"""What the models API lists: every model, its standing, its schema on request."""

from __future__ import annotations

from arena.services.catalog import listing, models_api
from arena.services.catalog.model_page import parameter_schema

HIDREAM = "hidream-i1-fast"


def test_model_created_is_unix_seconds_of_the_row(session):
    model = listing.get_model(session, HIDREAM)
    assert models_api.model_created(model) == int(model.created_at.timestamp())


def test_model_entries_list_every_model_by_slug_without_standing_before_votes(session):
    entries = models_api.model_entries(session)
    slugs = [e.model.slug for e in entries]
    assert slugs == sorted(slugs) and HIDREAM in slugs
    assert all(e.standing is None and e.schema is None for e in entries)


def test_model_entry_carries_the_schema_only_when_asked(session):
    plain = models_api.model_entry(session, HIDREAM)
    assert plain.model.slug == HIDREAM and plain.schema is None and plain.standing is None
    with_schema = models_api.model_entry(session, HIDREAM, schema=True)
    assert with_schema.schema == parameter_schema(with_schema.model)
