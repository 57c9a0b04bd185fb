"""Booking: validate a new series, check it against the therapist's calendar, write one row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import Series, User
from therabee.scheduling.calendar import Calendar, SeriesState
from therabee.scheduling.conflicts import within_availability
from therabee.scheduling.expand import Occurrence, SeriesSpec, first_matches_rule, is_occurrence
from therabee.scheduling.rules import RuleError, parse_rule
from therabee.scheduling.timezones import UnknownZone, zone
from therabee.services import clock
from therabee.services.access import series_filter, visible_series
from therabee.services.availability import load_availability, weekly_hours
from therabee.services.errors import invalid, whole_minute
from therabee.services.locks import lock_therapist
from therabee.services.calendar_checks import REACH
from therabee.services.calendar_rows import collision, load
from therabee.services.practice import check_timing, rules_for
from therabee.services.series_status import statuses
from therabee.settings import get_settings


def series_public(row: Series, status: str) -> dict:
    """The API's series object; `status` from series_status.statuses."""
    return {"id": row.id, "therapist_id": row.therapist_id, "client_id": row.client_id,
            "start": row.start, "timezone": row.timezone,
            "duration_minutes": row.duration_minutes, "rrule": row.rrule,
            "sessions_limit": row.sessions_limit, "status": status,
            "parent_id": row.parent_id, "ends_before": row.ends_before}


@dataclass(frozen=True)
class Plan:
    """A checked intent: what the series row will hold."""

    start: datetime
    timezone: str
    duration_minutes: int
    rrule: str | None
    sessions_limit: int | None


def check_plan(start: datetime, timezone: str, duration_minutes: int, rrule: str | None,
               sessions_limit: int | None, now: datetime) -> tuple[Plan, SeriesSpec]:
    """Field-level validation of an intent, before anything is read or written."""
    settings = get_settings()
    start = whole_minute("start", start)
    try:
        tz = zone(timezone)
    except UnknownZone as exc:
        raise invalid("timezone", str(exc)) from exc
    if not isinstance(duration_minutes, int) or not 5 <= duration_minutes <= settings.max_duration_minutes:
        raise invalid("duration_minutes", f"must be 5 to {settings.max_duration_minutes} minutes")
    if start < now:
        raise invalid("start", "is in the past")
    if sessions_limit is not None and not 1 <= sessions_limit <= settings.max_count:
        raise invalid("sessions_limit", f"must be 1 to {settings.max_count}")
    try:
        rule = parse_rule(rrule, tz, settings.max_count)
    except RuleError as exc:
        part = f" ({exc.part})" if exc.part else ""
        raise invalid("rrule", f"{exc.message}{part}") from exc
    if rule is not None and rule.until is not None and rule.until < start:
        raise invalid("rrule", "UNTIL is before the start (UNTIL)")
    spec = SeriesSpec(id="new", start=start, zone=timezone,
                      duration=timedelta(minutes=duration_minutes), rule=rule,
                      sessions_limit=sessions_limit)
    if not first_matches_rule(spec):
        raise invalid("start", "is not an occurrence of the rule (check BYDAY/BYMONTHDAY)")
    plan = Plan(start, timezone, duration_minutes, rule.text if rule else None, sessions_limit)
    return plan, spec


def check_calendar(db: DbSession, therapist_id: str, spec: SeriesSpec, check_hours: bool = True) -> None:
    """A new series (not written yet) against the therapist's calendar, over the check
    window (DESIGN.md rule 5): its first occurrence — the time the user picked — must not
    fall in time off or a holiday; every occurrence must lie inside the therapist's
    hours and clear of every occurrence of theirs that holds its time (virtual,
    materialized or hidden by time away), buffers applied. Later occurrences that fall
    in time away are skipped like any other's, and come back when it goes."""
    settings = get_settings()
    window_end = spec.start + timedelta(weeks=settings.conflict_window_weeks)
    candidates = Calendar((SeriesState(spec, therapist_id),)).reserved(spec.start, window_end)
    if check_hours:
        check_within_hours(db, therapist_id, candidates)
    calendar = load(db, spec.start - REACH, window_end + REACH, therapist_id=therapist_id).calendar
    hits = calendar.away_during(spec.start, spec.start + spec.duration) + calendar.clashes(candidates)
    if hits:
        raise collision(f"{len(hits)} busy time(s) of the therapist collide with this booking", hits)


def check_within_hours(db: DbSession, therapist_id: str, occurrences: list[Occurrence]) -> None:
    """422 on `start` unless every occurrence lies inside the therapist's weekly hours."""
    _, row = load_availability(db, therapist_id)
    hours = weekly_hours(row)
    outside = [o.start for o in occurrences
               if row is None or not within_availability(hours, row.timezone, o.start, o.end)]
    if outside:
        dates = ", ".join(o.isoformat() for o in outside[:5])
        raise invalid("start", f"{len(outside)} occurrence(s) fall outside the therapist's hours: {dates}")


def _parties(db: DbSession, actor: User, therapist_id: str, client_id: str | None) -> tuple[User, User]:
    therapist = db.get(User, therapist_id) if isinstance(therapist_id, str) else None
    if therapist is None or therapist.role != "therapist":
        raise invalid("therapist_id", "is not a therapist")
    if actor.role == "client":
        if client_id not in (None, actor.id):
            raise invalid("client_id", "a client books for itself")
        return therapist, actor
    if actor.id != therapist.id:
        raise invalid("therapist_id", "a therapist books in their own calendar")
    client = db.get(User, client_id) if isinstance(client_id, str) else None
    if client is None or client.role != "client":
        raise invalid("client_id", "is not a client")
    return therapist, client


def book(actor: User, *, therapist_id: str, client_id: str | None, start: datetime,
         timezone: str | None, duration_minutes: int, rrule: str | None,
         sessions_limit: int | None = None) -> dict:
    """Book a series: one row, written only if every occurrence over the window is free."""
    now = clock.now()
    with unit_of_work() as db:
        therapist, client = _parties(db, actor, therapist_id, client_id)
        plan, spec = check_plan(start, timezone or therapist.timezone, duration_minutes, rrule,
                                sessions_limit, now)
        check_timing(rules_for(db, therapist.id), actor, plan.start, now)
        lock_therapist(db, therapist.id)
        check_calendar(db, therapist.id, spec)
        row = Series(therapist_id=therapist.id, client_id=client.id, start=plan.start,
                     timezone=plan.timezone, duration_minutes=plan.duration_minutes,
                     rrule=plan.rrule, sessions_limit=plan.sessions_limit, next_due_at=plan.start)
        db.add(row)
        db.flush()
        # Its first occurrence is still to come: not in the past, not in time away.
        return series_public(row, "active")


def list_series(actor: User) -> list[dict]:
    with read_only() as db:
        rows = db.exec(select(Series).where(series_filter(actor)).order_by(Series.start)).all()
        status = statuses(db, rows, clock.now())
    return [series_public(r, status[r.id]) for r in rows]


def get_series(actor: User, series_id: str) -> dict:
    with read_only() as db:
        row = visible_series(db, actor, series_id)
        return series_public(row, statuses(db, [row], clock.now())[row.id])


def require_occurrence(spec: SeriesSpec, original_start: datetime, field_name: str = "from") -> None:
    if not is_occurrence(spec, original_start):
        raise invalid(field_name, "is not an occurrence of this series")
