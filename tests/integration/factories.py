"""Test set-up through the real code: users, tokens and availability via the HTTP API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from therabee.services import clock

API = "/api/v1"
WEEKDAYS_9_TO_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


@dataclass
class Person:
    id: str
    email: str
    token: str
    timezone: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def register(client: TestClient, role: str, timezone_name: str = "America/New_York",
             name: str | None = None) -> Person:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
    response = client.post(f"{API}/auth/register", json={
        "email": email, "password": "correct horse battery", "name": name or f"{role.title()} Test",
        "role": role, "timezone": timezone_name})
    assert response.status_code == 201, response.text
    token = client.post(f"{API}/auth/token", json={"email": email, "password": "correct horse battery"})
    assert token.status_code == 200, token.text
    return Person(response.json()["id"], email, token.json()["access_token"], timezone_name)


def therapist_with_hours(client: TestClient, timezone_name: str = "America/New_York",
                         weekly: list | None = None) -> Person:
    therapist = register(client, "therapist", timezone_name)
    response = client.put(f"{API}/therapists/me/availability", headers=therapist.auth,
                          json={"timezone": timezone_name, "weekly": weekly or WEEKDAYS_9_TO_17})
    assert response.status_code == 200, response.text
    return therapist


def next_weekday_at(weekday: int, hour: int, zone_name: str, weeks_ahead: int = 1) -> datetime:
    """That weekday and local hour, at least `weeks_ahead` weeks from now, aware in `zone_name`:
    adding weeks to it keeps the local hour across DST changes, as a weekly series does."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone_name)
    day = clock.now().astimezone(tz).date() + timedelta(weeks=weeks_ahead)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def book(client: TestClient, who: Person, therapist: Person, start: datetime,
         rrule: str | None = "FREQ=WEEKLY", duration: int = 50, **extra):
    body = {"therapist_id": therapist.id, "start": start.isoformat(), "duration_minutes": duration,
            "rrule": rrule, **extra}
    return client.post(f"{API}/series", headers=who.auth, json=body)
