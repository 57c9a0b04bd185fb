"""Sessions: materializing an occurrence (idempotent) and changing a session's state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import is_postgres
from therabee.db.models import Series, Session, new_id
from therabee.scheduling.expand import Occurrence
from therabee.services import clock, jobs
from therabee.services.errors import conflict

_MEETING_LIVE = ("creating", "created")


def _insert(db: DbSession):
    return postgresql.insert if is_postgres(db) else sqlite.insert


def materialize(db: DbSession, series: Series, occurrence: Occurrence) -> tuple[Session, bool]:
    """The session of `occurrence`, inserted if missing (`INSERT … ON CONFLICT DO NOTHING`).

    Returns the row and whether this call created it; a new one queues its meeting.
    Overlapping another active session of the therapist is a conflict (rule 5).
    """
    now = clock.now()
    values = dict(id=new_id(), series_id=series.id, therapist_id=series.therapist_id,
                  client_id=series.client_id, original_start=occurrence.original_start,
                  start=occurrence.start, end=occurrence.end, status="scheduled",
                  meeting_state="none", created_at=now, updated_at=now)
    statement = _insert(db)(Session).values(**values).on_conflict_do_nothing(
        index_elements=["series_id", "original_start"]).returning(Session.id)
    try:
        with db.begin_nested():
            created = db.execute(statement).first() is not None
    except sa.exc.IntegrityError as exc:
        raise conflict("The therapist already has a session at that time", [
            {"start": occurrence.start, "end": occurrence.end,
             "occurrence_id": occurrence.id.to_string()}]) from exc
    row = db.exec(select(Session).where(Session.series_id == series.id,
                                        Session.original_start == occurrence.original_start)).one()
    if created:
        jobs.after_commit(db, "meetings.ensure", session_id=row.id)
    return row, created


def set_status(db: DbSession, row: Session, status: str) -> None:
    """Change a session's status; leaving the active set removes its meeting."""
    row.status = status
    row.updated_at = clock.now()
    if status in ("cancelled", "late_cancelled") and row.meeting_state in _MEETING_LIVE:
        jobs.after_commit(db, "meetings.delete", session_id=row.id)


def move(db: DbSession, row: Session, start: datetime, end: datetime) -> None:
    row.start, row.end, row.updated_at = start, end, clock.now()
    if row.meeting_state in _MEETING_LIVE:
        jobs.after_commit(db, "meetings.update", session_id=row.id)


def cancel_from(db: DbSession, series_id: str, from_: datetime,
                until: datetime | None = None) -> int:
    """Cancel the series' active sessions starting in `[from_, until)` (end, split, pause)."""
    query = select(Session).where(Session.series_id == series_id, Session.original_start >= from_,
                                  Session.status == "scheduled")
    if until is not None:
        query = query.where(Session.original_start < until)
    rows = list(db.exec(query))
    for row in rows:
        set_status(db, row, "cancelled")
    return len(rows)
