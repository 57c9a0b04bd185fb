"""The simulated half year: one timeline, both schedulers, simulated minutes.

The horizon job runs at every simulated minute at which it can find work (the first
minute whose horizon passes some series' next_due_at or a moved occurrence without a
session); at every other minute it would read, find nothing, write nothing and call
nobody, so skipping those minutes changes no figure. Events happen on minute
boundaries, after that minute's tick. The eager top-up runs weekly (Monday 00:00 UTC).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.db import table_writes
from bench.workload import Event, Workload
from therabee.services import clock

log = logging.getLogger("bench")
MINUTE = timedelta(minutes=1)


@dataclass
class Side:
    """What one scheduler did: video calls by kind, latencies, errors, writes over time."""

    calls: Counter = field(default_factory=Counter)
    booking_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    writes: list[tuple[float, int]] = field(default_factory=list)  # (simulated day, cumulative rows)
    baseline: int = 0
    seconds: float = 0.0  # wall time spent in this scheduler


class Simulation:
    def __init__(self, workload: Workload, intent, eager, fake, urls: dict[str, str]) -> None:
        self.w, self.intent, self.eager, self.fake, self.urls = workload, intent, eager, fake, urls
        self.sides = {"intent": Side(), "eager": Side()}
        self.therapists: list[str] = []
        self.clients: dict[int, str] = {}
        self.ids: dict[str, dict[str, str]] = {"intent": {}, "eager": {}}
        self.ticks = 0
        self.topups: list[float] = []

    # -- set-up ----------------------------------------------------------------------------

    def setup(self) -> None:
        clock.set_clock(lambda: self.w.start - timedelta(days=1))
        self.therapists = self.intent.add_users(
            [("therapist", z, f"therapist-{i}") for i, z in enumerate(self.w.therapists)])
        for therapist_id, zone_name in zip(self.therapists, self.w.therapists):
            self.intent.set_hours(therapist_id, zone_name)
            self.eager.add_therapist(therapist_id, zone_name, _WEEKLY)
        plans = sorted(self.w.series.values(), key=lambda p: p.client)
        ids = self.intent.add_users([("client", p.zone, f"client-{p.client}") for p in plans])
        self.clients = {p.client: i for p, i in zip(plans, ids)}
        for name, side in self.sides.items():
            side.baseline = self.writes(name)

    def writes(self, name: str) -> int:
        from therabee.db.engine import get_engine

        engines = [get_engine()] if name == "intent" else [self.eager.engine]
        return sum(table_writes(engines, self.urls[name]).values())

    # -- running ---------------------------------------------------------------------------

    def _on(self, name: str, action, *args):
        side = self.sides[name]
        before = self.fake.calls
        began = time.perf_counter()
        try:
            result = action(*args)
            if name == "intent":
                self.intent.drain()
        except Exception as exc:  # noqa: BLE001 - counted and reported; the smoke test wants none
            result = None
            side.errors.append(f"{getattr(action, '__name__', action)}: {type(exc).__name__}: {exc}"[:300])
            log.warning("%s %s failed: %s", name, getattr(action, "__name__", action), exc)
        side.seconds += time.perf_counter() - began
        after = self.fake.calls
        side.calls.update({k: after[k] - before[k] for k in after if after[k] != before[k]})
        return result

    def _apply(self, event: Event) -> None:
        plan = self.w.series[event.series]
        client = self.clients[plan.client]
        therapist = self.therapists[plan.therapist]
        d = event.data
        i_ids, e_ids = self.ids["intent"], self.ids["eager"]
        now = clock.now()
        if event.kind == "book":
            segment = plan.segments[0]
            booked = self._on("intent", self.intent.book, client, therapist, segment.start, segment.rrule)
            if booked:
                i_ids[segment.key] = booked[0]
                self.sides["intent"].booking_seconds.append(booked[1])
            began = time.perf_counter()
            e_id = self._on("eager", self.eager.book, therapist, client, segment.start, plan.zone,
                            segment.rrule, now)
            if e_id:
                e_ids[segment.key] = e_id
                self.sides["eager"].booking_seconds.append(time.perf_counter() - began)
        elif event.kind == "split":
            key, child = plan.segments[0].key, plan.segments[1].key
            new = self._on("intent", self.intent.split, client, i_ids.get(key), d["from_"], d["start"], d["rrule"])
            i_ids[child] = new
            e_ids[child] = self._on("eager", self.eager.split, e_ids.get(key), d["from_"], d["start"],
                                    d["rrule"], now)
        elif event.kind == "end":
            key = plan.segments[-1].key
            self._on("intent", self.intent.end, client, i_ids.get(key), d["from_"])
            self._on("eager", self.eager.end, e_ids.get(key), d["from_"])
        elif event.kind == "pause":
            key = d["segment"]
            self._on("intent", self.intent.pause, client, i_ids.get(key), d["from_date"], d["until_date"])
            self._on("eager", self.eager.pause, e_ids.get(key), d["from_date"], d["until_date"])
        elif event.kind == "cancel":
            key = d["segment"]
            self._on("intent", self.intent.cancel, client, i_ids.get(key), d["original"])
            self._on("eager", self.eager.cancel, e_ids.get(key), d["original"])
        elif event.kind == "move":
            key = d["segment"]
            self._on("intent", self.intent.move, client, i_ids.get(key), d["original"], d["start"])
            self._on("eager", self.eager.move, e_ids.get(key), d["original"], d["start"], plan.zone)
        elif event.kind == "complete":
            key = d["segment"]
            self._on("intent", self.intent.complete, therapist, i_ids.get(key), d["original"])
            self._on("eager", self.eager.complete, e_ids.get(key), d["original"])

    def _sample(self, at: datetime) -> None:
        day = (at - self.w.start).total_seconds() / 86400
        for name, side in self.sides.items():
            side.writes.append((day, self.writes(name) - side.baseline))

    def run(self, progress=None) -> None:
        events = list(self.w.events)
        heapq.heapify(events)
        now = self.w.start - MINUTE
        next_topup = self.w.start + timedelta(weeks=1)
        next_sample = self.w.start
        far = self.w.end + timedelta(days=1)
        while True:
            due = self.intent.next_due(now)
            t_tick = max(due, now + MINUTE) if due else far
            t = min(events[0].at if events else far, t_tick, next_topup, next_sample)
            if t >= self.w.end:
                break
            clock.set_clock(lambda t=t: t)
            if t == next_sample:
                self._sample(t)
                next_sample += timedelta(weeks=1)
            if t == t_tick:
                self._on("intent", self.intent.tick)
                self.ticks += 1
            if t == next_topup:
                began = time.perf_counter()
                self._on("eager", self.eager.top_up, t)
                self.topups.append(time.perf_counter() - began)
                next_topup += timedelta(weeks=1)
            while events and events[0].at == t:
                self._apply(heapq.heappop(events))
                if progress:
                    progress()
            now = t
        clock.set_clock(lambda: self.w.end)
        self._sample(self.w.end)


    def checks(self) -> dict:
        """Counts the smoke test holds against each other (taken before any probe)."""
        import sqlalchemy as sa

        from therabee.db.engine import get_engine

        with get_engine().connect() as c:
            states = dict(c.execute(sa.text(
                "SELECT meeting_state, count(*) FROM sessions GROUP BY meeting_state")).all())
            intent_completed = c.execute(sa.text(
                "SELECT count(*) FROM sessions WHERE status = 'completed'")).scalar_one()
        with self.eager.engine.connect() as c:
            eager_live = c.execute(sa.text("SELECT count(*) FROM e_meetings WHERE status = 'live'")).scalar_one()
            eager_completed = c.execute(sa.text(
                "SELECT count(*) FROM e_sessions WHERE status = 'completed'")).scalar_one()
        return {"intent_meeting_states": states, "intent_completed": intent_completed,
                "eager_live_meetings": eager_live, "eager_completed": eager_completed,
                "fake_zoom_live_meetings": len(self.fake.meetings),
                "workload_completions": self.w.counts.get("complete", 0)}


_WEEKLY = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
