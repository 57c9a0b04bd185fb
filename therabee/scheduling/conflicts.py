"""Overlap search and free slots. Pure: callers pass every busy interval they know."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from therabee.scheduling.timezones import to_instant, to_local, zone


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    occurrence_id: object = None  # what str() turns into the occurrence id (built only if reported)
    kind: str = "occurrence"  # or "time_off" / "holiday": no buffer is kept around those

    @property
    def padded(self) -> bool:
        return self.kind == "occurrence"


# A block's end at the midnight that ends its day (written "24:00"). `time` has no 24:00;
# time.max is later than every other end, so blocks still compare and sort by wall clock.
END_OF_DAY = time.max


@dataclass(frozen=True)
class WeeklyHours:
    """Hours on one weekday, in wall-clock time of the availability's zone."""

    weekday: int  # Monday 0
    start: time
    end: time  # after start; END_OF_DAY for a block that runs to midnight

    def local_span(self, day: date) -> tuple[datetime, datetime]:
        """The block on `day` as naive wall-clock times; an END_OF_DAY end is 00:00 of the next day."""
        end = datetime.combine(day + timedelta(days=1), time(0)) if self.end == END_OF_DAY \
            else datetime.combine(day, self.end)
        return datetime.combine(day, self.start), end

    def span(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The block on local `day` as aware UTC instants `[start, end)`, by the zone policy:
        an END_OF_DAY end is the local midnight that starts the next day (on a day of 23 or
        25 hours too; where that midnight does not exist, the instant the next day begins)."""
        local_start, local_end = self.local_span(day)
        return to_instant(local_start, tz), to_instant(local_end, tz)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


class BusyIndex:
    """Busy intervals sorted by start, for repeated overlap queries.

    `pad` is the free time kept between two sessions (buffer before + after); it does
    not apply to time away.
    """

    def __init__(self, busy: Iterable[Busy], pad: timedelta = timedelta(0)):
        self._busy = sorted(busy, key=lambda b: b.start)
        self._starts = [b.start for b in self._busy]
        self._longest = max((b.end - b.start for b in self._busy), default=timedelta(0))
        self._pad = pad

    def overlapping(self, start: datetime, end: datetime) -> list[Busy]:
        hi = bisect_left(self._starts, end + self._pad)
        lo = bisect_left(self._starts, start - self._longest - self._pad)
        found = []
        for b in self._busy[lo:hi]:
            pad = self._pad if b.padded else timedelta(0)
            if start < b.end + pad and b.start < end + pad:
                found.append(b)
        return found


def find_conflicts(candidates: Iterable[tuple[datetime, datetime]], busy: Iterable[Busy],
                   pad: timedelta = timedelta(0)) -> list[Busy]:
    """Every busy interval that collides with any candidate, each once, by start."""
    index = BusyIndex(busy, pad)
    hits: dict[tuple, Busy] = {}
    for start, end in candidates:
        for b in index.overlapping(start, end):
            hits[(b.start, b.end, b.occurrence_id, b.kind)] = b
    return sorted(hits.values(), key=lambda b: b.start)


def within_availability(weekly: Sequence[WeeklyHours], zone_name: str,
                        start: datetime, end: datetime) -> bool:
    """Does `[start, end)` (aware instants) fall inside one weekly block of the day it starts
    on, in the availability's zone? A block ending at END_OF_DAY holds a session ending at
    midnight; nothing runs on into the next day's block."""
    tz = zone(zone_name)
    day = to_local(start, tz).date()
    for block in weekly:
        if block.weekday == day.weekday():
            block_start, block_end = block.span(day, tz)
            if block_start <= start and end <= block_end:
                return True
    return False


def free_slots(weekly: Sequence[WeeklyHours], zone_name: str, busy: Iterable[Busy],
               from_: datetime, to: datetime, duration: timedelta,
               step: timedelta = timedelta(minutes=30), pad: timedelta = timedelta(0),
               not_before: datetime | None = None) -> list[Slot]:
    """Starts in `[from_, to)` inside availability and clear of every busy interval, by start.

    Starts are the block's start plus whole steps of local wall-clock time; each must fit its
    block as `within_availability` judges it, so every slot offered can be booked. A local
    time that does not exist becomes its instant by the zone policy, and is offered once."""
    tz = zone(zone_name)
    index = BusyIndex(busy, pad)
    earliest = max(from_, not_before) if not_before else from_
    slots: dict[datetime, Slot] = {}
    day = to_local(from_, tz).date()
    last_day = to_local(to, tz).date()
    blocks_by_day = {}
    for block in weekly:
        blocks_by_day.setdefault(block.weekday, []).append(block)
    while day <= last_day:
        for block in blocks_by_day.get(day.weekday(), ()):
            block_start, block_end = block.span(day, tz)
            local, local_end = block.local_span(day)
            while local < local_end:
                start = to_instant(local, tz)
                end = start + duration
                if (block_start <= start and end <= block_end and earliest <= start < to
                        and start not in slots and not index.overlapping(start, end)):
                    slots[start] = Slot(start, end)
                local += step
        day += timedelta(days=1)
    return sorted(slots.values(), key=lambda s: s.start)
