"""The one repository of the calendar: load exactly the rows a window needs and build
the calendar model from them (`therabee.scheduling.calendar`). Reads only.

A series is loaded for a window `[from_, to)` when its rule can produce an original
start there (it starts before `to` and has not ended before `from_`; a one-off only
when it starts in the window) or when one of its occurrences was *moved* into the
window — by an exception or a session — wherever its rule starts. So an occurrence
moved months away is found where it now is (issue 12, fault 3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import holidays as holiday_calendars
import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import Availability, OccurrenceException, Pause, Series, Session
from therabee.db.models_rules import PracticeRules, TimeOff
from therabee.scheduling.calendar import Away, Calendar, SeriesState
from therabee.scheduling.conflicts import Busy
from therabee.scheduling.expand import (Cursor, ExceptionSpec, Occurrence, PauseSpec, SeriesSpec,
                                        SessionSpec)
from therabee.scheduling.rules import Rule, parse_rule
from therabee.scheduling.timezones import to_instant, zone
from therabee.services.errors import ServiceError, conflict
from therabee.services.rules import rules_for


@lru_cache(maxsize=4096)
def cached_rule(text: str | None, zone_name: str) -> Rule | None:
    return parse_rule(text, zone(zone_name), max_count=10**6)


def series_spec(row: Series) -> SeriesSpec:
    cursor = Cursor(row.cursor_start, row.cursor_index) if row.cursor_start else None
    return SeriesSpec(id=row.id, start=row.start, zone=row.timezone,
                      duration=timedelta(minutes=row.duration_minutes),
                      rule=cached_rule(row.rrule, row.timezone),
                      sessions_limit=row.sessions_limit, ends_before=row.ends_before,
                      cursor=cursor)


def exception_spec(row: OccurrenceException) -> ExceptionSpec:
    duration = timedelta(minutes=row.new_duration_minutes) if row.new_duration_minutes else None
    return ExceptionSpec(row.original_start, row.kind, row.new_start, duration)


def session_spec(row: Session) -> SessionSpec:
    return SessionSpec(row.original_start, row.start, row.end, row.status, row.join_url)


@dataclass(frozen=True)
class Loaded:
    """The calendar of a window and the series rows behind it (by id)."""

    calendar: Calendar
    rows: dict[str, Series]

    def pairs(self, from_: datetime, to: datetime) -> list[tuple[Series, Occurrence]]:
        """Visible occurrences in `[from_, to)` with their series row, by start."""
        return [(self.rows[o.series_id], o) for o in self.calendar.occurrences(from_, to)]


def _in(column, from_: datetime, to: datetime):
    return sa.and_(column >= from_, column < to)


def series_condition(from_: datetime, to: datetime):
    """Series that can have an occurrence starting in `[from_, to)`: by their rule, or
    because one of their occurrences was moved there (an exception, moved or cancelled
    after a move, or a session)."""
    by_rule = sa.and_(Series.start < to,
                      sa.or_(Series.ends_before.is_(None), Series.ends_before > from_),
                      sa.or_(Series.rrule.is_not(None), Series.start >= from_))
    # correlated: probed per candidate series (by the identity indexes), only when its
    # rule cannot reach the window
    moved_here = sa.exists().where(OccurrenceException.series_id == Series.id,
                                   _in(OccurrenceException.new_start, from_, to))
    held_here = sa.exists().where(Session.series_id == Series.id, _in(Session.start, from_, to))
    return sa.or_(by_rule, moved_here, held_here)


def load(db: DbSession, from_: datetime, to: datetime, *conditions,
         therapist_id: str | None = None, rows: Iterable[Series] | None = None) -> Loaded:
    """The calendar of `[from_, to)`: every series matching `conditions` that can have an
    occurrence there (or exactly `rows`), with the exceptions, sessions and pauses it
    needs, and its therapist's time off and holidays. With `therapist_id` only that
    therapist's series are read and their practice buffers are applied."""
    if therapist_id is not None:
        conditions = (*conditions, Series.therapist_id == therapist_id)
    if rows is None:
        rows = db.exec(select(Series).where(series_condition(from_, to), *conditions))
    by_id = {row.id: row for row in rows}
    therapists = sorted({row.therapist_id for row in by_id.values()} | (
        {therapist_id} if therapist_id else set()))
    pad = rules_for(db, therapist_id).pad if therapist_id else timedelta(0)
    # a sessions_limit series counts its held occurrences from its start: time off
    # before the window decides which one is its last
    away_from = min([from_] + [row.start for row in by_id.values() if row.sessions_limit is not None])
    away = away_intervals(db, therapists, away_from, to)
    if not by_id:
        return Loaded(Calendar((), away, pad), {})
    ids = list(by_id)
    limited = [i for i, row in by_id.items() if row.sessions_limit is not None]
    exceptions: dict[str, list] = defaultdict(list)
    sessions: dict[str, list] = defaultdict(list)
    pauses: dict[str, list] = defaultdict(list)
    exc_filter = sa.or_(_in(OccurrenceException.original_start, from_, to),
                        _in(OccurrenceException.new_start, from_, to))
    ses_filter = sa.or_(_in(Session.original_start, from_, to), _in(Session.start, from_, to))
    if limited:  # the limit counts held occurrences from the first one
        exc_filter = sa.or_(exc_filter, OccurrenceException.series_id.in_(limited))
        ses_filter = sa.or_(ses_filter, Session.series_id.in_(limited))
    for e in db.exec(select(OccurrenceException).where(OccurrenceException.series_id.in_(ids), exc_filter)):
        exceptions[e.series_id].append(exception_spec(e))
    # an exception is overridden by its occurrence's session, wherever that session is now
    # (a session moved on from where the exception had put it): load those sessions too
    elsewhere = {e.original_start for specs in exceptions.values() for e in specs
                 if not from_ <= e.original_start < to}
    if elsewhere:
        ses_filter = sa.or_(ses_filter, Session.original_start.in_(elsewhere))
    for s in db.exec(select(Session).where(Session.series_id.in_(ids), ses_filter)):
        sessions[s.series_id].append(session_spec(s))
    for p in db.exec(select(Pause).where(Pause.series_id.in_(ids))):
        pauses[p.series_id].append(PauseSpec(p.from_date, p.until_date))
    states = tuple(SeriesState(series_spec(row), row.therapist_id, tuple(exceptions[i]),
                               tuple(pauses[i]), tuple(sessions[i])) for i, row in by_id.items())
    return Loaded(Calendar(states, away, pad), by_id)


