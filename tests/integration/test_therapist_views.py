"""The therapist's read models: a calendar window with names and time off, the
clients with their series, and the local-time parsing the pages use."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
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


def test_the_calendar_lays_out_time_off_read_back_from_the_database(api):
    # what the week and month pages do with the window; on SQLite this once raised
    # "can't compare offset-naive and offset-aware datetimes"
    from therabee_ui.pages.calendar_state import CalendarState, _day_away

    therapist, _, start, _ = _booked(api)
    tz = ZoneInfo(BERLIN)
    wednesday = start.astimezone(tz).date()
    thursday, tuesday = wednesday + timedelta(days=1), wednesday - timedelta(days=1)
    away_from = datetime.combine(wednesday, time(9), tz)
    away_to = datetime.combine(thursday, time(12), tz)
    practice.add_time_off(therapist, away_from, away_to, "Conference")

    window = therapist_views.calendar_window(therapist, start - timedelta(days=2), start + timedelta(days=5))

    [entry] = window["time_off"]
    assert (entry["start"], entry["end"]) == (away_from, away_to)
    assert entry["start"].tzinfo is timezone.utc and entry["end"].tzinfo is timezone.utc
    midnight = datetime.combine(thursday, time(0), tz)
    assert _day_away(window["time_off"], tz, tuesday) == []
    assert _day_away(window["time_off"], tz, wednesday) == [(entry, away_from, midnight)]
    assert _day_away(window["time_off"], tz, thursday) == [(entry, midnight, away_to)]
    blocks = CalendarState._blocks(window["time_off"], tz, wednesday - timedelta(days=2), 7, 20)
    assert [b.label for b in blocks] == ["Time off: Conference"] * 2


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
