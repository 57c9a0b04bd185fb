"""The reference calendar: a deliberately simple model of what a therapist's calendar holds.

It is the oracle the product is checked against (the stateful API test, the property tests
of the pure expansion, the reliability invariant checker), so it imports nothing of
`therabee` and prefers obvious over fast: every series is expanded by brute force from its
first start with dateutil over naive wall-clock time in its zone, and local times become
instants with zoneinfo and `fold=0` (DESIGN.md rule 4: a local time that does not exist
moves forward by the gap, an ambiguous one takes the first instant).

What happens to one occurrence, in this order:
1. the series' end: original starts at or after `ends_before` are gone (end, split);
2. the rule's COUNT / UNTIL;
3. `sessions_limit`: the series ends after its N-th *held* occurrence (held: not
   cancelled or late cancelled, not paused, not hidden by time off);
4. its status (cancelled, late cancelled, or what its session recorded) and its move (a new
   start and duration; the identity `(series_id, original_start)` stays);
5. pauses: inclusive local dates in the series' zone, judged on the *original* start's date;
6. time off (and public holidays): an occurrence whose `[start, end)` at its current time
   overlaps one is hidden.

All instants are aware datetimes (returned in UTC); windows are half-open `[from_, to)`
over an occurrence's current start; durations are timedeltas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import count as counter
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

UTC = timezone.utc
NOT_HAPPENING = frozenset({"cancelled", "late_cancelled"})
NOT_HELD = NOT_HAPPENING  # API.md: cancelled and late-cancelled sessions do not count
SLOT_STEP = timedelta(minutes=30)


@dataclass
class Series:
    """One booking intent with every change made to it.

    `rrule`: an RFC 5545 RRULE without DTSTART (COUNT or UNTIL allowed), None for a one-off.
    `status`: original start -> a status other than scheduled ("cancelled", "late_cancelled",
    or a session's "completed", "no_show", "in_progress").
    `moved`: original start -> (new start, new duration).
    `pauses`: (first day, last day), inclusive local dates in `zone`.
    """

    id: str
    therapist_id: str
    client_id: str
    start: datetime
    zone: str
    duration: timedelta
    rrule: str | None = None
    sessions_limit: int | None = None
    ends_before: datetime | None = None
    status: dict[datetime, str] = field(default_factory=dict)
    moved: dict[datetime, tuple[datetime, timedelta]] = field(default_factory=dict)
    pauses: list[tuple[date, date]] = field(default_factory=list)


@dataclass(frozen=True)
class Occurrence:
    series_id: str
    therapist_id: str
    client_id: str
    original_start: datetime
    start: datetime
    end: datetime
    status: str

    @property
    def active(self) -> bool:
        return self.status not in NOT_HAPPENING


def to_instant(local: datetime, zone_name: str) -> datetime:
    """A naive wall-clock time in `zone_name` -> UTC instant (fold=0: DESIGN.md rule 4)."""
    return local.replace(tzinfo=ZoneInfo(zone_name), fold=0).astimezone(UTC)


def to_local(instant: datetime, zone_name: str) -> datetime:
    """An aware instant -> naive wall-clock time in `zone_name`."""
    return instant.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


def rule_starts(series: Series, before: datetime, ignore_end: bool = False) -> list[datetime]:
    """The rule's original starts before `before`, in order, after COUNT / UNTIL and (unless
    `ignore_end`) the series' end. No limit, status, move, pause or time off applied."""
    first = series.start.astimezone(UTC)
    if series.rrule is None:
        starts = [first] if first < before else []
    else:
        parts = dict(part.split("=", 1) for part in series.rrule.upper().removeprefix("RRULE:").split(";"))
        count, until = parts.pop("COUNT", None), parts.pop("UNTIL", None)
        body = ";".join(f"{name}={value}" for name, value in parts.items())
        starts = []
        for n, local in zip(counter(), rrulestr(body, dtstart=to_local(first, series.zone))):
            instant = to_instant(local, series.zone)
            if count is not None and n >= int(count):
                break
            if until is not None and len(until) == 8 and local.date() > datetime.strptime(until, "%Y%m%d").date():
                break
            if until is not None and len(until) > 8 and instant > datetime.strptime(
                    until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC):
                break
            if instant >= before:
                break
            starts.append(instant)
    if series.ends_before is not None and not ignore_end:
        starts = [s for s in starts if s < series.ends_before]
    return starts


