"""The calendar model (DESIGN.md, "calendar model"): one value that answers which
occurrences exist in a window, which time is busy and which is free.

It is built from the rows of a window — each series with its exceptions, pauses and
sessions, and the therapists' time away (time off and public holidays) — and every
path asks it: booking, slots, moves, splits, unpauses, time off, the horizon job, the
feed and the read models. Nothing else re-derives occurrences or busy time.

Two views of the same rows:

- *visible* occurrences (`occurrences`) are what happens: time away hides what it
  overlaps, pauses hide what falls on their days.
- *reserved* time (`busy`) is what nobody else may take: every active occurrence,
  including one hidden by time away (it comes back when the time away goes, so its time
  stays the series'), plus the time away itself. Buffers (`pad`) keep free time between
  two occurrences; they do not apply around time away.

All instants are aware UTC; windows are half-open `[from_, to)` over an occurrence's
current (possibly moved) start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from therabee.scheduling.conflicts import Busy, BusyIndex, Slot, WeeklyHours, free_slots
from therabee.scheduling.expand import (ACTIVE_STATUSES, ExceptionSpec, Interval, Occurrence,
                                        PauseSpec, SeriesSpec, SessionSpec, expand)


@dataclass(frozen=True)
class Away:
    """Time a therapist is away: `kind` is "time_off" or "holiday"."""

    start: datetime
    end: datetime
    kind: str = "time_off"


@dataclass(frozen=True)
class SeriesState:
    """A series with every change to it that touches the window.

    `exceptions` and `sessions` must include each one whose original or current start
    lies in the window (for a series with `sessions_limit`: all of them)."""

    spec: SeriesSpec
    therapist_id: str = ""
    exceptions: tuple[ExceptionSpec, ...] = ()
    pauses: tuple[PauseSpec, ...] = ()
    sessions: tuple[SessionSpec, ...] = ()


Skip = Callable[[Occurrence], bool]


@dataclass(frozen=True)
class Calendar:
    """Series and time away of one therapist (or, for listings, of several).

    `away` maps a therapist id to their time away; `pad` is the free time kept between
    two occurrences (buffer before + after) and is meaningful for one therapist only,
    as are `busy`, `collisions` and `free`.
    """

    series: tuple[SeriesState, ...] = ()
    away: Mapping[str, Sequence[Away]] = field(default_factory=dict)
    pad: timedelta = timedelta(0)

    def without_away(self) -> Calendar:
        return Calendar(self.series, {}, self.pad)

    def _expand(self, from_: datetime, to: datetime, keep_away: bool = False,
                keep_paused: bool = False) -> list[Occurrence]:
        found = []
        for state in self.series:
            away = [Interval(a.start, a.end) for a in self.away.get(state.therapist_id, ())]
            found += expand(state.spec, from_, to, state.exceptions, state.pauses, state.sessions,
                            away, keep_away=keep_away, keep_paused=keep_paused)
        found.sort(key=lambda o: (o.start, o.series_id))
        return found

    def occurrences(self, from_: datetime, to: datetime) -> list[Occurrence]:
        """Every visible occurrence starting in `[from_, to)` (cancelled ones included,
        with their status), by start then series id."""
        return self._expand(from_, to)

    def reserved(self, from_: datetime, to: datetime, skip: Skip | None = None) -> list[Occurrence]:
        """Active occurrences starting in `[from_, to)` whose time is taken, including
        those hidden by time away."""
        return [o for o in self._expand(from_, to, keep_away=True)
                if o.status in ACTIVE_STATUSES and not (skip and skip(o))]

    def remaining(self, from_: datetime, to: datetime) -> list[Occurrence]:
        """Active occurrences starting in `[from_, to)`, including those hidden by time
        away or a pause: what a series still has, as they come back when those go."""
        return [o for o in self._expand(from_, to, keep_away=True, keep_paused=True)
                if o.status in ACTIVE_STATUSES]

    def busy(self, from_: datetime, to: datetime, skip: Skip | None = None) -> list[Busy]:
        """Busy intervals touching the window: reserved occurrences (`skip` leaves out
        the ones a change replaces) and time away. Occurrences are found by start, so
        pass a window that reaches one longest duration before the time you check."""
        busy = [Busy(o.start, o.end, o.id) for o in self.reserved(from_, to, skip)]
        for intervals in self.away.values():
            busy += [Busy(a.start, a.end, None, a.kind) for a in intervals
                     if a.start < to and from_ < a.end]
        return sorted(busy, key=lambda b: b.start)

    def free(self, hours: Sequence[WeeklyHours], zone_name: str, from_: datetime, to: datetime,
             duration: timedelta, step: timedelta, not_before: datetime | None = None) -> list[Slot]:
        """Starts in `[from_, to)` inside the weekly hours (in `zone_name`) whose
        `[start, start + duration)` is clear of busy time."""
        busy = self.busy(from_ - duration - timedelta(days=1), to + duration)
        return free_slots(hours, zone_name, busy, from_, to, duration, step, pad=self.pad,
                          not_before=not_before)

    def arrivals(self, after: Calendar, from_: datetime, to: datetime) -> list[Occurrence]:
        """Occurrences a change brings (`self` before it, `after` after it): visible and
        active in `after` in `[from_, to)` but not, at that time, in `self` — what an
        unpause, a removed time off, a move or a split un-hides or adds."""
        before = {(o.id, o.start, o.end) for o in self.occurrences(from_, to)
                  if o.status in ACTIVE_STATUSES}
        return [o for o in after.occurrences(from_, to)
                if o.status in ACTIVE_STATUSES and (o.id, o.start, o.end) not in before]

    def claims(self, after: Calendar, from_: datetime, to: datetime) -> list[Occurrence]:
        """Everything a change asks to be checked: the occurrences whose time `after`
        reserves in `[from_, to)` and `self` did not, and the arrivals (an occurrence
        un-hidden by removed time away was reserved already, but now happens)."""
        before = {(o.id, o.start, o.end) for o in self.reserved(from_, to)}
        found = {(o.id, o.start, o.end): o for o in after.reserved(from_, to)
                 if (o.id, o.start, o.end) not in before}
        for o in self.arrivals(after, from_, to):
            found.setdefault((o.id, o.start, o.end), o)
        return sorted(found.values(), key=lambda o: (o.start, o.series_id))

    def clashes(self, occurrences: Sequence[Occurrence],
                reach: timedelta = timedelta(days=1)) -> list[Busy]:
        """Reserved occurrences that any of `occurrences` collides with (each checked
        against every occurrence but itself, buffers applied), each once, by start.
        Time away is not checked here: see `away_during`."""
        if not occurrences:
            return []
        from_ = min(o.start for o in occurrences) - reach
        to = max(o.end for o in occurrences) + reach
        index = BusyIndex([Busy(o.start, o.end, o.id) for o in self.reserved(from_, to)], self.pad)
        hits: dict[tuple, Busy] = {}
        for occurrence in occurrences:
            for b in index.overlapping(occurrence.start, occurrence.end):
                if b.occurrence_id != occurrence.id:
                    hits[(b.start, b.end, b.occurrence_id)] = b
        return sorted(hits.values(), key=lambda b: b.start)

    def away_during(self, start: datetime, end: datetime) -> list[Busy]:
        """The time away that `[start, end)` overlaps (a chosen time may not fall there)."""
        return [Busy(a.start, a.end, None, a.kind) for intervals in self.away.values()
                for a in intervals if a.start < end and start < a.end]
