"""Changing an intent through the API: pause, end, split, limits, cancel, move, open, attendance."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import clock

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
ALWAYS_OPEN = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def _occurrence_id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def _items(api, who, from_: datetime, to: datetime, **params) -> list[dict]:
    response = api.get(f"{API}/occurrences", headers=who.auth,
                       params={"from": from_.isoformat(), "to": to.isoformat(), **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _originals(items: list[dict]) -> list[datetime]:
    return [datetime.fromisoformat(i["original_start"]) for i in items]


def _session_rows(series_id: str) -> int:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM sessions WHERE series_id = :id"),
                                  {"id": series_id}).scalar_one()


@pytest.fixture
def weekly(api):
    """A weekly Tuesday 10:00 New York series of a client, from next week on."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)
    response = book(api, client, therapist, start)
    assert response.status_code == 201, response.text
    return {"therapist": therapist, "client": client, "start": start, "id": response.json()["id"]}


@pytest.fixture
def fixed_clock():
    """The services' clock held at tomorrow 08:00 UTC; tests move it with `state["now"]`."""

    tomorrow = clock.now().date() + timedelta(days=1)
    state = {"now": datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, tzinfo=timezone.utc)}
    clock.set_clock(lambda: state["now"])
    try:
        yield state
    finally:
        clock.set_clock(None)


@pytest.fixture
def open_practice(api):
    """A therapist available every day, all day, in UTC, and a client of theirs."""
    return therapist_with_hours(api, "UTC", ALWAYS_OPEN), register(api, "client", "UTC")


def _weeks(start: datetime, *weeks: int) -> list[datetime]:
    return [start + timedelta(weeks=w) for w in weeks]


def test_pause_skips_occurrences_and_removing_it_brings_them_back(api, weekly):
    start, series_id = weekly["start"], weekly["id"]
    paused_from = (start + timedelta(weeks=2)).astimezone(timezone.utc).date()
    pause = api.post(f"{API}/series/{series_id}/pauses", headers=weekly["client"].auth,
                     json={"from": str(paused_from), "until": str(paused_from + timedelta(days=13))})
    assert pause.status_code == 201, pause.text
    window = (start - timedelta(days=1), start + timedelta(weeks=6, days=-1))
    for who in (weekly["client"], weekly["therapist"]):
        assert _originals(_items(api, who, *window)) == _weeks(start, 0, 1, 4, 5)
    removed = api.delete(f"{API}/series/{series_id}/pauses/{pause.json()['id']}",
                         headers=weekly["client"].auth)
    assert removed.status_code == 204, removed.text
    for who in (weekly["client"], weekly["therapist"]):
        assert _originals(_items(api, who, *window)) == _weeks(start, 0, 1, 2, 3, 4, 5)


def test_end_from_an_occurrence_removes_it_and_later_ones(api, weekly):
    start, series_id = weekly["start"], weekly["id"]
    response = api.post(f"{API}/series/{series_id}/end", headers=weekly["client"].auth,
                        json={"from": (start + timedelta(weeks=3)).isoformat()})
    assert response.status_code == 200, response.text
    # three occurrences are left: the series stays active until the last of them is over
    assert response.json()["status"] == "active"
    assert datetime.fromisoformat(response.json()["ends_before"]) == start + timedelta(weeks=3)
    items = _items(api, weekly["therapist"], start - timedelta(days=1), start + timedelta(weeks=20))
    assert _originals(items) == _weeks(start, 0, 1, 2)


def test_split_with_a_new_time_keeps_earlier_and_carries_on_at_the_new_time(api, weekly):
    start, series_id = weekly["start"], weekly["id"]
    from_ = start + timedelta(weeks=3)
    before = table_writes()
    response = api.post(f"{API}/series/{series_id}/split", headers=weekly["client"].auth,
                        json={"from": from_.isoformat(), "start": (from_ + timedelta(hours=1)).isoformat()})
    assert response.status_code == 201, response.text
    assert table_writes() - before <= 2
    new = response.json()
    assert new["parent_id"] == series_id and new["id"] != series_id
    window = (start - timedelta(days=1), start + timedelta(weeks=8, days=-1))
    old_items = _items(api, weekly["client"], *window, series_id=series_id)
    assert _originals(old_items) == _weeks(start, 0, 1, 2)
    new_items = _items(api, weekly["client"], *window, series_id=new["id"])
    assert len(new_items) == 5
    local = [datetime.fromisoformat(i["start"]).astimezone(ZoneInfo(ZONE)) for i in new_items]
    assert {(t.weekday(), t.hour) for t in local} == {(1, 11)}
    assert local[0].date() == from_.astimezone(ZoneInfo(ZONE)).date()


def test_sessions_limit_counts_only_held_occurrences(api):
    therapist, client = therapist_with_hours(api, ZONE), register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)
    response = book(api, client, therapist, start, sessions_limit=4)
    assert response.status_code == 201, response.text
    series_id = response.json()["id"]
    for week in (0, 2):
        occurrence = _occurrence_id(series_id, start + timedelta(weeks=week))
        cancel = api.post(f"{API}/occurrences/{occurrence}/cancel", headers=client.auth, json={})
        assert cancel.status_code == 200, cancel.text
    items = _items(api, client, start - timedelta(days=1), start + timedelta(weeks=30))
    assert len(items) == 6
    assert [i["status"] for i in items].count("scheduled") == 4
    assert [i["status"] for i in items].count("cancelled") == 2


