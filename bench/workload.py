"""The standard workload (WORKLOAD.md) as data: a seeded population and a timeline of events.

Both schedulers replay the same timeline, so every intent change, every cancellation
and every completed session is the same on both sides. Occurrence instants come from
Therabee's pure scheduling core (the wall-clock and DST policy both sides share).

Every therapist has 40 weekly hour slots (Mon–Fri 09:00–17:00 local). Each client gets
one of 20 primary slots of their therapist for their series; series moves ("this and
following") take a spare slot reserved for that series; one-by-one moves go to the
remaining spare slots, tracked per date, so no event ever collides with another.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from therabee.scheduling.expand import SeriesSpec, rule_starts
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, to_local, zone

T0 = datetime(2031, 1, 6, tzinfo=timezone.utc)  # a Monday; US and EU DST changes fall inside
WEEKS = 26
ZONES = ("America/New_York", "America/Los_Angeles", "Europe/Berlin")
DURATION = timedelta(minutes=50)
CLIENTS_PER_THERAPIST = 20
SLOTS = [(weekday, hour) for weekday in range(5) for hour in range(9, 17)]
DAYS = ("MO", "TU", "WE", "TH", "FR")


@dataclass(frozen=True)
class Segment:
    """One series row's worth of intent: a rule from `start` until `ends_before`."""

    key: str  # "<series>" or "<series>/split"
    start: datetime
    rrule: str
    created_at: datetime


@dataclass
class SeriesPlan:
    key: str
    therapist: int
    client: int
    zone: str
    kind: str  # weekly | biweekly | monthly
    booked_at: datetime
    segments: list[Segment] = field(default_factory=list)


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)  # book | pause | split | end | cancel | move | complete
    series: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


@dataclass
class Workload:
    therapists: list[str]  # zone of each therapist
    series: dict[str, SeriesPlan]
    events: list[Event]
    start: datetime
    end: datetime

    @property
    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for event in self.events:
            found[event.kind] = found.get(event.kind, 0) + 1
        return found


def _rule(kind: str, weekday: int, nth: int) -> str:
    return {"weekly": "FREQ=WEEKLY", "biweekly": "FREQ=WEEKLY;INTERVAL=2",
            "monthly": f"FREQ=MONTHLY;BYDAY=+{nth}{DAYS[weekday]}"}[kind]


def _first_local(kind: str, weekday: int, hour: int, nth: int, not_before: datetime, tz) -> datetime:
    """The first local start of the pattern at or after `not_before` (local)."""
    day = not_before.date()
    while True:
        candidate = datetime.combine(day, time(hour))
        if day.weekday() == weekday and candidate >= not_before:
            if kind != "monthly" or (day.day - 1) // 7 + 1 == nth:
                return candidate
        day += timedelta(days=1)


def occurrences(segment: Segment, zone_name: str, until: datetime) -> list[datetime]:
    spec = SeriesSpec(id=segment.key, start=segment.start, zone=zone_name, duration=DURATION,
                      rule=parse_rule(segment.rrule, zone(zone_name), 10**6))
    return rule_starts(spec, segment.start, until)


