"""The one conflict check (DESIGN.md rule 5): anything that adds, moves or brings back
an occurrence — including the one a `sessions_limit` series gains at its end when one of
its occurrences is cancelled, paused or hidden by time away — is checked against the therapist's busy time under their lock, and
what comes back is made due so the horizon job materializes it (with its meeting and
reminders) on its next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import Series
from therabee.scheduling.expand import Occurrence
from therabee.services.calendar_rows import collision, load
from therabee.services.errors import conflict
from therabee.services.locks import lock_therapist
from therabee.settings import get_settings

REACH = timedelta(days=1)  # longer than any session: what can collide with a window's edge


def conflict_reach() -> timedelta:
    """How far ahead a change is checked (THERABEE_CONFLICT_WINDOW_WEEKS, DESIGN.md rule 5)."""
    return timedelta(weeks=get_settings().conflict_window_weeks)


def has_limited_series(db: DbSession, therapist_id: str) -> bool:
    """Whether any series of the therapist has a `sessions_limit`: hiding or cancelling
    one of its occurrences adds one at its end, which must be checked like a booking."""
    return db.exec(select(Series.id).where(Series.therapist_id == therapist_id,
                                           Series.sessions_limit.is_not(None)).limit(1)).first() is not None


def checked_change(db: DbSession, therapist_id: str, from_: datetime, to: datetime,
                   change: Callable[[], None], detail: str,
                   chosen: Sequence[tuple[datetime, datetime]] = ()) -> list[Occurrence]:
    """Make `change` (it writes rows) and keep it only if the therapist's calendar stays
    clear over `[from_, to)`: every occurrence it adds, moves or un-hides there must be
    clear of the therapist's other reserved occurrences (buffers applied), and every
    `chosen` `(start, end)` — a time the user picked — clear of time off and holidays.

    Takes the therapist's lock first. Raises a 409 ServiceError listing the collisions
    (the caller's unit of work then rolls the change back). Returns the occurrences
    that now happen and did not (already made due for the horizon job)."""
    lock_therapist(db, therapist_id)
    before = load(db, from_ - REACH, to + REACH, therapist_id=therapist_id).calendar
    change()
    try:
        db.flush()
    except sa.exc.IntegrityError as exc:  # the sessions' exclusion constraint (PostgreSQL)
        raise conflict(detail, []) from exc
    loaded = load(db, from_ - REACH, to + REACH, therapist_id=therapist_id)
    after = loaded.calendar
    hits = after.clashes(before.claims(after, from_, to))
    for start, end in chosen:
        hits += after.away_during(start, end)
    if hits:
        raise collision(detail, sorted(set(hits), key=lambda b: b.start))
    arrivals = before.arrivals(after, from_, to)
    make_due(loaded.rows.values(), arrivals)
    return arrivals


def make_due(rows: Iterable[Series], arrivals: Iterable[Occurrence]) -> None:
    """Move each series' `next_due_at` back to its earliest arriving occurrence, so the
    next horizon tick materializes it if it is inside the horizon."""
    by_id = {row.id: row for row in rows}
    for occurrence in arrivals:
        row = by_id[occurrence.series_id]
        due = min(occurrence.original_start, occurrence.start)
        if row.next_due_at is None or due < row.next_due_at:
            row.next_due_at = due
