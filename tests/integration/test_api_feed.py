"""The private iCalendar feed says what /occurrences says, and its link can be rotated.

Feeds are read with icalendar + recurring_ical_events, which expand RRULEs on their own,
independently of the product's dateutil path; expected instants are written by hand."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import icalendar
import pytest
import recurring_ical_events

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
WEEKS = 26


def _occurrence_id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def _feed_path(api, who) -> str:
    response = api.get(f"{API}/me", headers=who.auth)
    assert response.status_code == 200, response.text
    return urlsplit(response.json()["feed_url"]).path


def _utc(value) -> datetime:
    return value.astimezone(timezone.utc)


def _calendar_at(api, path: str) -> icalendar.Calendar:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def _feed(api, who) -> icalendar.Calendar:
    return _calendar_at(api, _feed_path(api, who))


def _expanded(calendar: icalendar.Calendar, from_: datetime, to: datetime) -> set[tuple[datetime, datetime]]:
    events = recurring_ical_events.of(calendar).between(from_, to)
    return {(_utc(e["DTSTART"].dt), _utc(e["DTEND"].dt)) for e in events}


def _feed_instants(api, path: str, from_: datetime, to: datetime) -> set[tuple[datetime, datetime]]:
    return _expanded(_calendar_at(api, path), from_, to)


def _table(*starts: datetime, minutes: int = 50) -> set[tuple[datetime, datetime]]:
    return {(_utc(s), _utc(s) + timedelta(minutes=minutes)) for s in starts}


def _masters(calendar: icalendar.Calendar) -> list:
    return [e for e in calendar.walk("VEVENT") if "RRULE" in e]


def _api_instants(api, who, from_: datetime, to: datetime) -> set[tuple[datetime, datetime]]:
    response = api.get(f"{API}/occurrences", headers=who.auth,
                       params={"from": from_.isoformat(), "to": to.isoformat()})
    assert response.status_code == 200, response.text
    return {(datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"]))
            for o in response.json()["items"] if o["status"] not in ("cancelled", "late_cancelled")}


@pytest.fixture
def changed_series(api):
    """A weekly Tuesday 10:00 series with one cancellation, one move and a two-week pause."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)
    response = book(api, client, therapist, start)
    assert response.status_code == 201, response.text
    series_id = response.json()["id"]
    cancelled = api.post(f"{API}/occurrences/{_occurrence_id(series_id, start + timedelta(weeks=1))}/cancel",
                         headers=client.auth, json={"reason": "travel"})
    assert cancelled.status_code == 200, cancelled.text
    moved_to = start + timedelta(weeks=2, days=1, hours=1)  # Wednesday 11:00
    moved = api.post(f"{API}/occurrences/{_occurrence_id(series_id, start + timedelta(weeks=2))}/move",
                     headers=client.auth, json={"start": moved_to.isoformat()})
    assert moved.status_code == 200, moved.text
    pause_from = (start + timedelta(weeks=5)).astimezone(timezone.utc).date()
    paused = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(pause_from), "until": str(pause_from + timedelta(days=13))})
    assert paused.status_code == 201, paused.text
    return {"therapist": therapist, "client": client, "start": start, "moved_to": moved_to}


@pytest.mark.parametrize("viewer", ["client", "therapist"])
def test_feed_expands_to_the_same_instants_as_occurrences(api, changed_series, viewer):
    who, start = changed_series[viewer], changed_series["start"]
    from_, to = start - timedelta(days=1), start + timedelta(weeks=WEEKS, days=-1)  # DST-proof ends
    from_api = _api_instants(api, who, from_, to)
    assert len(from_api) == WEEKS - 3  # one cancelled, two paused; the moved one is still there
    assert (changed_series["moved_to"], changed_series["moved_to"] + timedelta(minutes=50)) in from_api
    assert _feed_instants(api, _feed_path(api, who), from_, to) == from_api


def test_rotating_the_feed_token_retires_the_old_link(api, changed_series):
    client = changed_series["client"]
    old = _feed_path(api, client)
    assert api.get(old).status_code == 200
    rotated = api.post(f"{API}/me/feed-token", headers=client.auth)
    assert rotated.status_code == 200, rotated.text
    new = urlsplit(rotated.json()["feed_url"]).path
    assert new != old
    gone = api.get(old)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert api.get(new).status_code == 200
    assert _feed_path(api, client) == new


def test_an_unknown_feed_token_is_404(api):
    response = api.get(f"{API}/calendar/not-a-real-token.ics")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def _exdates(event) -> set[datetime]:
    values = event.get("EXDATE", [])
    lists = values if isinstance(values, list) else [values]
    return {_utc(d.dt) for dates in lists for d in dates.dts}


