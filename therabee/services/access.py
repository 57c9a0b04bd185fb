"""Who may see what: a series is visible to its client and its therapist only."""

from __future__ import annotations

from sqlmodel import Session as DbSession

from therabee.db.models import Series, User
from therabee.services.errors import not_found
from therabee.services.locks import lock_therapist


def visible_series(db: DbSession, actor: User, series_id: str, for_update: bool = False) -> Series:
    """The series if `actor` is its client or therapist; 404 otherwise (never 403).

    `for_update` locks it for a change, after its therapist's lock: every path takes
    the therapist's lock before a series' row lock (and a session's after both), so two
    changes of one therapist never wait on each other in a circle."""
    row = db.get(Series, series_id) if series_id else None
    if row is None or actor.id not in (row.client_id, row.therapist_id):
        raise not_found("series")
    if for_update:
        lock_therapist(db, row.therapist_id)
        row = db.get(Series, series_id, with_for_update=True, populate_existing=True)
    return row


def series_filter(actor: User):
    """A WHERE clause for the series `actor` may see."""
    column = Series.therapist_id if actor.role == "therapist" else Series.client_id
    return column == actor.id
