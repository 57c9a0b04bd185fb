"""Window expansion: a series' rule + exceptions + pauses + sessions → occurrences.

Windows are half-open `[from_, to)` over an occurrence's (possibly moved) start.
Expansion starts from the series' cursor — a recent occurrence and how many came
before it — so its cost follows the window, not the age of the series.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from therabee.scheduling.ids import OccurrenceId
from therabee.scheduling.rules import Rule
from therabee.scheduling.timezones import to_instant, to_local, zone

ACTIVE_STATUSES = frozenset({"scheduled", "in_progress", "completed", "no_show"})
# held: counts toward `sessions_limit` (API.md: cancelled, late-cancelled and paused
# occurrences don't count; a no-show was held for the client and counts)
HELD_STATUSES = frozenset({"scheduled", "in_progress", "completed", "no_show"})
CANCELLED_STATUSES = frozenset({"cancelled", "late_cancelled"})
# A session whose occurrence a pause or time away hid after it was made: it has no
# meeting and takes no time, and comes back as "scheduled" when they go (rows only:
# never an occurrence's status).
HIDDEN = "hidden"
# a session row in one of these takes no time and has no meeting (the PostgreSQL
# exclusion constraint leaves them out)
RELEASED_STATUSES = CANCELLED_STATUSES | {HIDDEN}


@dataclass(frozen=True)
class Cursor:
    start: datetime  # an occurrence's original start (UTC)
    index: int  # how many occurrences of the rule come before it


@dataclass(frozen=True)
class SeriesSpec:
    id: str
    start: datetime  # the first occurrence, aware UTC
    zone: str  # IANA name; the rule runs on wall-clock time here
    duration: timedelta
    rule: Rule | None  # None: a one-off
    sessions_limit: int | None = None  # end after this many held sessions
    ends_before: datetime | None = None  # occurrences from here on are gone (end / split)
    cursor: Cursor | None = None


@dataclass(frozen=True)
class ExceptionSpec:
    original_start: datetime
    kind: str  # "cancelled" | "late_cancelled" | "moved"
    new_start: datetime | None = None  # moved: where it is; cancelled: where it was when cancelled
    new_duration: timedelta | None = None


@dataclass(frozen=True)
class PauseSpec:
    first_day: date  # inclusive, in the series' zone
    last_day: date  # inclusive


@dataclass(frozen=True)
class SessionSpec:
    original_start: datetime
    start: datetime
    end: datetime
    status: str
    join_url: str | None = None


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Occurrence:
    series_id: str
    original_start: datetime
    start: datetime
    end: datetime
    status: str
    materialized: bool
    join_url: str | None = None

    @property
    def id(self) -> OccurrenceId:
        return OccurrenceId(self.series_id, self.original_start)


def _instants(series: SeriesSpec, base: Cursor) -> Iterator[tuple[datetime, int]]:
    """(original start, index) of every occurrence from `base` on, in order."""
    if series.rule is None:
        if base.index == 0 and (series.ends_before is None or series.start < series.ends_before):
            yield series.start, 0
        return
    rule = series.rule
    tz = zone(series.zone)
    remaining = None if rule.count is None else rule.count - base.index
    if remaining is not None and remaining <= 0:
        return
    until_local = to_local(rule.until, tz) if rule.until else None
    # The wall-clock time comes from the series' start, not the cursor's: a cursor on a
    # spring-forward day sits an hour late (03:30 for 02:30) and must not shift the rest.
    dtstart = datetime.combine(to_local(base.start, tz).date(), to_local(series.start, tz).time())
    index = base.index
    for local in rule.build(dtstart, count=remaining, until_local=until_local):
        instant = to_instant(local, tz)
        if series.ends_before is not None and instant >= series.ends_before:
            return
        if rule.until is not None and instant > rule.until:
            return
        yield instant, index
        index += 1


def _base(series: SeriesSpec, not_after: datetime) -> Cursor:
    cursor = series.cursor
    if cursor is not None and cursor.start <= not_after:
        return cursor
    return Cursor(series.start, 0)


def rule_starts(series: SeriesSpec, from_: datetime, to: datetime) -> list[datetime]:
    """Original starts the rule gives in `[from_, to)` (no exceptions, pauses or limit)."""
    starts = []
    for instant, _ in _instants(series, _base(series, from_)):
        if instant >= to:
            break
        if instant >= from_:
            starts.append(instant)
    return starts


def is_occurrence(series: SeriesSpec, original_start: datetime) -> bool:
    """Does the rule produce this exact instant?"""
    return original_start in rule_starts(series, original_start, original_start + timedelta(seconds=1))


def first_matches_rule(series: SeriesSpec) -> bool:
    """The series' start must itself be the rule's first occurrence."""
    first = next(_instants(replace(series, cursor=None, ends_before=None), Cursor(series.start, 0)), None)
    return first is not None and first[0] == series.start


def advance_cursor(series: SeriesSpec, before: datetime) -> Cursor | None:
    """The cursor at the last occurrence starting before `before` (or the old one)."""
    base = _base(series, before)
    last = None
    for instant, index in _instants(series, base):
        if instant >= before:
            break
        last = Cursor(instant, index)
    return last or series.cursor


def last_start(series: SeriesSpec) -> datetime | None:
    """The original start (aware UTC) of the last occurrence the rule gives — a one-off's
    start, a COUNT rule's last, the last at or before UNTIL — before `ends_before` when it
    is set. None when there is no last one: the rule is open-ended (no COUNT, no UNTIL, no
    `ends_before`), or gives nothing. Exceptions, pauses and `sessions_limit` are not
    applied. Counts on from the cursor, so the cost follows the occurrences after it."""
    rule = series.rule
    if rule is not None and rule.count is None and rule.until is None and series.ends_before is None:
        return None
    base = series.cursor
    if base is None or (series.ends_before is not None and base.start >= series.ends_before):
        base = Cursor(series.start, 0)  # a cursor at or past the end gives nothing before it
    last = None
    for instant, _ in _instants(series, base):
        last = instant
    return last


def next_start_at_or_after(series: SeriesSpec, instant: datetime) -> datetime | None:
    """The first original start at or after `instant`, or None when the rule has ended."""
    for start, _ in _instants(series, _base(series, instant)):
        if start >= instant:
            return start
    return None


def _paused(local_day: date, pauses: Sequence[PauseSpec]) -> bool:
    return any(p.first_day <= local_day <= p.last_day for p in pauses)


def _away(start: datetime, end: datetime, time_off: Sequence[Interval]) -> bool:
    return any(t.start < end and start < t.end for t in time_off)


def _limit_cutoff(series: SeriesSpec, exceptions: dict, sessions: dict,
                  pauses: Sequence[PauseSpec], time_off: Sequence[Interval]) -> datetime | None:
    """Original start of the N-th held occurrence: later ones do not happen."""
    tz = zone(series.zone)
    held = 0
    for instant, _ in _instants(replace(series, cursor=None), Cursor(series.start, 0)):
        occurrence = _resolve(series, instant, exceptions.get(instant), sessions.get(instant), tz,
                              pauses, time_off)
        if occurrence is not None and occurrence.status in HELD_STATUSES:
            held += 1
            if held >= series.sessions_limit:
                return instant
    return None


def _resolve(series: SeriesSpec, original: datetime, exception: ExceptionSpec | None,
             session: SessionSpec | None, tz, pauses: Sequence[PauseSpec],
             time_off: Sequence[Interval]) -> Occurrence | None:
    """One occurrence after its exception and session; None when it is skipped."""
    if session is not None and session.status != HIDDEN:
        occurrence = Occurrence(series.id, original, session.start, session.end, session.status,
                                True, session.join_url)
        if session.status in ACTIVE_STATUSES:
            return occurrence  # a session that happens is shown whatever else says
    elif session is not None:  # hidden when it was made: shown again once nothing hides it
        occurrence = Occurrence(series.id, original, session.start, session.end, "scheduled", False)
    elif exception is not None:  # moved, or cancelled where it was (moved or not)
        start = exception.new_start or original
        status = "scheduled" if exception.kind == "moved" else exception.kind
        occurrence = Occurrence(series.id, original, start,
                                start + (exception.new_duration or series.duration), status, False)
    else:
        occurrence = Occurrence(series.id, original, original, original + series.duration,
                                "scheduled", False)
    if pauses and _paused(to_local(original, tz).date(), pauses):
        return None
    if time_off and _away(occurrence.start, occurrence.end, time_off):
        return None
    return occurrence


def expand(series: SeriesSpec, from_: datetime, to: datetime,
           exceptions: Iterable[ExceptionSpec] = (), pauses: Sequence[PauseSpec] = (),
           sessions: Iterable[SessionSpec] = (),
           time_off: Sequence[Interval] = (), keep_away: bool = False,
           keep_paused: bool = False) -> list[Occurrence]:
    """Occurrences of `series` whose start (moved or not) lies in `[from_, to)`, by start.

    `exceptions` and `sessions` must include every one whose original or current start
    is in the window (for a series with `sessions_limit`: all of them, and `time_off`
    from its start). Occurrences on time off and paused ones are hidden: left out unless
    `keep_away` (the time they reserve) or `keep_paused` keeps them, as "scheduled" —
    `pauses` and `time_off` still decide which held occurrence ends a `sessions_limit`
    series. Cancelled ones are returned with their status.
    """
    tz = zone(series.zone)
    by_exception = {e.original_start: e for e in exceptions}
    by_session = {s.original_start: s for s in sessions}
    if series.sessions_limit is not None:
        cutoff = _limit_cutoff(series, by_exception, by_session, pauses, time_off)
        if cutoff is not None:
            end = cutoff + timedelta(microseconds=1)
            series = replace(series, ends_before=min(series.ends_before or end, end))
    originals = set(rule_starts(series, from_, to))
    for exception in by_exception.values():
        if exception.new_start is not None and from_ <= exception.new_start < to:
            originals.add(exception.original_start)
    for session in by_session.values():
        if from_ <= session.start < to:
            originals.add(session.original_start)
    found = []
    for original in originals:
        if series.ends_before is not None and original >= series.ends_before \
                and original not in by_session:
            continue
        occurrence = _resolve(series, original, by_exception.get(original),
                              by_session.get(original), tz, () if keep_paused else pauses,
                              () if keep_away else time_off)
        if occurrence is not None and from_ <= occurrence.start < to:
            found.append(occurrence)
    found.sort(key=lambda o: (o.start, o.series_id))
    return found