def load_around(db: DbSession, row: Series, *instants: datetime,
                reach: timedelta = timedelta(days=1)) -> Loaded:
    """One series' calendar around each of `instants` (an occurrence's original start
    and where it was moved): the smallest window holding them all, widened by `reach`."""
    return load(db, min(instants) - reach, max(instants) + reach, rows=[row])


def _holiday_intervals(country: str, zone_name: str, from_: datetime, to: datetime) -> list[Away]:
    tz = zone(zone_name)
    calendar = holiday_calendars.country_holidays(country, years=range(from_.year - 1, to.year + 2))
    found = []
    for day in sorted(calendar):
        start = to_instant(datetime.combine(day, datetime.min.time()), tz)
        end = to_instant(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)
        if start < to and end > from_:
            found.append(Away(start, end, "holiday"))
    return found


def away_intervals(db: DbSession, therapist_ids: list[str], from_: datetime, to: datetime,
                   only_holidays: bool = False,
                   holidays_country: dict[str, str | None] | None = None) -> dict[str, list[Away]]:
    """Time off and public holidays (whole local days in the therapist's availability
    zone) of these therapists that touch `[from_, to)`, by therapist id.
    `holidays_country` overrides the stored country (to see a change before it is made)."""
    away: dict[str, list[Away]] = defaultdict(list)
    if not therapist_ids:
        return away
    if not only_holidays:
        for row in db.exec(select(TimeOff).where(TimeOff.therapist_id.in_(therapist_ids),
                                                 TimeOff.end > from_, TimeOff.start < to)):
            away[row.therapist_id].append(Away(row.start, row.end, "time_off"))
    countries = dict(db.exec(select(PracticeRules.therapist_id, PracticeRules.holidays_country)
                             .where(PracticeRules.therapist_id.in_(therapist_ids))).all())
    countries.update(holidays_country or {})
    zones = dict(db.exec(select(Availability.therapist_id, Availability.timezone)
                         .where(Availability.therapist_id.in_(therapist_ids))).all())
    for therapist_id, country in countries.items():
        if country:
            away[therapist_id] += _holiday_intervals(country, zones.get(therapist_id) or "UTC", from_, to)
    for intervals in away.values():
        intervals.sort(key=lambda a: a.start)
    return away


def collision(detail: str, hits: list[Busy]) -> ServiceError:
    """409 listing every colliding busy interval: start, end, occurrence_id (null for
    time away) and kind ("occurrence", "time_off" or "holiday")."""
    return conflict(detail, [{"start": b.start, "end": b.end,
                              "occurrence_id": str(b.occurrence_id) if b.occurrence_id else None,
                              "kind": b.kind} for b in hits])
