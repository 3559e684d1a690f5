"""What the admin services share: form field checks, and the unit of work that commits once.

Each check reads one field from a form (a mapping of field name to submitted text) and
returns the clean value, or raises ``ValidationError`` naming the field, so the page can
show the message beside it. ``unit_of_work`` commits everything a service did, or nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.errors import Conflict, ValidationError

Form = Mapping[str, str]

#: Lowercase letters and digits in groups joined by single hyphens: ``hidream-i1-fast``.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def max_length(column: Any) -> int:
    """The length limit of a String column (``Model.name`` → 200)."""
    return column.property.columns[0].type.length


def text(form: Form, name: str, *, limit: int | None, required: bool = False) -> str | None:
    """Trimmed text, line ends as LF (browsers send CRLF); None when empty.

    Raises:
        ValidationError: empty but required, or longer than ``limit`` characters.
    """
    value = (form.get(name) or "").replace("\r\n", "\n").strip()
    if not value:
        if required:
            raise ValidationError(f"{_label(name)} is required.", field=name)
        return None
    if limit is not None and len(value) > limit:
        raise ValidationError(
            f"{_label(name)} is {len(value)} characters long; at most {limit} fit.", field=name
        )
    return value


def required_text(form: Form, name: str, *, limit: int | None) -> str:
    """Like ``text`` but never empty."""
    value = text(form, name, limit=limit, required=True)
    assert value is not None
    return value


def slug(form: Form, name: str = "slug", *, limit: int = 120) -> str:
    """A slug: lowercase letters, digits and single hyphens (``fantasy-warrior-ii``).

    Raises:
        ValidationError: empty, too long, or other characters.
    """
    value = required_text(form, name, limit=limit)
    if not SLUG.match(value):
        raise ValidationError(
            f"{_label(name)} {value!r} may hold only lowercase letters, digits and single "
            "hyphens between them (like fantasy-warrior-ii).",
            field=name,
        )
    return value


def integer(
    form: Form, name: str, *, minimum: int, maximum: int, default: int | None = None
) -> int:
    """A whole number in [minimum, maximum]; ``default`` when empty (else required).

    Raises:
        ValidationError: empty without a default, not a whole number, or out of range.
    """
    raw = (form.get(name) or "").strip()
    if not raw:
        if default is not None:
            return default
        raise ValidationError(f"{_label(name)} is required.", field=name)
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(
            f"{_label(name)} must be a whole number, got {raw!r}.", field=name
        ) from None
    if not minimum <= value <= maximum:
        raise ValidationError(
            f"{_label(name)} must be between {minimum} and {maximum}, got {value}.", field=name
        )
    return value


def price(form: Form, name: str) -> Decimal | None:
    """A price in USD, 0 or more with at most 6 decimals; None when empty (unknown).

    Raises:
        ValidationError: not a number, negative, or too precise or too large to store.
    """
    raw = (form.get(name) or "").strip().removeprefix("$")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(
            f"{_label(name)} must be a number of US dollars such as 0.003, got {raw!r}.",
            field=name,
        ) from None
    if not value.is_finite() or value < 0:
        raise ValidationError(f"{_label(name)} must be 0 or more, got {raw!r}.", field=name)
    if value != value.quantize(Decimal("0.000001")) or value >= 10**6:
        raise ValidationError(
            f"{_label(name)} must be below 1,000,000 with at most 6 decimals, got {raw!r}.",
            field=name,
        )
    return value.quantize(Decimal("0.000001"))


def date(form: Form, name: str) -> dt.date | None:
    """An ISO date (``2025-04-01``); None when empty (unknown).

    Raises:
        ValidationError: not a YYYY-MM-DD date.
    """
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            f"{_label(name)} must be a date as YYYY-MM-DD, got {raw!r}.", field=name
        ) from None


def url(form: Form, name: str, *, limit: int) -> str | None:
    """An http(s) URL; None when empty.

    Raises:
        ValidationError: too long, or not an absolute http or https URL.
    """
    value = text(form, name, limit=limit)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValidationError(
            f"{_label(name)} must be an http:// or https:// address, got {value!r}.", field=name
        )
    return value


def choice(form: Form, name: str, choices: tuple[str, ...], *, default: str | None = None) -> str:
    """One of ``choices``; ``default`` when empty.

    Raises:
        ValidationError: empty without a default, or not one of the choices.
    """
    value = (form.get(name) or "").strip() or default
    if value not in choices:
        raise ValidationError(
            f"{_label(name)} must be one of {', '.join(choices)}, got {value or ''!r}.",
            field=name,
        )
    return value


def word_list(form: Form, name: str, *, limit: int = 80) -> list[str]:
    """Comma-separated words (tags, modes), trimmed, empty ones dropped, duplicates once.

    Raises:
        ValidationError: an item longer than ``limit`` characters.
    """
    items: list[str] = []
    for item in (form.get(name) or "").split(","):
        item = item.strip()
        if len(item) > limit:
            raise ValidationError(
                f"{_label(name)}: {item[:20]!r}… is longer than {limit} characters.", field=name
            )
        if item and item not in items:
            items.append(item)
    return items


def line_list(form: Form, name: str, *, limit: int = 2000) -> list[str]:
    """One item per line (curated prompts, notes), trimmed, empty lines dropped.

    Raises:
        ValidationError: a line longer than ``limit`` characters.
    """
    items = [line.strip() for line in (form.get(name) or "").splitlines() if line.strip()]
    for item in items:
        if len(item) > limit:
            raise ValidationError(
                f"{_label(name)}: a line is longer than {limit} characters.", field=name
            )
    return items


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@contextmanager
def unit_of_work(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll all of it back.

    A unique or foreign-key violation the checks before it could not see (two admins saving
    at once) becomes a ``Conflict``, so nothing is half-written and the page says why.

    Raises:
        Conflict: the database refused the write with an integrity error.
    """
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            "The database refused this change because it conflicts with another row "
            f"(perhaps saved a moment ago by someone else): {exc.orig}"
        ) from None
    except BaseException:
        session.rollback()
        raise
