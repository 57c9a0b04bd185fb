"""Occurrences: list a window (no writes), open one, cancel, move, attendance."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import OccurrenceException, Series, Session, User
from therabee.scheduling.conflicts import find_conflicts, within_availability
from therabee.scheduling.expand import ACTIVE_STATUSES, Occurrence, is_occurrence
from therabee.scheduling.ids import InvalidOccurrenceId, OccurrenceId
from therabee.scheduling.timezones import utc
from therabee.services import clock, materialize
from therabee.services.access import series_filter, visible_series
from therabee.services.availability import load_availability, weekly_hours
from therabee.services.errors import invalid, not_found
from therabee.services.locks import lock_therapist
from therabee.services.practice import check_timing, rules_for
from therabee.services.window import (collision, expand_rows, series_in_window, series_spec,
                                      therapist_busy)
from therabee.settings import get_settings


def occurrence_public(series: Series, occurrence: Occurrence) -> dict:
    return {"id": occurrence.id.to_string(), "series_id": occurrence.series_id,
            "therapist_id": series.therapist_id, "client_id": series.client_id,
            "original_start": occurrence.original_start, "start": occurrence.start,
            "end": occurrence.end, "status": occurrence.status,
            "materialized": occurrence.materialized, "join_url": occurrence.join_url}


def check_window(from_: datetime, to: datetime) -> tuple[datetime, datetime]:
    from_, to = utc(from_), utc(to)
    if to <= from_:
        raise invalid("to", "must be after from")
    days = get_settings().max_list_days
    if to - from_ > timedelta(days=days):
        raise invalid("to", f"the window may span at most {days} days")
    return from_, to


def list_occurrences(actor: User, from_: datetime, to: datetime, therapist_id: str | None = None,
                     series_id: str | None = None) -> list[dict]:
    """Every occurrence the actor may see in `[from_, to)`. Reads only."""
    from_, to = check_window(from_, to)
    conditions = [series_filter(actor)]
    if therapist_id is not None:
        conditions.append(Series.therapist_id == therapist_id)
    with read_only() as db:
        if series_id is not None:
            visible_series(db, actor, series_id)
            conditions.append(Series.id == series_id)
        rows = series_in_window(db, from_, to, *conditions)
        return [occurrence_public(s, o) for s, o in expand_rows(db, rows, from_, to)]


def _find(db: DbSession, actor: User, occurrence_id: str, for_update: bool = False) -> tuple[Series, Occurrence]:
    try:
        ident = OccurrenceId.from_string(occurrence_id)
    except InvalidOccurrenceId as exc:
        raise not_found("occurrence") from exc
    row = visible_series(db, actor, ident.series_id, for_update=for_update)
    window = expand_rows(db, [row], ident.original_start - timedelta(days=1),
                         ident.original_start + timedelta(days=1))
    session = db.exec(select(Session).where(Session.series_id == row.id,
                                            Session.original_start == ident.original_start)).first()
    exception = db.exec(select(OccurrenceException).where(
        OccurrenceException.series_id == row.id,
        OccurrenceException.original_start == ident.original_start)).first()
    for _, occurrence in window:
        if occurrence.original_start == ident.original_start:
            return row, occurrence
    if session is None and exception is None and not is_occurrence(series_spec(row), ident.original_start):
        raise not_found("occurrence")
    # moved far away: expand around its current start
    start = session.start if session else (exception.new_start if exception else None)
    if start is not None:
        for _, occurrence in expand_rows(db, [row], start, start + timedelta(seconds=1)):
            if occurrence.original_start == ident.original_start:
                return row, occurrence
    raise not_found("occurrence")


def get_occurrence(actor: User, occurrence_id: str) -> dict:
    """One occurrence. Opening one inside the horizon materializes it (and queues its meeting)."""
    now = clock.now()
    horizon = now + timedelta(hours=get_settings().horizon_hours)
    with unit_of_work() as db:
        row, occurrence = _find(db, actor, occurrence_id)
        if (not occurrence.materialized and occurrence.status in ACTIVE_STATUSES
                and occurrence.end > now and occurrence.start <= horizon):
            session, _ = materialize.materialize(db, row, occurrence)
            occurrence = Occurrence(row.id, occurrence.original_start, session.start, session.end,
                                    session.status, True, session.join_url)
        return occurrence_public(row, occurrence)


def _session(db: DbSession, series_id: str, original_start: datetime) -> Session | None:
    """The session row, locked: its meeting state decides which meeting job follows a change,
    and a meeting job may be changing it right now (found by the reliability load run)."""
    return db.exec(select(Session).where(Session.series_id == series_id,
                                         Session.original_start == original_start)
                   .with_for_update().execution_options(populate_existing=True)).first()


def _exception(db: DbSession, series_id: str, original_start: datetime) -> OccurrenceException:
    row = db.exec(select(OccurrenceException).where(
        OccurrenceException.series_id == series_id,
        OccurrenceException.original_start == original_start)).first()
    if row is None:
        row = OccurrenceException(series_id=series_id, original_start=original_start, kind="moved")
        db.add(row)
    return row


def cancel(actor: User, occurrence_id: str, reason: str | None = None) -> dict:
    """Cancel one occurrence: late cancelled inside the late-cancel window."""
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise invalid("reason", "must be text of at most 500 characters")
    now = clock.now()
    with unit_of_work() as db:
        row, occurrence = _find(db, actor, occurrence_id, for_update=True)
        if occurrence.status not in ("scheduled",):
            raise invalid("status", f"an occurrence that is {occurrence.status} cannot be cancelled")
        if occurrence.start <= now:
            raise invalid("start", "has already begun")
        late = occurrence.start - now < timedelta(hours=get_settings().late_cancel_hours)
        status = "late_cancelled" if late else "cancelled"
        session = _session(db, row.id, occurrence.original_start)
        if session is not None:
            materialize.set_status(db, session, status)
        else:
            exception = _exception(db, row.id, occurrence.original_start)
            exception.kind, exception.new_start, exception.new_duration_minutes = status, None, None
            exception.reason = reason
        db.flush()
        return occurrence_public(row, Occurrence(row.id, occurrence.original_start, occurrence.start,
                                                 occurrence.end, status, session is not None,
                                                 None))


def move(actor: User, occurrence_id: str, start: datetime, duration_minutes: int | None = None) -> dict:
    """Move one occurrence; it keeps its identity. Checked like a booking."""
    start = utc(start)
    now = clock.now()
    settings = get_settings()
    if duration_minutes is not None and not 5 <= duration_minutes <= settings.max_duration_minutes:
        raise invalid("duration_minutes", f"must be 5 to {settings.max_duration_minutes} minutes")
    if start < now:
        raise invalid("start", "is in the past")
    with unit_of_work() as db:
        row, occurrence = _find(db, actor, occurrence_id, for_update=True)
        if occurrence.status != "scheduled" or occurrence.start <= now:
            raise invalid("status", "only a scheduled occurrence that has not begun can be moved")
        duration = timedelta(minutes=duration_minutes) if duration_minutes else occurrence.end - occurrence.start
        end = start + duration
        if actor.role == "client":
            _, availability = load_availability(db, row.therapist_id)
            if availability is None or not within_availability(weekly_hours(availability),
                                                               availability.timezone, start, end):
                raise invalid("start", "is outside the therapist's hours")
        rules = rules_for(db, row.therapist_id)
        check_timing(rules, actor, start, now, first=False)
        lock_therapist(db, row.therapist_id)
        original = occurrence.original_start
        busy = therapist_busy(db, row.therapist_id, start - timedelta(days=1), end + timedelta(days=1),
                              skip=lambda o: (o.series_id, o.original_start) == (row.id, original))
        hits = find_conflicts([(start, end)], busy, rules.pad)
        if hits:
            raise collision("The new time collides with another session of the therapist", hits)
        session = _session(db, row.id, original)
        if session is not None:
            materialize.move(db, session, start, end)
        else:
            exception = _exception(db, row.id, original)
            exception.kind, exception.new_start = "moved", start
            exception.new_duration_minutes = int(duration.total_seconds() // 60)
        db.flush()
        return occurrence_public(row, Occurrence(row.id, original, start, end, "scheduled",
                                                 session is not None,
                                                 session.join_url if session else None))


def attendance(actor: User, occurrence_id: str, status: str) -> dict:
    """The therapist marks a session completed or no show, once it has begun."""
    if status not in ("completed", "no_show"):
        raise invalid("status", "must be 'completed' or 'no_show'")
    now = clock.now()
    with unit_of_work() as db:
        row, occurrence = _find(db, actor, occurrence_id, for_update=True)
        if actor.id != row.therapist_id:
            raise not_found("occurrence")
        if occurrence.start > now:
            raise invalid("status", "attendance can be marked only after the start")
        if occurrence.status not in ("scheduled", "in_progress", "completed", "no_show"):
            raise invalid("status", f"an occurrence that is {occurrence.status} has no attendance")
        session, _ = materialize.materialize(db, row, occurrence) if not occurrence.materialized else (
            _session(db, row.id, occurrence.original_start), False)
        materialize.set_status(db, session, status)
        db.flush()
        return occurrence_public(row, Occurrence(row.id, occurrence.original_start, session.start,
                                                 session.end, status, True, session.join_url))
