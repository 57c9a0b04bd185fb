"""Issue 12, fault 6: a series' status tells the truth. Ending or splitting it leaves the
occurrences before the end; until the last of them (moved ones at their new time) has ended
the series is "active" with its `ends_before`, stays in the client's and the therapist's
lists, and its remaining occurrences can still be changed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from therabee.services import client_views, clock, people, therapist_views

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
MINUTES = 50


def _id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


@pytest.fixture
def weekly(api):
    """A client's weekly Tuesday 10:00 New York series from next week on; `at(k)` is its k-th
    occurrence (wall-clock arithmetic on an aware New York time keeps 10:00 across DST)."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)
    booked = book(api, client, therapist, start, duration=MINUTES)
    assert booked.status_code == 201, booked.text
    yield {"therapist": therapist, "client": client, "id": booked.json()["id"],
           "at": lambda k: start + timedelta(weeks=k)}
    clock.set_clock(None)


def _at_time(instant: datetime) -> None:
    clock.set_clock(lambda: instant)


def _status(api, who, series_id: str) -> str:
    response = api.get(f"{API}/series/{series_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    return response.json()["status"]


def _listed(api, who) -> dict[str, str]:
    response = api.get(f"{API}/series", headers=who.auth)
    assert response.status_code == 200, response.text
    return {s["id"]: s["status"] for s in response.json()["items"]}


def _client_page_series(who) -> list[dict]:
    return client_views.my_sessions(people.get_user(who.id))["series"]


def _therapist_page_series(who) -> dict[str, dict]:
    [client] = therapist_views.clients_with_series(people.get_user(who.id))
    return {s["id"]: s for s in client["series"]}


def _end(api, who, series_id: str, from_: datetime):
    return api.post(f"{API}/series/{series_id}/end", headers=who.auth, json={"from": from_.isoformat()})


def _refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field], response.text


def test_an_ended_series_stays_active_and_changeable_while_sessions_remain(api, weekly):
    client, therapist, series_id, at = weekly["client"], weekly["therapist"], weekly["id"], weekly["at"]
    ended = _end(api, client, series_id, at(3))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "active"
    assert datetime.fromisoformat(ended.json()["ends_before"]) == at(3)

    assert _status(api, client, series_id) == "active"
    assert _listed(api, client) == {series_id: "active"}
    [shown] = _client_page_series(client)
    assert shown["id"] == series_id and "ending before" in shown["rule"]
    row = _therapist_page_series(therapist)[series_id]
    assert (row["status"], row["next_occurrence"], row["ends_before"]) == ("active", at(0), at(3))

    # the sessions before the end can still be changed
    cancelled = api.post(f"{API}/occurrences/{_id(series_id, at(0))}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    moved = api.post(f"{API}/occurrences/{_id(series_id, at(1))}/move", headers=client.auth,
                     json={"start": (at(1) + timedelta(days=1)).isoformat()})
    assert moved.status_code == 200, moved.text
    paused = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(at(2).date()), "until": str(at(2).date())})
    assert paused.status_code == 201, paused.text
    assert _status(api, client, series_id) == "active"  # the moved one is still to come

    # what is at or after the end is gone: changes from there name `from`
    _refused(api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(at(3).date() + timedelta(days=1)), "until": str(at(4).date())}), "from")
    _refused(_end(api, client, series_id, at(3)), "from")
    _refused(_end(api, client, series_id, at(4)), "from")
    _refused(api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                      json={"from": at(3).isoformat()}), "from")


def test_it_ends_when_its_last_session_moved_later_has_ended(api, weekly):
    client, therapist, series_id, at = weekly["client"], weekly["therapist"], weekly["id"], weekly["at"]
    assert _end(api, client, series_id, at(2)).status_code == 200
    later = at(9)  # the second session, moved eight weeks on
    moved = api.post(f"{API}/occurrences/{_id(series_id, at(1))}/move", headers=client.auth,
                     json={"start": later.isoformat()})
    assert moved.status_code == 200, moved.text

    session = timedelta(minutes=MINUTES)
    for now, expected in ((at(0) + session, "active"),  # the first is over
                          (at(1) + session, "active"),  # the second is not: it was moved
                          (later + session - timedelta(minutes=1), "active"),  # in its last minute
                          (later + session, "ended")):
        _at_time(now)
        assert _status(api, client, series_id) == expected, now
        assert _listed(api, client) == {series_id: expected}
        assert [s["id"] for s in _client_page_series(client)] == ([series_id] if expected == "active" else [])
        row = _therapist_page_series(therapist)[series_id]
        assert row["status"] == expected
        assert row["next_occurrence"] == (at(1) if now < later else None)

    _refused(api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(later.date() + timedelta(days=1)),
                            "until": str(later.date() + timedelta(days=2))}), "series")


def test_it_has_ended_at_once_when_nothing_before_the_end_takes_place(api, weekly):
    client, series_id, at = weekly["client"], weekly["id"], weekly["at"]
    cancelled = api.post(f"{API}/occurrences/{_id(series_id, at(0))}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    ended = _end(api, client, series_id, at(1))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    assert _client_page_series(client) == []
    _refused(_end(api, client, series_id, at(1)), "series")


def test_a_split_series_stays_active_until_its_part_before_the_split_is_over(api, weekly):
    client, series_id, at = weekly["client"], weekly["id"], weekly["at"]
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                     json={"from": at(2).isoformat(), "start": (at(2) + timedelta(hours=1)).isoformat()})
    assert split.status_code == 201, split.text
    child = split.json()["id"]
    assert (split.json()["status"], split.json()["ends_before"]) == ("active", None)
    assert _listed(api, client) == {series_id: "active", child: "active"}
    assert _status(api, client, series_id) == "active"

    _at_time(at(1) + timedelta(minutes=MINUTES))
    assert _listed(api, client) == {series_id: "ended", child: "active"}


def test_splitting_an_ended_series_keeps_its_end(api, weekly):
    client, series_id, at = weekly["client"], weekly["id"], weekly["at"]
    assert _end(api, client, series_id, at(4)).status_code == 200
    eleven = at(2) + timedelta(hours=1)
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                     json={"from": at(2).isoformat(), "start": eleven.isoformat()})
    assert split.status_code == 201, split.text
    child = split.json()["id"]
    assert datetime.fromisoformat(split.json()["ends_before"]) == at(4) + timedelta(hours=1)

    items = api.get(f"{API}/occurrences", headers=client.auth, params={
        "from": at(0).isoformat(), "to": at(12).isoformat()}).json()["items"]
    starts = {(o["series_id"], datetime.fromisoformat(o["start"])) for o in items}
    assert starts == {(series_id, at(0)), (series_id, at(1)),
                      (child, eleven), (child, at(3) + timedelta(hours=1))}


def test_a_series_the_old_code_marked_ended_shows_its_remaining_sessions(api, weekly):
    """Rows ended before the status was derived say "ended" in their status column; their
    `ends_before` is what counts, so they need no data migration."""
    from therabee.db.engine import get_engine

    client, series_id, at = weekly["client"], weekly["id"], weekly["at"]
    with get_engine().begin() as c:
        c.execute(sa.text("UPDATE series SET status = 'ended', ends_before = :end WHERE id = :id"),
                  {"end": at(2), "id": series_id})
    assert _status(api, client, series_id) == "active"
    moved = api.post(f"{API}/occurrences/{_id(series_id, at(1))}/move", headers=client.auth,
                     json={"start": (at(1) + timedelta(hours=2)).isoformat()})
    assert moved.status_code == 200, moved.text
    ended = _end(api, client, series_id, at(1))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "active"  # the first session is still to come