def _overlaps(start: datetime, end: datetime, intervals: Iterable[tuple[datetime, datetime]]) -> bool:
    return any(a < end and start < b for a, b in intervals)


def _resolve(series: Series, original: datetime,
             away: Sequence[tuple[datetime, datetime]]) -> Occurrence | None:
    """The occurrence at `original` after its status, move, pauses and time off (None: hidden)."""
    start, duration = series.moved.get(original, (original, series.duration))
    day = to_local(original, series.zone).date()
    if any(first <= day <= last for first, last in series.pauses):
        return None
    if _overlaps(start, start + duration, away):
        return None
    return Occurrence(series.id, series.therapist_id, series.client_id, original,
                      start.astimezone(UTC), (start + duration).astimezone(UTC),
                      series.status.get(original, "scheduled"))


def kept_originals(series: Series, away: Sequence[tuple[datetime, datetime]],
                   before: datetime) -> list[datetime]:
    """Original starts before `before` the series still has: rule, end, then sessions_limit."""
    starts = rule_starts(series, before)
    if series.sessions_limit is None:
        return starts
    kept, held = [], 0
    for original in starts:
        if held >= series.sessions_limit:
            break
        kept.append(original)
        occurrence = _resolve(series, original, away)
        if occurrence is not None and occurrence.status not in NOT_HELD:
            held += 1
    return kept


def series_occurrences(series: Series, away: Sequence[tuple[datetime, datetime]],
                       from_: datetime, to: datetime, keep_away: bool = False) -> list[Occurrence]:
    """The series' visible occurrences whose current start is in `[from_, to)`, by start;
    cancelled ones included with their status. `keep_away` keeps those hidden by time off
    too (time off still decides which held occurrence ends a `sessions_limit` series)."""
    # a move may take an occurrence anywhere: expand up to the latest moved original too
    before = max([to] + [original + timedelta(seconds=1) for original in series.moved])
    found = []
    for original in kept_originals(series, away, before):
        occurrence = _resolve(series, original, [] if keep_away else away)
        if occurrence is not None and from_ <= occurrence.start < to:
            found.append(occurrence)
    return sorted(found, key=lambda o: o.start)


