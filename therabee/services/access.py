"""Who may see what: a series is visible to its client and its therapist only."""

from __future__ import annotations

from sqlmodel import Session as DbSession

from therabee.db.models import Series, User
from therabee.services.errors import not_found


def visible_series(db: DbSession, actor: User, series_id: str, for_update: bool = False) -> Series:
    """The series if `actor` is its client or therapist; 404 otherwise (never 403)."""
    row = db.get(Series, series_id, with_for_update=for_update) if series_id else None
    if row is None or actor.id not in (row.client_id, row.therapist_id):
        raise not_found("series")
    return row


def series_filter(actor: User):
    """A WHERE clause for the series `actor` may see."""
    column = Series.therapist_id if actor.role == "therapist" else Series.client_id
    return column == actor.id
