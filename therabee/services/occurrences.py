"""Occurrences: list a window (no writes), open one, cancel, move, attendance."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import OccurrenceException, Series, Session, User
from therabee.scheduling.conflicts import within_availability
from therabee.scheduling import live
from therabee.scheduling.expand import ACTIVE_STATUSES, Occurrence
from therabee.scheduling.ids import InvalidOccurrenceId, OccurrenceId
from therabee.scheduling.timezones import utc
from therabee.services import clock, materialize
from therabee.services.access import series_filter, visible_series
from therabee.services.availability import load_availability, weekly_hours
from therabee.services.errors import invalid, not_found, whole_minute
from therabee.services.calendar_checks import REACH, checked_change, conflict_reach
from therabee.services.calendar_rows import load, load_around
from therabee.services.practice import check_timing, rules_for
from therabee.settings import get_settings
from therabee.video import reports_meeting_status


def occurrence_public(series: Series, occurrence: Occurrence, now: datetime) -> dict:
    """The answer for one occurrence as seen at `now`: every occurrence the API and the
    pages show passes here. Its `status` is derived from the clock while it runs
    when the video provider sends no webhooks (scheduling/live.py); `join_from` is when
    Join opens (None for one that is never joined); it closes at `end`."""
    status = live.status_at(occurrence.status, occurrence.start, occurrence.end, now,
                            reports_meeting_status())
    return {"id": occurrence.id.to_string(), "series_id": occurrence.series_id,
            "therapist_id": series.therapist_id, "client_id": series.client_id,
            "original_start": occurrence.original_start, "start": occurrence.start,
            "end": occurrence.end, "status": status,
            "materialized": occurrence.materialized, "join_url": occurrence.join_url,
            "join_from": live.join_from(status, occurrence.start)}


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
    now = clock.now()
    conditions = [series_filter(actor)]
    if therapist_id is not None:
        conditions.append(Series.therapist_id == therapist_id)
    with read_only() as db:
        if series_id is not None:
            visible_series(db, actor, series_id)
            conditions.append(Series.id == series_id)
        return [occurrence_public(s, o, now) for s, o in load(db, from_, to, *conditions).pairs(from_, to)]


def _find(db: DbSession, actor: User, occurrence_id: str, for_update: bool = False) -> tuple[Series, Occurrence]:
    """The occurrence with this id, wherever it was moved (404 if it does not exist,
    is hidden, or its series is not the actor's to see)."""
    try:
        ident = OccurrenceId.from_string(occurrence_id)
    except InvalidOccurrenceId as exc:
        raise not_found("occurrence") from exc
    row = visible_series(db, actor, ident.series_id, for_update=for_update)
    original = ident.original_start
    moved_to = db.exec(select(Session.start).where(Session.series_id == row.id,
                                                   Session.original_start == original)).first()
    if moved_to is None:
        moved_to = db.exec(select(OccurrenceException.new_start).where(
            OccurrenceException.series_id == row.id,
            OccurrenceException.original_start == original)).first()
    instants = (original,) if moved_to is None else (original, moved_to)
    loaded = load_around(db, row, *instants)
    for occurrence in loaded.calendar.occurrences(min(instants) - REACH, max(instants) + REACH):
        if occurrence.original_start == original:
            return row, occurrence
    raise not_found("occurrence")


def get_occurrence(actor: User, occurrence_id: str) -> dict:
    """One occurrence. Opening one inside the horizon materializes it (and queues its meeting)."""
    now = clock.now()
    horizon = now + timedelta(hours=get_settings().horizon_hours)
    with unit_of_work() as db:
        row, occurrence = _find(db, actor, occurrence_id)
        due = lambda o: (not o.materialized and o.status in ACTIVE_STATUSES  # noqa: E731
                         and o.end > now and o.start <= horizon)
        if due(occurrence):
            # under the series' lock, as cancel and move take it: a cancellation that
            # committed meanwhile is seen here, and wins (issue 12, fault 4)
            row, occurrence = _find(db, actor, occurrence_id, for_update=True)
        if due(occurrence):
            session, _ = materialize.materialize(db, row, occurrence)
            occurrence = Occurrence(row.id, occurrence.original_start, session.start, session.end,
                                    session.status, True, session.join_url)
        return occurrence_public(row, occurrence, now)


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
    """Cancel one occurrence: late cancelled inside the late-cancel window. In a series
    with a `sessions_limit` this adds an occurrence at its end, checked like a booking
    (409 when it collides)."""
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

        def change() -> None:
            if session is not None:
                materialize.set_status(db, session, status)
            else:
                exception = _exception(db, row.id, occurrence.original_start)
                exception.kind, exception.reason = status, reason  # a moved one stays where it was

        if row.sessions_limit is None:
            change()
        else:  # the series gains an occurrence at its end
            checked_change(db, row.therapist_id, occurrence.start, occurrence.start + conflict_reach(), change,
                           "Cancelling adds a session at the end of this series (it has a sessions limit), "
                           "which collides with the therapist's busy time")
        db.flush()
        return occurrence_public(row, Occurrence(row.id, occurrence.original_start, occurrence.start,
                                                 occurrence.end, status, session is not None,
                                                 None), now)


def move(actor: User, occurrence_id: str, start: datetime, duration_minutes: int | None = None) -> dict:
    """Move one occurrence; it keeps its identity. Checked like a booking."""
    start = whole_minute("start", start)
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
        check_timing(rules_for(db, row.therapist_id), actor, start, now, first=False)
        original = occurrence.original_start
        session = _session(db, row.id, original)

        def change() -> None:
            if session is not None:
                materialize.move(db, session, start, end)
            else:
                exception = _exception(db, row.id, original)
                exception.kind, exception.new_start = "moved", start
                exception.new_duration_minutes = int(duration.total_seconds() // 60)

        checked_change(db, row.therapist_id, min(start, occurrence.start), max(end, occurrence.end),
                       change, "The new time collides with the therapist's busy time",
                       chosen=[(start, end)])
        return occurrence_public(row, Occurrence(row.id, original, start, end, "scheduled",
                                                 session is not None,
                                                 session.join_url if session else None), now)


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
                                                 session.end, status, True, session.join_url), now)
