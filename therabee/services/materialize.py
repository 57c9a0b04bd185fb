"""Sessions: materializing an occurrence (idempotent) and changing a session's state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import is_postgres
from therabee.db.models import MEETING_LIVE, Series, Session, new_id
from therabee.scheduling.expand import HIDDEN, RELEASED_STATUSES, Occurrence
from therabee.services import clock, jobs
from therabee.services.errors import ServiceError, conflict


def _insert(db: DbSession):
    return postgresql.insert if is_postgres(db) else sqlite.insert


def _values(series: Series, occurrence: Occurrence, now: datetime) -> dict:
    return dict(id=new_id(), series_id=series.id, therapist_id=series.therapist_id,
                client_id=series.client_id, original_start=occurrence.original_start,
                start=occurrence.start, end=occurrence.end, status="scheduled",
                meeting_state="none", created_at=now, updated_at=now)


def _insert_statement(db: DbSession, values: list[dict]):
    """Insert the sessions, or bring back a hidden one (nothing hides it any more: it is
    scheduled again, at its time); any other existing row is left as it is."""
    insert = _insert(db)(Session).values(values)
    return insert.on_conflict_do_update(
        index_elements=["series_id", "original_start"],
        set_={"status": "scheduled", "start": insert.excluded.start, "end": insert.excluded.end,
              "updated_at": insert.excluded.updated_at},
        where=Session.__table__.c.status == HIDDEN).returning(Session.id)


def materialize(db: DbSession, series: Series, occurrence: Occurrence) -> tuple[Session, bool]:
    """The session of `occurrence`, inserted if missing (`INSERT … ON CONFLICT`: idempotent;
    a hidden row is scheduled again).

    Returns the row and whether this call created (or brought back) it; such a one
    queues its meeting.
    Overlapping another active session of the therapist is a conflict (rule 5).
    """
    statement = _insert_statement(db, [_values(series, occurrence, clock.now())])
    try:
        with db.begin_nested():
            created = db.execute(statement).first() is not None
    except sa.exc.IntegrityError as exc:
        raise conflict("The therapist already has a session at that time", [
            {"start": occurrence.start, "end": occurrence.end,
             "occurrence_id": occurrence.id.to_string()}]) from exc
    row = db.exec(select(Session).where(Session.series_id == series.id,
                                        Session.original_start == occurrence.original_start)
                  .execution_options(populate_existing=True)).one()
    if created:
        jobs.after_commit(db, "meetings.ensure", session_id=row.id)
    return row, created


def materialize_many(db: DbSession, pairs: list[tuple[Series, Occurrence]],
                     chunk: int = 500) -> tuple[int, int]:
    """Materialize many occurrences with one idempotent INSERT per chunk (the horizon job).

    Returns (sessions created, conflicts). A chunk that hits the overlap constraint is
    redone one by one, so one colliding occurrence does not hold back the others.
    """
    created = conflicts = 0
    now = clock.now()
    for i in range(0, len(pairs), chunk):
        part = pairs[i:i + chunk]
        try:
            with db.begin_nested():
                ids = list(db.execute(_insert_statement(db, [_values(s, o, now) for s, o in part])).scalars())
        except sa.exc.IntegrityError:
            for series, occurrence in part:
                try:
                    created += materialize(db, series, occurrence)[1]
                except ServiceError:
                    conflicts += 1
            continue
        for session_id in ids:
            jobs.after_commit(db, "meetings.ensure", session_id=session_id)
        created += len(ids)
    return created, conflicts


def set_status(db: DbSession, row: Session, status: str) -> None:
    """Change a session's status; cancelled or hidden, it loses its meeting."""
    row.status = status
    row.updated_at = clock.now()
    if status in RELEASED_STATUSES and row.meeting_state in MEETING_LIVE:
        jobs.after_commit(db, "meetings.delete", session_id=row.id)


def move(db: DbSession, row: Session, start: datetime, end: datetime) -> None:
    """Move a session; a hidden one, moved to where nothing hides it, is scheduled again."""
    row.start, row.end, row.updated_at = start, end, clock.now()
    if row.status == HIDDEN:
        row.status = "scheduled"
        jobs.after_commit(db, "meetings.ensure", session_id=row.id)
    elif row.meeting_state in MEETING_LIVE:
        jobs.after_commit(db, "meetings.update", session_id=row.id)


def cancel_from(db: DbSession, series_id: str, from_: datetime,
                until: datetime | None = None, status: str = "cancelled") -> int:
    """Set the series' scheduled (or hidden) sessions whose original start is in
    `[from_, until)` to `status`: "cancelled" (end, split) or HIDDEN (pause)."""
    query = select(Session).where(Session.series_id == series_id, Session.original_start >= from_,
                                  Session.status.in_(("scheduled", HIDDEN)))
    # locked and re-read: the meeting state decides the job (a worker may have just changed it)
    query = query.with_for_update().execution_options(populate_existing=True)
    if until is not None:
        query = query.where(Session.original_start < until)
    rows = list(db.exec(query))
    for row in rows:
        set_status(db, row, status)
    return len(rows)
