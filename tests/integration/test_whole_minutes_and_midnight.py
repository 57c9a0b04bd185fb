"""Issue 12, faults 5 and 8 through the API: instants are whole minutes (a start, move, split,
end or time off with seconds or a fraction gets a 422 naming the field, nothing written), and
availability may end at 24:00 (a session up to midnight fits, slots run up to it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
WHOLE_MINUTE = "must be a whole minute (no seconds)"
TO_MIDNIGHT = [{"weekday": d, "start": "20:00", "end": "24:00"} for d in range(7)]


def _occurrence_id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _rows() -> dict:
    """What the tables hold that a refused request must not change."""
    from therabee.db.engine import get_engine

    with get_engine().connect() as c:
        return {
            "series": c.execute(sa.text("SELECT id, start, ends_before FROM series ORDER BY id")).all(),
            "exceptions": c.execute(sa.text("SELECT count(*) FROM exceptions")).scalar_one(),
            "sessions": c.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one(),
            "time_off": c.execute(sa.text("SELECT id, start, \"end\" FROM time_off ORDER BY id")).all(),
        }


def _refused_naming(response, field: str, message: str = WHOLE_MINUTE) -> None:
    assert response.status_code == 422, response.text
    assert {"field": field, "message": message} in response.json()["errors"], response.text


@pytest.fixture
def practice(api):
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    return therapist, client


def test_a_one_off_with_a_fraction_of_a_second_is_refused_and_the_whole_minute_cancels(api, practice):
    therapist, client = practice
    eleven = next_weekday_at(1, 11, ZONE)
    before = _rows()
    for start in (eleven.replace(microsecond=250_000), eleven.replace(second=30)):
        _refused_naming(book(api, client, therapist, start, rrule=None), "start")
    assert _rows() == before

    booked = book(api, client, therapist, eleven, rrule=None)
    assert booked.status_code == 201, booked.text
    occurrence = _occurrence_id(booked.json()["id"], eleven)
    cancelled = api.post(f"{API}/occurrences/{occurrence}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def test_a_weekly_series_with_a_fraction_is_refused_for_its_start_not_its_rule(api, practice):
    therapist, client = practice
    before = _rows()
    response = book(api, client, therapist, next_weekday_at(1, 11, ZONE).replace(microsecond=250_000))
    _refused_naming(response, "start")
    assert "rrule" not in response.text and "BYDAY" not in response.text
    assert _rows() == before


def test_moves_splits_and_ends_with_seconds_are_refused_and_change_nothing(api, practice):
    therapist, client = practice
    start = next_weekday_at(1, 11, ZONE)
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    second = start + timedelta(weeks=1)
    before = _rows()

    moved = api.post(f"{API}/occurrences/{_occurrence_id(series_id, second)}/move", headers=client.auth,
                     json={"start": (second + timedelta(days=1)).replace(second=30).isoformat()})
    _refused_naming(moved, "start")
    ended = api.post(f"{API}/series/{series_id}/end", headers=client.auth,
                     json={"from": second.replace(microsecond=1).isoformat()})
    _refused_naming(ended, "from")
    split_from = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                          json={"from": second.replace(second=1).isoformat()})
    _refused_naming(split_from, "from")
    split_start = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                           json={"from": second.isoformat(),
                                 "start": (second + timedelta(hours=2)).replace(microsecond=500_000).isoformat()})
    _refused_naming(split_start, "start")

    assert _rows() == before
    listed = api.get(f"{API}/occurrences", headers=client.auth,
                     params={"from": second.isoformat(), "to": (second + timedelta(minutes=1)).isoformat()})
    assert [datetime.fromisoformat(o["start"]) for o in listed.json()["items"]] == [second]


def test_time_off_with_seconds_is_refused_naming_start_or_end(api, practice):
    therapist, _ = practice
    day = next_weekday_at(2, 9, ZONE)
    before = _rows()
    for body, field in (({"start": day.replace(second=5), "end": day + timedelta(hours=3)}, "start"),
                        ({"start": day, "end": (day + timedelta(hours=3)).replace(microsecond=1)}, "end")):
        response = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                            json={k: v.isoformat() for k, v in body.items()})
        _refused_naming(response, field)
    assert _rows() == before

    added = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                     json={"start": day.isoformat(), "end": (day + timedelta(hours=3)).isoformat()})
    assert added.status_code == 201, added.text
    before = _rows()
    changed = api.put(f"{API}/therapists/me/time-off/{added.json()['id']}", headers=therapist.auth,
                      json={"start": day.isoformat(), "end": (day + timedelta(hours=4, seconds=59)).isoformat()})
    _refused_naming(changed, "end")
    assert _rows() == before


def test_hours_may_end_at_24_00_and_a_session_up_to_midnight_fits(api, practice):
    therapist, client = practice
    saved = api.put(f"{API}/therapists/me/availability", headers=therapist.auth,
                    json={"timezone": ZONE, "weekly": TO_MIDNIGHT})
    assert saved.status_code == 200, saved.text
    assert {b["end"] for b in saved.json()["weekly"]} == {"24:00"}
    read = api.get(f"{API}/therapists/{therapist.id}/availability", headers=client.auth)
    assert read.status_code == 200, read.text
    assert read.json()["weekly"] == TO_MIDNIGHT

    tz = ZoneInfo(ZONE)
    evening = next_weekday_at(2, 20, ZONE)
    midnight = datetime.combine(evening.date() + timedelta(days=1), datetime.min.time(), tz)
    slots = api.get(f"{API}/therapists/{therapist.id}/slots", headers=client.auth, params={
        "from": (midnight - timedelta(days=1)).isoformat(), "to": midnight.isoformat(), "duration_minutes": 60})
    assert slots.status_code == 200, slots.text
    # 20:00, 20:30, ... 23:00 local: an evening is clear of DST changes in New York
    expected = [evening + timedelta(minutes=30 * k) for k in range(7)]
    assert [datetime.fromisoformat(s["start"]) for s in slots.json()["items"]] == expected

    eleven = evening + timedelta(hours=3)
    late = book(api, client, therapist, eleven + timedelta(minutes=30), rrule=None, duration=60)
    assert late.status_code == 422, late.text
    assert [e["field"] for e in late.json()["errors"]] == ["start"]
    assert "outside the therapist's hours" in late.text
    one_off = book(api, client, therapist, eleven, rrule=None, duration=60)
    assert one_off.status_code == 201, one_off.text
    listed = api.get(f"{API}/occurrences", headers=client.auth,
                     params={"from": eleven.isoformat(), "to": midnight.isoformat()}).json()["items"]
    assert [datetime.fromisoformat(o["end"]) for o in listed] == [midnight]
    # weekly up to midnight, every week of the conflict window: both DST changes included
    weekly = book(api, register(api, "client", ZONE), therapist, eleven + timedelta(days=1), duration=60)
    assert weekly.status_code == 201, weekly.text


@pytest.mark.parametrize("block, field", [
    ({"weekday": 0, "start": "24:00", "end": "24:00"}, "weekly[0].start"),
    ({"weekday": 0, "start": "20:00", "end": "00:00"}, "weekly[0].end"),
    ({"weekday": 0, "start": "20:00", "end": "24:30"}, "weekly[0].end"),
    ({"weekday": 0, "start": "20:00", "end": "25:00"}, "weekly[0].end"),
])
def test_24_00_is_only_an_end(api, block, field):
    therapist = register(api, "therapist", ZONE)
    response = api.put(f"{API}/therapists/me/availability", headers=therapist.auth,
                       json={"timezone": ZONE, "weekly": [block]})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_end_of_23_59_still_stops_a_session_at_23_59(api):
    therapist = therapist_with_hours(api, ZONE, [{"weekday": 2, "start": "20:00", "end": "23:59"}])
    client = register(api, "client", ZONE)
    response = book(api, client, therapist, next_weekday_at(2, 23, ZONE), rrule=None, duration=60)
    assert response.status_code == 422, response.text
    assert "outside the therapist's hours" in response.text
