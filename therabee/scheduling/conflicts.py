"""Overlap search and free slots. Pure: callers pass every busy interval they know."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

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


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int  # Monday 0
    start: time
    end: time


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
    """Does `[start, end)` fall inside one weekly block, in the availability's zone?"""
    tz = zone(zone_name)
    local_start, local_end = to_local(start, tz), to_local(end, tz)
    if local_end.date() != local_start.date() and (
            local_end.time() != time(0) or local_end.date() - local_start.date() > timedelta(days=1)):
        return False  # only an end at the following midnight may leave the start's day
    end_time = local_end.time() if local_end.date() == local_start.date() else time.max
    return any(
        block.weekday == local_start.weekday() and block.start <= local_start.time()
        and end_time <= block.end
        for block in weekly
    )


def free_slots(weekly: Sequence[WeeklyHours], zone_name: str, busy: Iterable[Busy],
               from_: datetime, to: datetime, duration: timedelta,
               step: timedelta = timedelta(minutes=30), pad: timedelta = timedelta(0),
               not_before: datetime | None = None) -> list[Slot]:
    """Starts in `[from_, to)` inside availability and clear of every busy interval."""
    tz = zone(zone_name)
    index = BusyIndex(busy, pad)
    earliest = max(from_, not_before) if not_before else from_
    slots = []
    day = to_local(from_, tz).date()
    last_day = to_local(to, tz).date()
    blocks_by_day = {}
    for block in weekly:
        blocks_by_day.setdefault(block.weekday, []).append(block)
    while day <= last_day:
        for block in sorted(blocks_by_day.get(day.weekday(), ()), key=lambda b: b.start):
            local = datetime.combine(day, block.start)
            block_end = datetime.combine(day, block.end)
            while local + duration <= block_end:
                start = to_instant(local, tz)
                end = start + duration
                if earliest <= start < to and not index.overlapping(start, end):
                    slots.append(Slot(start, end))
                local += step
        day += timedelta(days=1)
    return slots