@dataclass
class Calendar:
    """Every series of a practice and each therapist's away time (time off and holidays)."""

    series: list[Series] = field(default_factory=list)
    away: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def occurrences(self, from_: datetime, to: datetime, therapist_id: str | None = None,
                    client_id: str | None = None) -> list[Occurrence]:
        """Visible occurrences (cancelled ones with their status) starting in `[from_, to)`,
        of one therapist and/or one client, by start then series id."""
        found = []
        for series in self.series:
            if therapist_id not in (None, series.therapist_id) or client_id not in (None, series.client_id):
                continue
            found += series_occurrences(series, self.away.get(series.therapist_id, []), from_, to)
        return sorted(found, key=lambda o: (o.start, o.series_id))

    def occurrence(self, series_id: str, original_start: datetime) -> Occurrence | None:
        """The visible occurrence with this identity, wherever it was moved (None: there is none)."""
        series = next(s for s in self.series if s.id == series_id)
        away = self.away.get(series.therapist_id, [])
        if original_start not in kept_originals(series, away, original_start + timedelta(seconds=1)):
            return None
        return _resolve(series, original_start, away)

    def reserved(self, from_: datetime, to: datetime, therapist_id: str) -> list[Occurrence]:
        """The therapist's active occurrences starting in `[from_, to)` whose time nobody else
        may take: the visible ones and those hidden by time off (they come back when it goes;
        a paused one's time is free). By start then series id."""
        found = []
        for series in self.series:
            if series.therapist_id == therapist_id:
                found += [o for o in series_occurrences(series, self.away.get(therapist_id, []), from_, to,
                                                        keep_away=True) if o.active]
        return sorted(found, key=lambda o: (o.start, o.series_id))

    def busy(self, therapist_id: str, from_: datetime, to: datetime,
             pad: timedelta = timedelta(0)) -> list[tuple[datetime, datetime]]:
        """What a new session `[s, e)` of the therapist must not overlap, touching the window:
        every reserved occurrence widened by `pad` on both sides (buffer before + buffer after:
        each session keeps its buffers free of the other one), and the away time as it is."""
        reach = timedelta(days=2) + pad  # an occurrence starting before the window may reach into it
        intervals = [(o.start - pad, o.end + pad) for o in self.reserved(from_ - reach, to + pad, therapist_id)]
        intervals += self.away.get(therapist_id, [])
        return sorted((a, b) for a, b in intervals if a < to and from_ < b)

    def free_slots(self, therapist_id: str, weekly: Sequence[dict], hours_zone: str, from_: datetime,
                   to: datetime, duration: timedelta, pad: timedelta = timedelta(0),
                   not_before: datetime | None = None, not_after: datetime | None = None,
                   step: timedelta = SLOT_STEP) -> list[datetime]:
        """Free starts in `[from_, to)`: every `step` from each weekly block's start (wall
        clock in `hours_zone`), the slot entirely inside the block and clear of `busy`;
        also `not_before <= start <= not_after` when given. Sorted, each instant once."""
        busy = self.busy(therapist_id, from_ - duration, to + duration, pad)
        starts = set()
        day = to_local(from_, hours_zone).date() - timedelta(days=1)
        while day <= to_local(to, hours_zone).date():
            for block in weekly:
                if block["weekday"] != day.weekday():
                    continue
                local = datetime.combine(day, time.fromisoformat(block["start"]))
                while local < _block_end(day, block):
                    start = to_instant(local, hours_zone)
                    end = start + duration
                    if (from_ <= start < to and within_hours(weekly, hours_zone, start, end)
                            and not _overlaps(start, end, busy)
                            and (not_before is None or start >= not_before)
                            and (not_after is None or start <= not_after)):
                        starts.add(start)
                    local += step
            day += timedelta(days=1)
        return sorted(starts)


def _block_end(day: date, block: dict) -> datetime:
    hours, minutes = map(int, block["end"].split(":"))  # "24:00" is the next midnight
    return datetime.combine(day, time(0)) + timedelta(hours=hours, minutes=minutes)


def within_hours(weekly: Sequence[dict], hours_zone: str, start: datetime, end: datetime) -> bool:
    """Does `[start, end)` lie inside one weekly block (`{"weekday": 0-6 (Monday 0), "start":
    "HH:MM", "end": "HH:MM" or "24:00"}`), on the wall clock of `hours_zone`?"""
    local_start, local_end = to_local(start, hours_zone), to_local(end, hours_zone)
    day = local_start.date()
    return any(block["weekday"] == day.weekday()
               and datetime.combine(day, time.fromisoformat(block["start"])) <= local_start
               and local_end <= _block_end(day, block)
               for block in weekly)


def holiday_intervals(country: str, zone_name: str, from_: datetime,
                      to: datetime) -> list[tuple[datetime, datetime]]:
    """Public holidays of `country` (the `holidays` library) as whole local days in
    `zone_name`, touching `[from_, to)`."""
    import holidays

    found = []
    for day in holidays.country_holidays(country, years=range(from_.year - 1, to.year + 2)):
        start = to_instant(datetime.combine(day, time(0)), zone_name)
        end = to_instant(datetime.combine(day + timedelta(days=1), time(0)), zone_name)
        if start < to and from_ < end:
            found.append((start, end))
    return sorted(found)