def _weekly(start: datetime, *weeks: int) -> list[datetime]:
    return [start + timedelta(weeks=w) for w in weeks]


@pytest.fixture
def practice(api):
    """A New York therapist, a client of theirs with nothing booked yet, and another client
    on a plain weekly Monday 10:00 series."""
    therapist = therapist_with_hours(api, ZONE)
    other = register(api, "client", ZONE)
    other_start = next_weekday_at(0, 10, ZONE)
    booked = book(api, other, therapist, other_start)
    assert booked.status_code == 201, booked.text
    return {"therapist": therapist, "client": register(api, "client", ZONE), "other_start": other_start}


def _others(practice, from_: datetime, to: datetime) -> set[tuple[datetime, datetime]]:
    """The other client's Mondays in the window, by hand."""
    mondays = _weekly(practice["other_start"], *range(60))
    return _table(*(m for m in mondays if from_ <= m < to))


def _book_shape(api, practice, shape: str, start: datetime) -> list[datetime]:
    """Books `shape` for the practice's client from `start` (a Tuesday 10:00) and returns
    its starts in the eight weeks from `start`, written by hand."""
    client, therapist = practice["client"], practice["therapist"]
    rrule = {"until": f"FREQ=WEEKLY;UNTIL={_utc(start + timedelta(weeks=3)):%Y%m%dT%H%M%SZ}",
             "several_weekdays": "FREQ=WEEKLY;BYDAY=TU,TH"}.get(shape, "FREQ=WEEKLY")
    booked = book(api, client, therapist, start, rrule=rrule)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    if shape == "until":
        return _weekly(start, 0, 1, 2, 3)
    if shape == "ended":
        ended = api.post(f"{API}/series/{series_id}/end", headers=client.auth,
                         json={"from": (start + timedelta(weeks=3)).isoformat()})
        assert ended.status_code == 200, ended.text
        return _weekly(start, 0, 1, 2)
    if shape == "split":
        wednesday = start + timedelta(weeks=2, days=1)
        split = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                         json={"from": (start + timedelta(weeks=2)).isoformat(), "start": wednesday.isoformat()})
        assert split.status_code == 201, split.text
        return _weekly(start, 0, 1) + _weekly(wednesday, *range(6))
    return _weekly(start, *range(8)) + _weekly(start + timedelta(days=2), *range(8))


@pytest.mark.parametrize("shape", ["until", "ended", "split", "several_weekdays"])
def test_feed_serves_series_that_end_or_repeat_on_several_weekdays(api, practice, shape):
    """Fault 7 (issue 12): an UNTIL (rule, end, split) or BYDAY=TU,TH made the client's
    and the therapist's whole feed answer 500."""
    start = next_weekday_at(1, 10, ZONE)
    expected = _table(*_book_shape(api, practice, shape, start))
    from_, to = start - timedelta(days=1), start + timedelta(weeks=8, days=-1)
    client, therapist = practice["client"], practice["therapist"]
    calendar = _feed(api, client)
    assert _expanded(calendar, from_, to) == expected == _api_instants(api, client, from_, to)
    if shape != "several_weekdays":
        first = next(m for m in _masters(calendar) if _utc(m["DTSTART"].dt) == _utc(start))
        last = start + timedelta(weeks={"until": 3, "ended": 2, "split": 1}[shape])
        assert first["RRULE"]["UNTIL"] == [_utc(last)]
    everyone = expected | _others(practice, from_, to)
    assert _expanded(_feed(api, therapist), from_, to) == everyone == _api_instants(api, therapist, from_, to)


