"""The therapist's read models on PostgreSQL: a calendar window with names and time off, the
clients with their series, and the local-time parsing the pages use."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.integration.factories import book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import people, practice, series_changes, therapist_views
from therabee.services.errors import ServiceError

pytestmark = pytest.mark.dated

BERLIN = "Europe/Berlin"
EVERY_DAY = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(7)]


def _booked(api, client_zone: str = "America/New_York"):
    therapist = therapist_with_hours(api, BERLIN, EVERY_DAY)
    client = register(api, "client", client_zone, name="Ada Client")
    start = next_weekday_at(2, 10, BERLIN)
    made = book(api, client, therapist, start, timezone=BERLIN)
    assert made.status_code == 201, made.text
    return people.get_user(therapist.id), client, start, made.json()


def test_calendar_window_names_clients_tells_the_rule_and_writes_nothing(api):
    therapist, client, start, _ = _booked(api)
    before = table_writes()

    window = therapist_views.calendar_window(therapist, start - timedelta(days=1), start + timedelta(days=15))

    assert table_writes() == before
    assert window["zone"] == BERLIN
    assert [o["start"] for o in window["occurrences"]] == [start, start + timedelta(weeks=1),
                                                           start + timedelta(weeks=2)]
    assert {o["client_name"] for o in window["occurrences"]} == {"Ada Client"}
    assert "Wednesday" in window["occurrences"][0]["rule_in_words"]
    assert window["time_off"] == []


def test_calendar_window_hides_occurrences_in_time_off_and_lists_it(api):
    therapist, _, start, _ = _booked(api)
    practice.add_time_off(therapist, start - timedelta(hours=1), start + timedelta(hours=2), "Conference")

    window = therapist_views.calendar_window(therapist, start - timedelta(days=1), start + timedelta(days=8))

    assert [o["start"] for o in window["occurrences"]] == [start + timedelta(weeks=1)]
    assert [t["reason"] for t in window["time_off"]] == ["Conference"]


def test_clients_with_series_gives_the_next_occurrence_after_a_pause(api):
    therapist, client, start, series = _booked(api)
    first_day = start.astimezone(ZoneInfo(BERLIN)).date()
    series_changes.pause(therapist, series["id"], first_day, first_day)

    [row] = therapist_views.clients_with_series(therapist)

    assert row["name"] == "Ada Client"
    [entry] = row["series"]
    assert entry["status"] == "active"
    assert entry["next_occurrence"] == start + timedelta(weeks=1)
    assert entry["pauses"] == [{"id": entry["pauses"][0]["id"], "from": first_day, "until": first_day}]


def test_an_ended_series_has_no_next_occurrence(api):
    therapist, _, start, series = _booked(api)
    series_changes.end(therapist, series["id"], start)

    [row] = therapist_views.clients_with_series(therapist)

    assert row["series"][0]["status"] == "ended"
    assert row["series"][0]["next_occurrence"] is None


def test_a_client_has_no_practice_calendar(api):
    _, client, start, _ = _booked(api)

    with pytest.raises(ServiceError) as refused:
        therapist_views.calendar_window(people.get_user(client.id), start, start + timedelta(days=1))

    assert refused.value.status == 403


def test_local_instant_keeps_the_zone_policy_and_names_the_field():
    # 02:30 on 29 March 2026 does not exist in Berlin: it moves forward by the gap
    assert therapist_views.local_instant("2026-03-29", "02:30", BERLIN) == datetime(2026, 3, 29, 1, 30,
                                                                                   tzinfo=timezone.utc)
    with pytest.raises(ServiceError) as bad:
        therapist_views.local_instant("29.03.2026", "10:00", BERLIN, "end")
    assert bad.value.errors[0].field == "end"
