"""Set-up for the therapist pages' browser tests: people, hours and bookings through the live
app's HTTP API, and a browser page signed in with the session cookie."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from therabee.services import clock

API = "/api/v1"
PASSWORD = "correct horse battery"
EVERY_DAY_7_TO_21 = [{"weekday": d, "start": "07:00", "end": "21:00"} for d in range(7)]
# Browser tests take screenshots of the pages they visit; `make screenshots` sends them
# to docs/screenshots (the README's pictures), a plain test run to a git-ignored folder.
SCREENSHOTS = Path(os.environ.get("THERABEE_SCREENSHOTS_DIR")
                   or Path(__file__).resolve().parents[2] / ".therabee" / "screenshots")


@dataclass
class Person:
    id: str
    name: str
    token: str
    timezone: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def register(base: str, role: str, zone: str, name: str) -> Person:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
    name = f"{name} {uuid.uuid4().hex[:4]}"
    made = httpx.post(f"{base}{API}/auth/register", json={"email": email, "password": PASSWORD, "name": name,
                                                          "role": role, "timezone": zone}, timeout=10)
    assert made.status_code == 201, made.text
    token = httpx.post(f"{base}{API}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    assert token.status_code == 200, token.text
    return Person(made.json()["id"], name, token.json()["access_token"], zone)


def therapist_with_hours(base: str, zone: str = "Europe/Berlin", weekly: list | None = None) -> Person:
    therapist = register(base, "therapist", zone, "Dr. Lena Vogt")
    hours = httpx.put(f"{base}{API}/therapists/me/availability", headers=therapist.auth,
                      json={"timezone": zone, "weekly": weekly or EVERY_DAY_7_TO_21}, timeout=10)
    assert hours.status_code == 200, hours.text
    return therapist


def local(day: date, hour: int, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def book(base: str, who: Person, therapist: Person, start: datetime, zone: str, rrule: str | None = "FREQ=WEEKLY",
         duration: int = 50) -> dict:
    made = httpx.post(f"{base}{API}/series", headers=who.auth, timeout=10, json={
        "therapist_id": therapist.id, "start": start.isoformat(), "timezone": zone,
        "duration_minutes": duration, "rrule": rrule})
    assert made.status_code == 201, made.text
    return made.json()


def sign_in(page: Page, base: str, person: Person) -> None:
    page.context.add_cookies([{"name": "therabee_session", "value": person.token, "url": base}])


def weeks_between(today: date, day: date) -> int:
    """How many weeks (Monday to Monday) `day` lies after the week of `today`."""
    return ((day - timedelta(days=day.weekday())) - (today - timedelta(days=today.weekday()))).days // 7


def open_calendar_week_of(page: Page, day: date, zone: str) -> date:
    """Open /calendar and step to the week holding `day` (in the therapist's zone).

    Returns the day the calendar is now at: today moved by whole weeks (the month view shows its month).
    """
    page.goto("/calendar")
    expect(page.get_by_role("grid", name="Week of ")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Loading your calendar…")).to_have_count(0, timeout=20_000)
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    steps = weeks_between(today, day)
    button = page.get_by_role("button", name="Next" if steps > 0 else "Previous", exact=True)
    for _ in range(abs(steps)):
        label = page.get_by_test_id("range-label").inner_text()
        button.click()
        expect(page.get_by_test_id("range-label")).not_to_have_text(label, timeout=10_000)
    monday = day - timedelta(days=day.weekday())
    expect(page.get_by_test_id("range-label")).to_contain_text(f"{monday:%d %b}")
    expect(page.get_by_text("Loading your calendar…")).to_have_count(0, timeout=20_000)
    return today + timedelta(weeks=steps)