def test_an_occurrence_moved_before_the_first_start_is_an_override(api, practice):
    """Fault 7: the first session moved an hour earlier was an EXDATE without an override."""
    client, start = practice["client"], next_weekday_at(1, 10, ZONE)
    booked = book(api, client, practice["therapist"], start)
    assert booked.status_code == 201, booked.text
    earlier = start - timedelta(hours=1)
    moved = api.post(f"{API}/occurrences/{_occurrence_id(booked.json()['id'], start)}/move",
                     headers=client.auth, json={"start": earlier.isoformat()})
    assert moved.status_code == 200, moved.text
    calendar = _feed(api, client)
    [master] = _masters(calendar)
    assert _exdates(master) == set()
    overrides = [e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert [_utc(o["RECURRENCE-ID"].dt) for o in overrides] == [_utc(start)]
    from_, to = start - timedelta(days=1), start + timedelta(weeks=4, days=-1)
    expected = _table(earlier, *_weekly(start, 1, 2, 3))
    assert _expanded(calendar, from_, to) == expected == _api_instants(api, client, from_, to)
    therapist = practice["therapist"]
    everyone = expected | _others(practice, from_, to)
    assert _expanded(_feed(api, therapist), from_, to) == everyone == _api_instants(api, therapist, from_, to)


def test_a_sessions_limit_series_ends_in_the_feed_at_its_last_held_occurrence(api, practice):
    """Fault 7: sessions_limit 4 with one cancellation was an open RRULE with hundreds of
    EXDATEs, so calendar apps showed weekly sessions again once they ran out."""
    client, start = practice["client"], next_weekday_at(1, 10, ZONE)
    booked = book(api, client, practice["therapist"], start, sessions_limit=4)
    assert booked.status_code == 201, booked.text
    cancelled = api.post(f"{API}/occurrences/{_occurrence_id(booked.json()['id'], start + timedelta(weeks=1))}"
                         "/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    calendar = _feed(api, client)
    [master] = _masters(calendar)
    assert master["RRULE"]["UNTIL"] == [_utc(start + timedelta(weeks=4))]  # the fourth held one
    assert "COUNT" not in master["RRULE"]
    assert _exdates(master) == {_utc(start + timedelta(weeks=1))}
    ten_years = (start - timedelta(days=1), start + timedelta(weeks=520))
    assert _expanded(calendar, *ten_years) == _table(*_weekly(start, 0, 2, 3, 4))


def test_feed_carries_each_series_zone_as_tzid_with_its_vtimezone(api, practice):
    client, therapist = practice["client"], practice["therapist"]
    new_york = next_weekday_at(1, 10, ZONE)
    berlin = next_weekday_at(2, 16, "Europe/Berlin")  # 10:00 or 11:00 in New York
    assert book(api, client, therapist, new_york).status_code == 201
    booked = book(api, client, therapist, berlin, timezone="Europe/Berlin")
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    later = berlin + timedelta(weeks=2, hours=1)
    for action, original, body in (("cancel", berlin + timedelta(weeks=1), {}),
                                   ("move", berlin + timedelta(weeks=2), {"start": later.isoformat()})):
        response = api.post(f"{API}/occurrences/{_occurrence_id(series_id, original)}/{action}",
                            headers=client.auth, json=body)
        assert response.status_code == 200, response.text
    calendar = _feed(api, client)
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {ZONE, "Europe/Berlin"}
    events = calendar.walk("VEVENT")
    assert {e["DTSTART"].params["TZID"] for e in events} == {ZONE, "Europe/Berlin"}
    [master] = [e for e in _masters(calendar) if e["DTSTART"].params["TZID"] == "Europe/Berlin"]
    assert master["DTSTART"].dt.replace(tzinfo=None) == berlin.replace(tzinfo=None)
    assert master["EXDATE"].params["TZID"] == "Europe/Berlin"
    [override] = [e for e in events if "RECURRENCE-ID" in e]
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Berlin"
    assert override["RECURRENCE-ID"].dt.replace(tzinfo=None) == (berlin + timedelta(weeks=2)).replace(tzinfo=None)
    from_, to = new_york - timedelta(days=7), new_york + timedelta(weeks=4)
    assert _expanded(calendar, from_, to) == _api_instants(api, client, from_, to)


def test_one_series_that_cannot_be_written_leaves_the_rest_of_the_feed(api, practice, caplog):
    """Fault 7: one bad series made the therapist's whole feed answer 500."""
    from therabee.db.engine import unit_of_work
    from therabee.db.models import Series

    therapist = practice["therapist"]
    private = register(api, "client", ZONE, name="Zelda Unwritten")
    booked = book(api, private, therapist, next_weekday_at(1, 10, ZONE))
    assert booked.status_code == 201, booked.text
    bad_id = booked.json()["id"]
    with unit_of_work() as db:
        db.get(Series, bad_id).rrule = "FREQ=YEARLY"  # a rule the product no longer reads
    with caplog.at_level(logging.ERROR, logger="therabee.services.calendar_feed"):
        calendar = _feed(api, therapist)
    from_, to = practice["other_start"] - timedelta(days=1), practice["other_start"] + timedelta(weeks=6)
    assert _expanded(calendar, from_, to) == _others(practice, from_, to)
    assert bad_id in caplog.text
    assert "Zelda" not in caplog.text
    assert _expanded(_feed(api, private), from_, to) == set()