def test_cancel_inside_24_hours_is_late_and_outside_is_plain(api, fixed_clock, open_practice):
    therapist, client = open_practice
    now = fixed_clock["now"]
    answers = {}
    for label, start in (("soon", now + timedelta(hours=2)), ("later", now + timedelta(days=3))):
        # the therapist books: a client may not book inside the minimum notice
        booked = book(api, therapist, therapist, start, rrule=None, client_id=client.id)
        assert booked.status_code == 201, booked.text
        occurrence = _occurrence_id(booked.json()["id"], start)
        response = api.post(f"{API}/occurrences/{occurrence}/cancel", headers=client.auth,
                            json={"reason": "unwell"})
        assert response.status_code == 200, response.text
        answers[label] = response.json()["status"]
    assert answers == {"soon": "late_cancelled", "later": "cancelled"}
    listed = {i["status"] for i in _items(api, therapist, now, now + timedelta(days=5))}
    assert listed == {"late_cancelled", "cancelled"}


def test_move_keeps_the_id_and_shows_at_the_new_time(api, weekly):
    start, series_id = weekly["start"], weekly["id"]
    occurrence = _occurrence_id(series_id, start + timedelta(weeks=1))
    new_start = start + timedelta(weeks=1, days=1, hours=1)
    response = api.post(f"{API}/occurrences/{occurrence}/move", headers=weekly["client"].auth,
                        json={"start": new_start.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == occurrence
    assert datetime.fromisoformat(response.json()["start"]) == new_start
    items = {i["id"]: i for i in _items(api, weekly["therapist"], start - timedelta(days=1),
                                        start + timedelta(weeks=3))}
    assert datetime.fromisoformat(items[occurrence]["start"]) == new_start
    assert datetime.fromisoformat(items[occurrence]["original_start"]) == start + timedelta(weeks=1)
    one = api.get(f"{API}/occurrences/{occurrence}", headers=weekly["client"].auth)
    assert datetime.fromisoformat(one.json()["start"]) == new_start


def test_moving_onto_another_series_occurrence_is_a_conflict(api, weekly):
    other = register(api, "client", ZONE)
    other_start = weekly["start"] + timedelta(days=1, hours=1)  # Wednesdays 11:00
    booked = book(api, other, weekly["therapist"], other_start)
    assert booked.status_code == 201, booked.text
    target = other_start + timedelta(weeks=1)
    occurrence = _occurrence_id(weekly["id"], weekly["start"] + timedelta(weeks=1))
    response = api.post(f"{API}/occurrences/{occurrence}/move", headers=weekly["client"].auth,
                        json={"start": (target + timedelta(minutes=20)).isoformat()})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    conflicts = response.json()["conflicts"]
    assert [c["occurrence_id"] for c in conflicts] == [_occurrence_id(booked.json()["id"], target)]
    unchanged = api.get(f"{API}/occurrences/{occurrence}", headers=weekly["client"].auth).json()
    assert unchanged["start"] == unchanged["original_start"]


def test_opening_an_occurrence_inside_the_horizon_materializes_it_once(api, fixed_clock, open_practice):
    therapist, client = open_practice
    start = fixed_clock["now"] + timedelta(hours=24)
    booked = book(api, client, therapist, start, rrule=None)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    occurrence = _occurrence_id(series_id, start)
    around = (start - timedelta(hours=1), start + timedelta(hours=1))
    assert _items(api, client, *around)[0]["materialized"] is False
    for _ in range(2):
        response = api.get(f"{API}/occurrences/{occurrence}", headers=client.auth)
        assert response.status_code == 200, response.text
        assert response.json()["materialized"] is True
    assert _items(api, therapist, *around)[0]["materialized"] is True
    assert _session_rows(series_id) == 1


def test_opening_an_occurrence_beyond_the_horizon_writes_nothing(api, fixed_clock, open_practice):
    therapist, client = open_practice
    start = fixed_clock["now"] + timedelta(days=5)
    booked = book(api, client, therapist, start, rrule=None)
    assert booked.status_code == 201, booked.text
    response = api.get(f"{API}/occurrences/{_occurrence_id(booked.json()['id'], start)}", headers=client.auth)
    assert response.status_code == 200, response.text
    assert response.json()["materialized"] is False
    assert _session_rows(booked.json()["id"]) == 0


def test_attendance_before_the_start_is_refused_and_after_it_is_recorded(api, fixed_clock, open_practice):
    therapist, client = open_practice
    start = fixed_clock["now"] + timedelta(hours=24)
    booked = book(api, client, therapist, start, rrule=None)
    assert booked.status_code == 201, booked.text
    occurrence = _occurrence_id(booked.json()["id"], start)
    early = api.post(f"{API}/occurrences/{occurrence}/attendance", headers=therapist.auth,
                     json={"status": "completed"})
    assert early.status_code == 422, early.text
    assert early.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in early.json()["errors"]] == ["status"]
    assert _session_rows(booked.json()["id"]) == 0
    fixed_clock["now"] = start + timedelta(minutes=55)
    done = api.post(f"{API}/occurrences/{occurrence}/attendance", headers=therapist.auth,
                    json={"status": "completed"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    listed = _items(api, client, start - timedelta(hours=1), start + timedelta(hours=1))
    assert [(i["status"], i["materialized"]) for i in listed] == [("completed", True)]
    assert _session_rows(booked.json()["id"]) == 1
