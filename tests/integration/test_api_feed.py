"""The private iCalendar feed says what /occurrences says, and its link can be rotated."""

from __future__ import annotations

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


def _feed_instants(api, path: str, from_: datetime, to: datetime) -> set[tuple[datetime, datetime]]:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = recurring_ical_events.of(calendar).between(from_, to)
    return {(_utc(e["DTSTART"].dt), _utc(e["DTEND"].dt)) for e in events}


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
