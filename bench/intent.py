"""Therabee driven as in production: bookings through the HTTP API (granian, in this
process so it shares the simulated clock), changes through the service layer, the
horizon job and the meeting jobs through the real task functions, called in-process.

Import only after the THERABEE_* variables are set (bench.__main__ does it).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa

from tasks.jobs import JOB_TASKS, horizon_tick
from tasks.celery_app import app as celery_app
from therabee.api.app import create_app
from therabee.db.engine import get_engine, unit_of_work
from therabee.db.models import User
from therabee.scheduling.ids import OccurrenceId
from therabee.services import auth, availability, jobs, occurrences, series_changes
from therabee.settings import get_settings

WEEKDAYS_9_TO_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
API = "/api/v1"


class HttpServer:
    """The real ASGI app on granian (the production server), in a thread of this process."""

    def __init__(self, port: int) -> None:
        from granian.constants import Interfaces
        from granian.server.embed import Server

        self.port = port
        self._server = Server(create_app(), address="127.0.0.1", port=port, interface=Interfaces.ASGI,
                              log_enabled=False)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True,
                                        name="bench-granian")

    def start(self) -> httpx.Client:
        self._thread.start()
        client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}{API}", timeout=30)
        for _ in range(100):
            try:
                client.get("/health")
                return client
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("granian did not start")

    def stop(self) -> None:
        self._server.stop()


class Intent:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.queue: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}
        jobs.set_dispatcher(self._enqueue)

    def _enqueue(self, name: str, payload: dict) -> None:
        with self._lock:
            self.queue.append((name, payload))

    def drain(self) -> int:
        """Run queued meeting jobs as a worker would (the task functions, in this thread)."""
        done = 0
        while True:
            with self._lock:
                if not self.queue:
                    return done
                name, payload = self.queue.pop(0)
            celery_app.tasks[JOB_TASKS[name]](**payload)
            done += 1

    # -- people ----------------------------------------------------------------------------

    def add_users(self, rows: list[tuple[str, str, str]]) -> list[str]:
        """(role, timezone, name) rows, written in one transaction (set-up, not measured).
        One argon2 hash is shared: nobody signs in with a password; tokens are issued."""
        password_hash = auth.hash_password("bench password, never used")
        made = []
        with unit_of_work() as db:
            for role, zone_name, name in rows:
                user = User(email=f"{name}@bench.test", name=name, role=role, timezone=zone_name,
                            password_hash=password_hash)
                db.add(user)
                made.append(user)
            db.flush()
        for user in made:
            self.users[user.id] = user
            self.tokens[user.id] = auth.issue_token(user.id, user.role)[0]
        return [u.id for u in made]

    def set_hours(self, therapist_id: str, zone_name: str) -> None:
        availability.set_availability(self.users[therapist_id], zone_name, WEEKDAYS_9_TO_17)

    # -- the use cases ---------------------------------------------------------------------

    def book(self, client_id: str, therapist_id: str, start: datetime, rrule: str | None) -> tuple[str, float]:
        """POST /series as the client; (series id, seconds)."""
        body = {"therapist_id": therapist_id, "start": start.isoformat(), "duration_minutes": 50,
                "rrule": rrule}
        began = time.perf_counter()
        response = self.http.post("/series", json=body,
                                  headers={"Authorization": f"Bearer {self.tokens[client_id]}"})
        elapsed = time.perf_counter() - began
        if response.status_code != 201:
            raise RuntimeError(f"booking refused: {response.status_code} {response.text}")
        return response.json()["id"], elapsed

    def pause(self, client_id: str, series_id: str, from_date, until_date) -> None:
        series_changes.pause(self.users[client_id], series_id, from_date, until_date)

    def end(self, client_id: str, series_id: str, from_: datetime) -> None:
        series_changes.end(self.users[client_id], series_id, from_)

    def split(self, client_id: str, series_id: str, from_: datetime, start: datetime, rrule: str) -> str:
        return series_changes.split(self.users[client_id], series_id, from_, start=start, rrule=rrule)["id"]

    def cancel(self, client_id: str, series_id: str, original: datetime) -> None:
        occurrences.cancel(self.users[client_id], OccurrenceId(series_id, original).to_string())

    def move(self, client_id: str, series_id: str, original: datetime, start: datetime) -> None:
        occurrences.move(self.users[client_id], OccurrenceId(series_id, original).to_string(), start)

    def complete(self, therapist_id: str, series_id: str, original: datetime) -> None:
        occurrences.attendance(self.users[therapist_id], OccurrenceId(series_id, original).to_string(),
                               "completed")

    def tick(self) -> dict:
        """The beat task `therabee.horizon.tick`, run in-process like tasks.embedded does."""
        return horizon_tick()

    # -- when is the next tick that can do anything? --------------------------------------

    def next_due(self, now: datetime) -> datetime | None:
        """The first minute at which a tick finds work: a series' next_due_at or a moved
        occurrence without a session entering the horizon. Ticks at other minutes write
        nothing and call nobody, so skipping them changes nothing."""
        horizon = timedelta(hours=get_settings().horizon_hours)
        with get_engine().connect() as c:
            due = c.execute(sa.text("SELECT min(next_due_at) FROM series WHERE next_due_at IS NOT NULL")).scalar()
            moved = c.execute(sa.text(
                "SELECT min(e.new_start) FROM exceptions e JOIN series r ON r.id = e.series_id"
                " LEFT JOIN sessions s ON s.series_id = e.series_id AND s.original_start = e.original_start"
                " WHERE e.kind = 'moved' AND s.id IS NULL AND e.new_start >= :now"
                " AND (r.ends_before IS NULL OR e.original_start < r.ends_before)"), {"now": now}).scalar()
        candidates = [t for t in (due, moved) if t is not None]
        if not candidates:
            return None
        first = min(candidates) - horizon  # due once horizon_end = minute + horizon passes it
        return first.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def waste(self, end: datetime) -> dict:
        """Rows written for sessions that did not take place, from their final state:
        insert + horizon cursor update + one per meeting state reached + the cancellation."""
        with get_engine().connect() as c:
            rows = c.execute(sa.text(
                "SELECT status, meeting_state, count(*) FROM sessions GROUP BY status, meeting_state")).all()
        per_state = {"none": 0, "creating": 1, "created": 2, "deleted": 3}
        wasted = useful = 0
        for status, state, n in rows:
            writes = 2 + per_state.get(state, 0) + (1 if status != "scheduled" else 0)
            if status == "completed":
                useful += n * writes
            else:
                wasted += n * writes
        return {"useful": useful, "wasted": wasted}