def _minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def build(scale: float = 1.0, seed: int = 7, weeks: int = WEEKS) -> Workload:
    """The seeded population and every event of the simulated half year, by time."""
    rng = random.Random(seed)
    start, end = T0, T0 + timedelta(weeks=weeks)
    n_therapists = max(1, round(50 * scale))
    n_clients = max(1, round(1000 * scale))
    therapists = [ZONES[i % len(ZONES)] for i in range(n_therapists)]
    slot_orders = [rng.sample(SLOTS, len(SLOTS)) for _ in therapists]
    split_slots = [order[CLIENTS_PER_THERAPIST:CLIENTS_PER_THERAPIST + 8] for order in slot_orders]
    move_slots = [order[CLIENTS_PER_THERAPIST + 8:] for order in slot_orders]
    taken: set[tuple[int, date, int]] = set()  # (therapist, local date, hour) of one-off moves
    events: list[Event] = []
    series: dict[str, SeriesPlan] = {}
    seq = iter(range(10**9))

    def add(at: datetime, kind: str, key: str, **data) -> None:
        events.append(Event(_minute(at), next(seq), kind, key, data))

    for client in range(n_clients):
        therapist = client % n_therapists
        slot_index = client // n_therapists
        if slot_index >= CLIENTS_PER_THERAPIST:
            continue  # more clients than primary slots: the population is full
        tz_name = therapists[therapist]
        tz = zone(tz_name)
        weekday, hour = slot_orders[therapist][slot_index]
        roll = rng.random()
        kind = "weekly" if roll < 0.7 else "biweekly" if roll < 0.9 else "monthly"
        nth = rng.randint(1, 4)
        booked_at = _minute(start + timedelta(seconds=rng.randrange(4 * 7 * 86400)))
        first = to_instant(_first_local(kind, weekday, hour, nth,
                                        to_local(booked_at + timedelta(hours=25), tz), tz), tz)
        key = f"s{client}"
        plan = SeriesPlan(key, therapist, client, tz_name, kind, booked_at)
        plan.segments.append(Segment(key, first, _rule(kind, weekday, nth), booked_at))
        series[key] = plan
        add(booked_at, "book", key)
        _series_events(rng, plan, end, split_slots[therapist], add)
        _occurrence_events(rng, plan, end, move_slots[therapist], taken, add)
    events.sort()
    return Workload(therapists, series, events, start, end)


