"""DESIGN.md rule 4 through the API on the New York DST nights of 2027: listings, slots and the
sessions the horizon job makes keep the wall-clock time; a local time that does not exist
moves forward by the gap, an ambiguous one takes its first instant.

Expected instants are written out in UTC by hand from the offsets (`zdump -v -c 2027,2028
America/New_York`): EST (-5) until Sun 14 Mar 2027 02:00 → EDT (-4), at 07:00Z; back to EST
on Sun 7 Nov 2027 at 02:00 EDT (06:00Z), so 01:00–02:00 happens twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, register, therapist_with_hours
from therabee.services import clock

UTC = timezone.utc
ZONE = "America/New_York"
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:30"} for d in range(7)]
SESSION = timedelta(minutes=50)
STEP = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def half_hours(first: datetime, last: datetime) -> list[datetime]:
    """`first`, `first` + 30 min, ... up to and including `last`."""
    return [first + k * STEP for k in range(int((last - first) / STEP) + 1)]


@pytest.fixture
def pinned():
    """The services' clock held at `state["now"]` (set by the test before anything is written)."""
    state = {"now": None}
    clock.set_clock(lambda: state["now"])
    try:
        yield state
    finally:
        clock.set_clock(None)


def _daily(api, first: datetime, count: int) -> tuple:
    """A New York therapist available 00:00–23:30 every day, and a daily series of `count`
    50-minute sessions from `first`, booked by the therapist for a client."""
    therapist = therapist_with_hours(api, ZONE, ALL_DAY)
    client = register(api, "client", ZONE)
    booked = book(api, therapist, therapist, first, rrule=f"FREQ=DAILY;COUNT={count}", client_id=client.id)
    assert booked.status_code == 201, booked.text
    return therapist, booked.json()["id"]


def _listed(api, who, from_: datetime, to: datetime) -> list[tuple[datetime, datetime]]:
    response = api.get(f"{API}/occurrences", headers=who.auth, params={"from": from_.isoformat(), "to": to.isoformat()})
    assert response.status_code == 200, response.text
    return [(datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"])) for o in response.json()["items"]]


def _slots(api, therapist, from_: datetime, to: datetime) -> list[datetime]:
    response = api.get(f"{API}/therapists/{therapist.id}/slots", headers=therapist.auth,
                       params={"from": from_.isoformat(), "to": to.isoformat(), "duration_minutes": 50})
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(s["start"]) for s in response.json()["items"]]


def _sessions(series_id: str) -> list[datetime]:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    with get_engine().connect() as connection:
        return list(connection.execute(sa.select(Session.start).where(Session.series_id == series_id)
                                       .order_by(Session.start)).scalars())


def test_a_0230_daily_series_through_spring_forward_is_at_0330_edt_that_night_and_0230_after(api, pinned):
    from therabee.services import horizon

    pinned["now"] = utc(2027, 3, 11, 12)
    # Sat 13 Mar 02:30 EST; 02:30 on the 14th does not exist: 03:30 EDT; then 02:30 EDT
    therapist, series_id = _daily(api, utc(2027, 3, 13, 7, 30), 4)
    starts = [utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30), utc(2027, 3, 16, 6, 30)]
    expected = [(s, s + SESSION) for s in starts]
    assert _listed(api, therapist, utc(2027, 3, 12), utc(2027, 3, 18)) == expected

    # Sunday 14 March, local midnight (05:00Z) to local midnight (04:00Z): 00:00–01:30 EST,
    # then 03:00–22:30 EDT, less 03:00, 03:30 and 04:00 EDT, which the 03:30–04:20 session takes
    free = half_hours(utc(2027, 3, 14, 5), utc(2027, 3, 14, 6, 30)) + half_hours(utc(2027, 3, 14, 8, 30),
                                                                                 utc(2027, 3, 15, 2, 30))
    assert _slots(api, therapist, utc(2027, 3, 14, 5), utc(2027, 3, 15, 4)) == free

    horizon.tick()  # the horizon (72 h) ends Sun 14 Mar 12:00Z
    assert _sessions(series_id) == starts[:2]
    pinned["now"] = utc(2027, 3, 13, 12)  # the series' cursor is on the spring-forward occurrence
    horizon.tick()
    assert _sessions(series_id) == starts
    assert _listed(api, therapist, utc(2027, 3, 12), utc(2027, 3, 18)) == expected
    assert _slots(api, therapist, utc(2027, 3, 15, 4), utc(2027, 3, 16, 4)) == (  # Monday: 00:00–22:30 EDT
        half_hours(utc(2027, 3, 15, 4), utc(2027, 3, 15, 5, 30)) + half_hours(utc(2027, 3, 15, 7, 30),
                                                                              utc(2027, 3, 16, 2, 30)))


def test_a_0130_daily_series_through_fall_back_takes_the_first_0130(api, pinned):
    from therabee.services import horizon

    pinned["now"] = utc(2027, 11, 4, 12)
    # Sat 6 Nov 01:30 EDT; on the 7th 01:30 happens twice: the first (EDT); then 01:30 EST
    therapist, series_id = _daily(api, utc(2027, 11, 6, 5, 30), 3)
    starts = [utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]
    assert _listed(api, therapist, utc(2027, 11, 5), utc(2027, 11, 10)) == [(s, s + SESSION) for s in starts]

    # Sunday 7 November, 04:00Z to 05:00Z (25 hours): 00:00 and 00:30 EDT (01:00 EDT would run
    # into the session), then 02:00–22:30 EST; the second 01:00 and 01:30 are not wall-clock starts
    free = [utc(2027, 11, 7, 4), utc(2027, 11, 7, 4, 30)] + half_hours(utc(2027, 11, 7, 7), utc(2027, 11, 8, 3, 30))
    assert _slots(api, therapist, utc(2027, 11, 7, 4), utc(2027, 11, 8, 5)) == free

    pinned["now"] = utc(2027, 11, 6, 12)
    horizon.tick()
    assert _sessions(series_id) == starts[1:]
