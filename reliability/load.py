"""Load: simulated users booking, viewing weeks, cancelling and moving, all at once.

Clients book weekly, daily or one-off series a few days to weeks ahead (the minimum
notice holds them); therapists book one-offs for their clients inside the horizon,
open near occurrences (which materializes them and queues their meetings), view their
weeks and move sessions. Conflicts (409) and refusals by the rules (422) are answers,
not errors; an error is a 5xx, a transport failure, or any other status.

Bounded: `duration` seconds and at most `max_requests` requests, whichever comes first.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from reliability.metrics import Recorder
from tests.integration.factories import API, register, therapist_with_hours

ALL_WEEK = [{"weekday": d, "start": "07:00", "end": "21:00"} for d in range(7)]
RULES = [None, "FREQ=WEEKLY;COUNT=8", "FREQ=WEEKLY", "FREQ=DAILY;COUNT=5", "FREQ=WEEKLY;INTERVAL=2"]
EXPECTED = {
    "POST /series": {201, 409, 422},
    "GET /occurrences": {200},
    "GET /occurrences/{id}": {200},
    "POST /occurrences/{id}/cancel": {200, 422},
    "POST /occurrences/{id}/move": {200, 409, 422},
}


@dataclass
class User:
    id: str
    token: str
    role: str
    therapists: list = field(default_factory=list)  # for clients: whom they book with
    clients: list = field(default_factory=list)  # for therapists: whom they book for
    known: list = field(default_factory=list)  # occurrences seen in the last week view

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def make_people(env, clients: int, therapists: int, seed: int) -> list[User]:
    """Therapists with hours every day 07–21 UTC and clients spread over them."""
    rng = random.Random(seed)
    with env.http() as http:
        ts = [therapist_with_hours(http, "UTC", ALL_WEEK) for _ in range(therapists)]
        cs = [register(http, "client", "UTC") for _ in range(clients)]
    t_users = [User(t.id, t.token, "therapist") for t in ts]
    c_users = [User(c.id, c.token, "client", therapists=rng.sample(t_users, k=min(3, len(t_users))))
               for c in cs]
    for client in c_users:
        for therapist in client.therapists:
            therapist.clients.append(client)
    return c_users + t_users


def _slot(rng: random.Random, now: datetime, min_hours: float, max_hours: float) -> datetime:
    start = now + timedelta(hours=rng.uniform(min_hours, max_hours))
    start = start.replace(minute=0, second=0, microsecond=0)
    return start.replace(hour=rng.randint(7, 19)) if start.hour not in range(7, 20) else start


class Load:
    def __init__(self, env, users: list[User], recorder: Recorder, *, duration: float,
                 max_requests: int, seed: int) -> None:
        self.env, self.users, self.recorder = env, users, recorder
        self.duration, self.max_requests = duration, max_requests
        self.rng = random.Random(seed)
        self.sent = 0
        self.deadline = 0.0

    def _more(self) -> bool:
        return time.monotonic() < self.deadline and self.sent < self.max_requests

    async def call(self, http: httpx.AsyncClient, user: User, endpoint: str, method: str, path: str,
                   **kwargs) -> httpx.Response | None:
        self.sent += 1
        started = time.perf_counter()
        try:
            response = await http.request(method, f"{API}{path}", headers=user.auth, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.record(endpoint, type(exc).__name__, time.perf_counter() - started, set(), str(exc))
            return None
        self.recorder.record(endpoint, response.status_code, time.perf_counter() - started,
                             EXPECTED[endpoint], response.text)
        return response

    async def book(self, http, user: User) -> None:
        now = datetime.now(timezone.utc)
        if user.role == "client":
            therapist = self.rng.choice(user.therapists)
            body = {"therapist_id": therapist.id, "start": _slot(self.rng, now, 26, 24 * 21).isoformat(),
                    "duration_minutes": 50, "rrule": self.rng.choice(RULES)}
        else:
            client = self.rng.choice(user.clients) if user.clients else None
            if client is None:
                return
            body = {"therapist_id": user.id, "client_id": client.id, "duration_minutes": 50, "rrule": None,
                    "start": _slot(self.rng, now, 1, 60).isoformat()}
        response = await self.call(http, user, "POST /series", "POST", "/series", json=body)
        if response is not None and response.status_code == 201:
            self.env.ledger.booked.append(response.json()["id"])

    async def view(self, http, user: User) -> None:
        now = datetime.now(timezone.utc)
        start = now + timedelta(days=self.rng.choice([0, 0, 7, 14]))
        response = await self.call(http, user, "GET /occurrences", "GET", "/occurrences", params={
            "from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()})
        if response is not None and response.status_code == 200:
            user.known = [o for o in response.json()["items"] if o["status"] == "scheduled"
                          and datetime.fromisoformat(o["start"]) > now + timedelta(hours=2)]

    def _pick(self, user: User) -> dict | None:
        return user.known.pop(self.rng.randrange(len(user.known))) if user.known else None

    async def open(self, http, user: User) -> None:
        occurrence = self._pick(user)
        if occurrence:
            await self.call(http, user, "GET /occurrences/{id}", "GET", f"/occurrences/{occurrence['id']}")

    async def cancel(self, http, user: User) -> None:
        occurrence = self._pick(user)
        if not occurrence:
            return
        response = await self.call(http, user, "POST /occurrences/{id}/cancel", "POST",
                                   f"/occurrences/{occurrence['id']}/cancel", json={"reason": "load"})
        if response is not None and response.status_code == 200:
            self.env.ledger.cancelled.append(
                (occurrence["series_id"], datetime.fromisoformat(occurrence["original_start"])))

    async def move(self, http, user: User) -> None:
        occurrence = self._pick(user)
        if not occurrence:
            return
        start = datetime.fromisoformat(occurrence["start"]) + timedelta(hours=self.rng.choice([-2, 1, 2, 24]))
        await self.call(http, user, "POST /occurrences/{id}/move", "POST",
                        f"/occurrences/{occurrence['id']}/move", json={"start": start.isoformat()})

    async def user_loop(self, http, user: User) -> None:
        actions = [(self.view, 40), (self.book, 25), (self.open, 10), (self.cancel, 10), (self.move, 15)]
        funcs, weights = zip(*actions)
        while self._more():
            await self.rng.choices(funcs, weights)[0](http, user)
            await asyncio.sleep(self.rng.uniform(0, 0.05))

    async def run(self) -> float:
        limits = httpx.Limits(max_connections=len(self.users), max_keepalive_connections=len(self.users))
        async with httpx.AsyncClient(base_url=self.env.api.base_url, timeout=30, limits=limits) as http:
            self.deadline = self.deadline or time.monotonic() + self.duration
            started = time.monotonic()
            await asyncio.gather(*(self.user_loop(http, u) for u in self.users))
            return time.monotonic() - started


def run_load(env, *, users: int = 50, duration: float = 60, max_requests: int = 6000, seed: int = 7,
             tick_every: float = 10) -> dict:
    """The load scenario: figures, then the invariants once the jobs have settled."""
    therapists = max(2, users // 5)
    people = make_people(env, users - therapists, therapists, seed)
    recorder = Recorder()
    load = Load(env, people, recorder, duration=duration, max_requests=max_requests, seed=seed)

    async def with_ticks() -> float:
        load.deadline = time.monotonic() + duration
        async def ticker():
            while load._more():
                await asyncio.to_thread(env.producer.send_task, "therabee.horizon.tick")
                await asyncio.sleep(tick_every)
        elapsed, _ = await asyncio.gather(load.run(), ticker())
        return elapsed

    elapsed = asyncio.run(with_ticks())
    verdict, settle_seconds = env.settle()
    figures = recorder.as_dict()
    figures.update({"users": users, "seconds": round(elapsed, 1),
                    "throughput_rps": round(recorder.requests / elapsed, 1) if elapsed else 0,
                    "booked": len(env.ledger.booked), "cancelled": len(env.ledger.cancelled),
                    "settle_seconds": settle_seconds})
    return {"figures": figures, "invariants": verdict.as_dict(),
            "ok": verdict.ok and recorder.error_count == 0}
