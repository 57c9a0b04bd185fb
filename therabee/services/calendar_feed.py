"""The private iCalendar feed: what GET /occurrences says, written for calendar apps.

One VEVENT per series: DTSTART with the series' TZID, its RRULE ended (UNTIL) where the
series ends as known now (COUNT or UNTIL, ended, split, `sessions_limit` reached), an
EXDATE for each occurrence of the rule that does not happen (cancelled, late cancelled,
paused, time off, public holidays) and a RECURRENCE-ID override for each moved one,
wherever it moved. An occurrence the rule cannot carry is a VEVENT of its own. The
calendar holds a VTIMEZONE for each zone it uses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from typing import TypeVar

import sqlalchemy as sa
from icalendar import Calendar, Event, vRecur
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import read_only
from therabee.db.models import OccurrenceException, Pause, Series, Session
from therabee.scheduling.expand import (CANCELLED_STATUSES, HELD_STATUSES, Occurrence,
                                        SeriesSpec, next_start_at_or_after, rule_starts)
from therabee.scheduling.rules import Rule
from therabee.scheduling.timezones import to_instant, to_local, zone
from therabee.services import clock
from therabee.services.access import series_filter
from therabee.services.calendar_rows import load, series_spec
from therabee.services.people import user_for_feed_token

log = logging.getLogger(__name__)
T = TypeVar("T")

# Exceptions, pauses, time off and holidays are written this far ahead of now; beyond it
# a series goes on as its rule says (calendar apps fetch the feed again long before).
FEED_AHEAD = timedelta(weeks=156)
# VTIMEZONE transitions are listed this far beyond the last instant the feed expands.
ZONES_AHEAD = timedelta(weeks=520)
SUMMARY = "Therapy session"


def feed(token: str) -> bytes:
    """The calendar of the user owning `token`, as iCalendar bytes; raises ServiceError 404
    for an unknown or rotated token. A series that cannot be read or written is left out
    and logged by id; the rest of the feed is still served."""
    user = user_for_feed_token(token)
    with read_only() as db:
        rows = list(db.exec(select(Series).where(series_filter(user)).order_by(Series.start)))
        rows = [row for row in rows if _guarded(row, series_spec) is not None]
        from_, to = _window(db, rows, clock.now())
        found = _occurrences(db, rows, from_, to)
    calendar = Calendar()
    calendar.add("prodid", "-//Therabee//Therabee calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Therabee sessions")
    for row in rows:
        for event in _guarded(row, lambda r: _series_events(r, found[r.id], to)) or []:
            calendar.add_component(event)
    calendar.add_missing_timezones(from_.date() - timedelta(days=1), (to + ZONES_AHEAD).date())
    return calendar.to_ical()


def _guarded(row: Series, step: Callable[[Series], T]) -> T | None:
    """`step(row)`, or None when it fails: the series is logged by id (nothing private)
    and left out, so one bad series never breaks a whole feed."""
    try:
        return step(row)
    except Exception:
        log.exception("calendar feed: series %s left out", row.id)
        return None


def _occurrences(db: DbSession, rows: list[Series], from_: datetime,
                 to: datetime) -> defaultdict[str, list[Occurrence]]:
    """Every occurrence of these series whose (moved) start is in `[from_, to)`, any
    status, by series id."""
    found: defaultdict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in load(db, from_, to, rows=rows).calendar.occurrences(from_, to):
        found[occurrence.series_id].append(occurrence)
    return found


def _window(db: DbSession, rows: list[Series], now: datetime) -> tuple[datetime, datetime]:
    """`[from_, to)` the feed expands: from the first start, through every instant the
    series' exceptions, sessions and pauses touch (a move may take an occurrence
    anywhere), to FEED_AHEAD beyond now or beyond the last series' start."""
    ids = [row.id for row in rows]
    touched = [row.start for row in rows]
    for table, moved in ((OccurrenceException, OccurrenceException.new_start), (Session, Session.start)):
        touched += db.exec(select(sa.func.min(table.original_start), sa.func.max(table.original_start),
                                  sa.func.min(moved), sa.func.max(moved))
                           .where(table.series_id.in_(ids))).one()
    touched = [t for t in touched if t is not None]
    ends = [now + FEED_AHEAD, *(row.start + FEED_AHEAD for row in rows),
            *(t + timedelta(minutes=1) for t in touched)]
    last_paused = db.exec(select(sa.func.max(Pause.until_date)).where(Pause.series_id.in_(ids))).one()
    if last_paused is not None:  # two days after it at 00:00 UTC is after its end in any zone
        ends.append(datetime.combine(last_paused + timedelta(days=2), time(), timezone.utc))
    return min(touched, default=now), max(ends)


def _series_events(row: Series, occurrences: list[Occurrence], to: datetime) -> list[Event]:
    """The VEVENTs of one series, given all its occurrences that start before `to`."""
    spec = series_spec(row)
    shown = {o.original_start: o for o in occurrences if o.status not in CANCELLED_STATUSES}
    if spec.rule is None:
        return [_single(row, o, _uid(row.id)) for o in shown.values()]
    starts = rule_starts(spec, row.start, to)
    end = _rule_end(spec, starts, occurrences, to)
    if end is not None and end < to:  # it ends inside the window: at its last shown occurrence
        end = max((s for s in starts if s <= end and s in shown), default=None)
        covered = [s for s in starts if end is not None and s <= end]
    else:
        covered = starts
    events = _master(row, spec, covered, shown, end) if covered else []
    carried = set(covered)
    return events + [_single(row, o, _uid(row.id, original)) for original, o in shown.items()
                     if original not in carried]


