"""Reading a window: load the intent rows a window needs and expand them (writes nothing)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import OccurrenceException, Pause, Series, Session
from therabee.scheduling.conflicts import Busy
from therabee.scheduling.expand import (ACTIVE_STATUSES, Cursor, ExceptionSpec, Occurrence,
                                        PauseSpec, SeriesSpec, SessionSpec, expand)
from therabee.scheduling.rules import Rule, parse_rule
from therabee.scheduling.timezones import zone
from therabee.services.errors import ServiceError, conflict
from therabee.services.practice import away_intervals


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


def _touching(column_a, column_b, from_: datetime, to: datetime):
    return sa.or_(sa.and_(column_a >= from_, column_a < to), sa.and_(column_b >= from_, column_b < to))


def expand_rows(db: DbSession, series_rows: Iterable[Series], from_: datetime, to: datetime,
                time_off: dict[str, list] | None = None) -> list[tuple[Series, Occurrence]]:
    """Every occurrence of these series in `[from_, to)`, with its series row, by start.
    Time off and holidays of their therapists are loaded unless given."""
    rows = {row.id: row for row in series_rows}
    if not rows:
        return []
    ids = list(rows)
    limited = [i for i, row in rows.items() if row.sessions_limit is not None]
    exceptions: dict[str, list] = defaultdict(list)
    sessions: dict[str, list] = defaultdict(list)
    pauses: dict[str, list] = defaultdict(list)
    exc_filter = _touching(OccurrenceException.original_start, OccurrenceException.new_start, from_, to)
    ses_filter = _touching(Session.original_start, Session.start, from_, to)
    if limited:
        exc_filter = sa.or_(exc_filter, OccurrenceException.series_id.in_(limited))
        ses_filter = sa.or_(ses_filter, Session.series_id.in_(limited))
    for e in db.exec(select(OccurrenceException).where(OccurrenceException.series_id.in_(ids), exc_filter)):
        exceptions[e.series_id].append(exception_spec(e))
    for s in db.exec(select(Session).where(Session.series_id.in_(ids), ses_filter)):
        sessions[s.series_id].append(session_spec(s))
    for p in db.exec(select(Pause).where(Pause.series_id.in_(ids))):
        pauses[p.series_id].append(PauseSpec(p.from_date, p.until_date))
    found = []
    if time_off is None:
        time_off = away_intervals(db, sorted({r.therapist_id for r in rows.values()}), from_, to)
    for series_id, row in rows.items():
        away = time_off.get(row.therapist_id, ())
        for occurrence in expand(series_spec(row), from_, to, exceptions[series_id],
                                 pauses[series_id], sessions[series_id], away):
            found.append((row, occurrence))
    found.sort(key=lambda pair: (pair[1].start, pair[1].series_id))
    return found


def series_in_window(db: DbSession, from_: datetime, to: datetime, *conditions) -> list[Series]:
    """Series that can have an occurrence in the window (moves may reach a week beyond)."""
    slack = timedelta(days=35)
    query = select(Series).where(
        Series.start < to + slack,
        sa.or_(Series.ends_before.is_(None), Series.ends_before > from_ - slack),
        *conditions,
    )
    return list(db.exec(query))


def therapist_busy(db: DbSession, therapist_id: str, from_: datetime, to: datetime,
                   skip: Callable[[Occurrence], bool] | None = None) -> list[Busy]:
    """The therapist's occupied intervals in the window: every occurrence that will happen
    (`skip` leaves out the ones being replaced, e.g. the occurrence that moves)."""
    rows = series_in_window(db, from_, to, Series.therapist_id == therapist_id)
    busy = []
    for _, occurrence in expand_rows(db, rows, from_, to):
        if occurrence.status not in ACTIVE_STATUSES or (skip and skip(occurrence)):
            continue
        busy.append(Busy(occurrence.start, occurrence.end, occurrence.id))
    return busy


def collision(detail: str, hits: list[Busy]) -> ServiceError:
    """409 listing every colliding occurrence: start, end, occurrence_id."""
    return conflict(detail, [{"start": b.start, "end": b.end, "occurrence_id": str(b.occurrence_id)}
                             for b in hits])