def _series_events(rng: random.Random, plan: SeriesPlan, end: datetime, spare: list, add) -> None:
    """End (35 %), pause once (20 %), move "this and following" (10 %), consistently ordered."""
    tz = zone(plan.zone)
    first = plan.segments[0]
    base = occurrences(first, plan.zone, end)
    if len(base) < 3:
        return
    earliest = first.start + timedelta(weeks=1)

    def at_week() -> datetime:
        span = max(1, int((end - earliest).total_seconds() // 86400))
        return earliest + timedelta(days=rng.randrange(span))

    end_at = at_week() if rng.random() < 0.35 else None
    pause_at = at_week() if rng.random() < 0.20 else None
    split_at = at_week() if rng.random() < 0.10 else None
    if split_at and end_at and split_at >= end_at:
        split_at = None
    if split_at:
        base_from = next((s for s in base if s >= split_at), None)
        new_slot = spare.pop() if spare else None
        if base_from is None or new_slot is None:
            split_at = None
        else:
            act = base_from - timedelta(days=rng.uniform(2, 6))
            act = max(act, plan.booked_at + timedelta(hours=1))
            weekday, hour = new_slot
            nth = rng.randint(1, 4)
            monday = to_local(base_from, tz).date() - timedelta(days=to_local(base_from, tz).weekday())
            not_before = max(datetime.combine(monday, time(0)), to_local(act + timedelta(hours=25), tz))
            new_start = to_instant(_first_local(plan.kind, weekday, hour, nth, not_before, tz), tz)
            if new_start >= end:
                split_at = None
            else:
                child = Segment(plan.key + "/split", new_start, _rule(plan.kind, weekday, nth), _minute(act))
                plan.segments.append(child)
                plan.split_from = base_from  # type: ignore[attr-defined]
                add(act, "split", plan.key, from_=base_from, start=new_start, rrule=child.rrule)
    if end_at:
        current = plan.segments[-1]
        starts = _live_starts(plan, end)
        from_ = next((s for seg, s in starts if s >= end_at and seg is current), None)
        if from_ is None:
            end_at = None
        else:
            act = max(from_ - timedelta(days=rng.uniform(1, 5)), current.created_at + timedelta(minutes=1))
            if act + timedelta(hours=1) >= from_:
                end_at = None
            else:
                plan.end_from, plan.end_act = from_, act  # type: ignore[attr-defined]
                add(act, "end", plan.key, from_=from_)
    if pause_at:
        weeks = rng.randint(2, 4)
        first_day = to_local(pause_at, tz).date()
        last_day = first_day + timedelta(days=7 * weeks - 1)
        p0 = to_instant(datetime.combine(first_day, time(0)), tz)
        p1 = to_instant(datetime.combine(last_day + timedelta(days=1), time(0)), tz)
        split_from = getattr(plan, "split_from", None)
        end_from = getattr(plan, "end_from", None)
        segment = plan.segments[-1] if split_from and p0 >= split_from else plan.segments[0]
        if split_from and p0 < split_from < p1 or p1 >= end or end_from and p0 >= end_from:
            return
        act = max(p0 - timedelta(days=rng.uniform(1, 5)), segment.created_at + timedelta(minutes=1))
        if act >= p0 or to_local(act, tz).date() >= first_day:
            return
        end_act = getattr(plan, "end_act", None)
        split_act = plan.segments[-1].created_at if split_from else None
        if end_act and act >= end_act or split_act and segment is plan.segments[0] and act >= split_act:
            return
        plan.pause = (first_day, last_day)  # type: ignore[attr-defined]
        add(act, "pause", plan.key, segment=segment.key, from_date=first_day, until_date=last_day)


def _live_starts(plan: SeriesPlan, end: datetime) -> list[tuple[Segment, datetime]]:
    """(segment, original start) of every occurrence that the series-level events leave."""
    tz = zone(plan.zone)
    split_from = getattr(plan, "split_from", None)
    end_from = getattr(plan, "end_from", None)
    pause = getattr(plan, "pause", None)
    found = []
    for i, segment in enumerate(plan.segments):
        for s in occurrences(segment, plan.zone, end):
            if i == 0 and split_from and s >= split_from:
                break
            if end_from and s >= end_from:
                break
            if pause and pause[0] <= to_local(s, tz).date() <= pause[1]:
                continue
            found.append((segment, s))
    return found


def _occurrence_events(rng: random.Random, plan: SeriesPlan, end: datetime, spare: list,
                       taken: set, add) -> None:
    """Of the remaining occurrences 8 % are cancelled (half late), 4 % moved; the rest
    take place and are marked completed."""
    tz = zone(plan.zone)
    for segment, original in _live_starts(plan, end):
        roll = rng.random()
        start = original
        created = segment.created_at + timedelta(minutes=1)
        if roll < 0.08:
            late = rng.random() < 0.5
            act = original - (timedelta(hours=rng.uniform(1, 23)) if late
                              else timedelta(hours=rng.uniform(25, 144)))
            act = max(act, created)
            if act + timedelta(minutes=30) < original:
                add(act, "cancel", plan.key, segment=segment.key, original=original)
                continue
        elif roll < 0.12:
            act = max(original - timedelta(hours=rng.uniform(48, 120)), created)
            target = _free_spare(rng, plan.therapist, original, act, tz, spare, taken)
            if target is not None and target + DURATION <= end:
                add(act, "move", plan.key, segment=segment.key, original=original, start=target)
                start = target
        if start + DURATION <= end:
            add(start + DURATION + timedelta(minutes=5), "complete", plan.key, segment=segment.key,
                original=original)


def _free_spare(rng, therapist: int, original: datetime, act: datetime, tz, spare: list,
                taken: set) -> datetime | None:
    local = to_local(original, tz)
    monday = local.date() - timedelta(days=local.weekday())
    for weekday, hour in rng.sample(spare, len(spare)):
        day = monday + timedelta(days=weekday)
        instant = to_instant(datetime.combine(day, time(hour)), tz)
        if instant >= act + timedelta(hours=25) and (therapist, day, hour) not in taken:
            taken.add((therapist, day, hour))
            return instant
    return None


def floor_rows(workload: Workload) -> int:
    """One row per intent change + an insert and a status update per session that took place."""
    counts = workload.counts
    intents = sum(counts.get(k, 0) for k in ("book", "pause", "split", "end", "cancel", "move"))
    return intents + 2 * counts.get("complete", 0)


def timeline(workload: Workload) -> list[Event]:
    events = list(workload.events)
    heapq.heapify(events)
    return events