def _rule_end(spec: SeriesSpec, starts: list[datetime], occurrences: list[Occurrence],
              to: datetime) -> datetime | None:
    """The last original start the series still produces, as known now; None when the
    rule's own COUNT or UNTIL (or no end) stands. `starts` are its rule starts before `to`;
    beyond `to` nothing is known but the rule."""
    if spec.sessions_limit is not None:
        held = sorted(o.original_start for o in occurrences if o.status in HELD_STATUSES)
        if len(held) >= spec.sessions_limit:
            return held[spec.sessions_limit - 1]
        later = _starts_from(spec, to, spec.sessions_limit - len(held))
        if later:
            return later[-1]
    elif next_start_at_or_after(spec, to) is not None:  # it goes on beyond the window
        if spec.ends_before is None:
            return None
        return rule_starts(spec, to, spec.ends_before)[-1]
    return starts[-1] if starts else None


def _starts_from(spec: SeriesSpec, from_: datetime, n: int) -> list[datetime]:
    """The first `n` original starts at or after `from_` (fewer when the rule ends)."""
    span = timedelta(days=366)
    while True:
        starts = rule_starts(spec, from_, from_ + span)
        if len(starts) >= n or next_start_at_or_after(spec, from_ + span) is None:
            return starts[:n]
        span *= 2


def _master(row: Series, spec: SeriesSpec, covered: list[datetime], shown: dict[datetime, Occurrence],
            end: datetime | None) -> list[Event]:
    """The recurring VEVENT carrying the rule starts `covered`, and its overrides."""
    tz = zone(row.timezone)
    master = _event(row, _uid(row.id))
    master.add("dtstart", row.start.astimezone(tz))
    master.add("duration", spec.duration)
    master.add("rrule", _rrule(spec.rule, end))
    gone = [_recurrence_id(row, original) for original in covered if original not in shown]
    if gone:
        master.add("exdate", gone)
    events = [master]
    for original in covered:
        occurrence = shown.get(original)
        if occurrence is None or _as_the_rule_says(row, occurrence, spec.duration):
            continue
        override = _single(row, occurrence, _uid(row.id))
        override.add("recurrence-id", _recurrence_id(row, original))
        events.append(override)
    return events


def _rrule(rule: Rule, end: datetime | None) -> vRecur:
    """The RRULE of a series; `end` (an original start, UTC) replaces its COUNT or UNTIL."""
    recur = vRecur.from_ical(rule.body)
    if end is not None:
        recur["UNTIL"] = [end]
    elif rule.count is not None:
        recur["COUNT"] = [rule.count]
    elif rule.until is not None:
        recur["UNTIL"] = [rule.until]
    return recur


def _single(row: Series, occurrence: Occurrence, uid: str) -> Event:
    """A VEVENT at the occurrence's own start and end."""
    event = _event(row, uid)
    event.add("dtstart", _written(row, occurrence.start))
    event.add("dtend", _written(row, occurrence.end))
    return event


def _event(row: Series, uid: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", SUMMARY)
    event.add("dtstamp", row.created_at)
    return event


def _rule_wall(row: Series, original: datetime) -> datetime:
    """The naive wall-clock time the rule writes for an original start: the first start's
    time of day on that date in the series' zone. In a DST gap it is not the instant's own
    reading (02:30, not 03:30): calendar apps compute instances from it."""
    tz = zone(row.timezone)
    return datetime.combine(to_local(original, tz).date(), to_local(row.start, tz).time())


def _recurrence_id(row: Series, original: datetime) -> datetime:
    """An original start as EXDATE and RECURRENCE-ID name it: the rule's wall-clock time
    with the series' TZID, so it matches the instance a calendar app computes."""
    tz = zone(row.timezone)
    wall = _rule_wall(row, original)
    return wall.replace(tzinfo=tz) if to_instant(wall, tz) == original else original.astimezone(tz)


def _as_the_rule_says(row: Series, occurrence: Occurrence, duration: timedelta) -> bool:
    """Does the rule's own instance say this occurrence, whether a calendar app adds its
    DURATION on the wall clock or in elapsed time? Not when it moved or was made longer or
    shorter, nor when a DST change falls inside it."""
    tz = zone(row.timezone)
    wall, original = _rule_wall(row, occurrence.original_start), occurrence.original_start
    return (occurrence.start == original == to_instant(wall, tz)
            and occurrence.end == original + duration == to_instant(wall + duration, tz))


def _written(row: Series, instant: datetime) -> datetime:
    """An instant in the series' zone, or in UTC when its wall-clock time would read back
    as another instant (the second 01:30 of a night the clocks go back)."""
    tz = zone(row.timezone)
    if to_instant(to_local(instant, tz), tz) == instant:
        return instant.astimezone(tz)
    return instant.astimezone(timezone.utc)


def _uid(series_id: str, original: datetime | None = None) -> str:
    if original is None:
        return f"{series_id}@therabee"
    return f"{series_id}-{original.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}@therabee"
