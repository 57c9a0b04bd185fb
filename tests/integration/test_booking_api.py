"""Booking through the HTTP API: rows written, conflicts, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes


def test_booking_open_ended_weekly_series_writes_at_most_two_rows(api):
    therapist = therapist_with_hours(api)
    client = register(api, "client")
    start = next_weekday_at(1, 10, "America/New_York")
    before = table_writes()
    response = book(api, client, therapist, start)
    assert response.status_code == 201, response.text
    after = table_writes()
    assert 1 <= after - before <= 2


def test_listing_52_weeks_writes_nothing(api):
    therapist = therapist_with_hours(api)
    client = register(api, "client")
    start = next_weekday_at(1, 10, "America/New_York")
    assert book(api, client, therapist, start).status_code == 201
    before = table_writes()
    response = api.get(f"{API}/occurrences", headers=client.auth, params={
        "from": start.isoformat(), "to": (start + timedelta(weeks=52)).isoformat()})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 52
    assert table_writes() == before


@pytest.mark.dated
def test_weekly_series_stays_at_ten_local_for_52_weeks(api):
    from zoneinfo import ZoneInfo

    therapist = therapist_with_hours(api)
    client = register(api, "client")
    start = next_weekday_at(2, 10, "America/New_York")
    assert book(api, client, therapist, start).status_code == 201
    items = api.get(f"{API}/occurrences", headers=therapist.auth, params={
        "from": start.isoformat(), "to": (start + timedelta(weeks=52)).isoformat()}).json()["items"]
    from datetime import datetime

    local_hours = {datetime.fromisoformat(i["start"]).astimezone(ZoneInfo("America/New_York")).hour
                   for i in items}
    utc_hours = {datetime.fromisoformat(i["start"]).hour for i in items}
    assert local_hours == {10}
    assert utc_hours == {14, 15}  # both sides of DST within any 52 weeks
    assert all(i["start"].endswith("Z") for i in items)


def test_twenty_concurrent_bookings_of_one_slot_give_one_201(api):
    therapist = therapist_with_hours(api)
    clients = [register(api, "client") for _ in range(20)]
    start = next_weekday_at(3, 11, "America/New_York")
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda c: book(api, c, therapist, start, rrule=None).status_code, clients))
    assert sorted(codes) == [201] + [409] * 19


def test_weekly_series_colliding_with_biweekly_on_later_weeks_lists_conflicts(api):
    therapist = therapist_with_hours(api)
    first, second = register(api, "client"), register(api, "client")
    start = next_weekday_at(0, 9, "America/New_York")
    assert book(api, first, therapist, start + timedelta(weeks=1), rrule="FREQ=WEEKLY;INTERVAL=2").status_code == 201
    response = book(api, second, therapist, start)
    assert response.status_code == 409
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    starts = [c["start"] for c in body["conflicts"]]
    assert len(starts) >= 20  # every other week over the 52-week window, not just the first
    assert all(set(c) >= {"start", "end", "occurrence_id"} for c in body["conflicts"])
