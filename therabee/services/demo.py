"""Demo data for `make run`: a few therapists with hours and clients with series.

Idempotent: people are looked up by email, and a client's series is booked only if
that client has none yet, so a second run writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import select

from therabee.db.engine import read_only
from therabee.db.models import Series, User
from therabee.scheduling.timezones import to_instant, zone
from therabee.services import availability, booking, clock, people

PASSWORD = "therabee-demo"
WEEKDAYS = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]

THERAPISTS = [
    ("dr.rivera@demo.therabee", "Dr. Ana Rivera", "America/New_York"),
    ("dr.schmidt@demo.therabee", "Dr. Jonas Schmidt", "Europe/Berlin"),
    ("dr.okafor@demo.therabee", "Dr. Grace Okafor", "America/Los_Angeles"),
]
# (email, name, zone, therapist index, weekday, local hour, rrule, sessions_limit)
CLIENTS = [
    ("sam@demo.therabee", "Sam Lee", "America/Chicago", 0, 1, 10, "FREQ=WEEKLY", None),
    ("noor@demo.therabee", "Noor Haddad", "Europe/London", 1, 3, 14, "FREQ=WEEKLY;INTERVAL=2", None),
    ("alex@demo.therabee", "Alex Kim", "America/Los_Angeles", 2, 0, 11, "FREQ=MONTHLY;BYDAY=1MO", None),
    ("maria@demo.therabee", "Maria Santos", "America/New_York", 0, 3, 15, "FREQ=WEEKLY;BYDAY=MO,TH", 12),
]
PEOPLE = len(THERAPISTS) + len(CLIENTS)


def _user(email: str, name: str, role: str, zone_name: str) -> User:
    with read_only() as db:
        found = db.exec(select(User).where(User.email == email)).first()
    if found is not None:
        return found
    people.register(email, PASSWORD, name, role, zone_name)
    with read_only() as db:
        return db.exec(select(User).where(User.email == email)).one()


def _first_start(zone_name: str, weekday: int, hour: int, rrule: str) -> datetime:
    """The first matching day from next week, at `hour` local."""
    tz = zone(zone_name)
    day = clock.now().astimezone(tz).date() + timedelta(days=7)
    if "BYDAY=1MO" in rrule:  # first Monday of a month
        day = day.replace(day=1) + timedelta(days=31)
        day = day.replace(day=1)
    if "BYDAY=MO,TH" in rrule:
        weekday = 0
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return to_instant(datetime(day.year, day.month, day.day, hour), tz)


def load_demo_data(advance: Callable[[], None] = lambda: None) -> list[tuple[str, str, str]]:
    """Create what is missing, calling `advance` once per person (PEOPLE in all); return
    the demo logins as (role, email, password)."""
    therapists = []
    for email, name, zone_name in THERAPISTS:
        therapist = _user(email, name, "therapist", zone_name)
        if availability.get_availability(therapist.id)["weekly"] == []:
            availability.set_availability(therapist, zone_name, WEEKDAYS)
        therapists.append(therapist)
        advance()
    for email, name, zone_name, index, weekday, hour, rrule, limit in CLIENTS:
        client = _user(email, name, "client", zone_name)
        with read_only() as db:
            has_series = db.exec(select(Series.id).where(Series.client_id == client.id)).first()
        if has_series is None:
            therapist = therapists[index]
            start = _first_start(therapist.timezone, weekday, hour, rrule)
            booking.book(client, therapist_id=therapist.id, client_id=None, start=start,
                         timezone=therapist.timezone, duration_minutes=50, rrule=rrule,
                         sessions_limit=limit)
        advance()
    logins = [("therapist", email, PASSWORD) for email, _, _ in THERAPISTS]
    return logins + [("client", c[0], PASSWORD) for c in CLIENTS]
