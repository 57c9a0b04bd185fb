"""Issue 12, fault 6: a series' status tells the truth. Ending or splitting it leaves the
occurrences before the end; until the last of them (moved ones at their new time) has ended
the series is "active" with its `ends_before`, stays in the client's and the therapist's
lists, and its remaining occurrences can still be changed.

Series that finish on their own — a one-off, a COUNT or UNTIL rule, a `sessions_limit` — end
the same way: once their last occurrence that takes place (cancelled, paused and time-off ones
not counting; a `sessions_limit` series at its last held one) has ended. Expected instants are
wall-clock arithmetic on an aware New York time (`at(k)` is the k-th week's 10:00)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

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


# -- series that finish on their own ------------------------------------------------------------

@pytest.fixture
def parties(api):
    """A therapist (Mon-Fri 09-17 New York) and a client; `at(k)` is the Tuesday 10:00 New York
    k weeks after next week's; `book(rrule, **extra)` books from `at(0)` for the client."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)

    def book_from_start(rrule: str | None, **extra) -> str:
        booked = book(api, client, therapist, start, rrule=rrule, duration=MINUTES, **extra)
        assert booked.status_code == 201, booked.text
        assert booked.json()["status"] == "active"
        return booked.json()["id"]

    yield SimpleNamespace(therapist=therapist, client=client, at=lambda k: start + timedelta(weeks=k),
                          book=book_from_start)
    clock.set_clock(None)


def _everywhere(api, parties, series_id: str, now: datetime, expected: str,
                next_occurrence: datetime | None = None) -> None:
    """At `now`: the API (one series and the list), the client's page and the therapist's
    clients page all say `expected`; an ended series is off the client's page."""
    _at_time(now)
    client = parties.client
    assert _status(api, client, series_id) == expected, now
    assert _listed(api, client) == {series_id: expected}, now
    assert [s["id"] for s in _client_page_series(client)] == ([series_id] if expected == "active" else []), now
    row = _therapist_page_series(parties.therapist)[series_id]
    assert (row["status"], row["next_occurrence"]) == (expected, next_occurrence), now


def _cancel(api, who, series_id: str, instant: datetime) -> None:
    response = api.post(f"{API}/occurrences/{_id(series_id, instant)}/cancel", headers=who.auth, json={})
    assert response.status_code == 200, response.text


def _active_starts(api, who, series_id: str, from_: datetime, to: datetime) -> list[datetime]:
    response = api.get(f"{API}/occurrences", headers=who.auth, params={
        "from": from_.isoformat(), "to": to.isoformat(), "series_id": series_id})
    assert response.status_code == 200, response.text
    return sorted(datetime.fromisoformat(o["start"]) for o in response.json()["items"]
                  if o["status"] not in ("cancelled", "late_cancelled"))


SESSION = timedelta(minutes=MINUTES)
MINUTE = timedelta(minutes=1)


def test_a_one_off_ends_when_its_session_has_ended(api, parties):
    at = parties.at
    series_id = parties.book(None)
    _everywhere(api, parties, series_id, at(0) - timedelta(days=1), "active", at(0))
    _everywhere(api, parties, series_id, at(0) + SESSION - MINUTE, "active")  # in its last minute
    _everywhere(api, parties, series_id, at(0) + SESSION, "ended")
    _everywhere(api, parties, series_id, at(0) + timedelta(days=400), "ended")
    _refused(api.post(f"{API}/series/{series_id}/pauses", headers=parties.client.auth,
                      json={"from": str(at(1).date()), "until": str(at(2).date())}), "series")


def test_a_count_rule_ends_at_its_last_occurrence_not_cancelled_paused_ones_included(api, parties):
    """COUNT=4: the fourth is cancelled and the third paused. The paused one comes back if the
    pause goes, so the series is active until it is past; while it is, the pause can go."""
    at, client = parties.at, parties.client
    series_id = parties.book("FREQ=WEEKLY;COUNT=4")
    _cancel(api, client, series_id, at(3))
    paused = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(at(2).date()), "until": str(at(2).date())})
    assert paused.status_code == 201, paused.text
    assert _active_starts(api, client, series_id, at(0), at(10)) == [at(0), at(1)]
    _everywhere(api, parties, series_id, at(0) + SESSION, "active", at(1))
    _everywhere(api, parties, series_id, at(1) + SESSION, "active")  # nothing visible is next
    _everywhere(api, parties, series_id, at(2) + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, at(2) + SESSION, "ended")
    _at_time(at(1) + SESSION)
    gone = api.delete(f"{API}/series/{series_id}/pauses/{paused.json()['id']}", headers=client.auth)
    assert gone.status_code == 204, gone.text
    assert _active_starts(api, client, series_id, at(0), at(10)) == [at(0), at(1), at(2)]


def test_a_count_rule_whose_first_occurrence_moved_past_the_last_ends_after_it(api, parties):
    at, client = parties.at, parties.client
    series_id = parties.book("FREQ=WEEKLY;COUNT=2")
    later = at(3) + timedelta(days=1)  # Wednesday 10:00, two weeks after the rule's last
    moved = api.post(f"{API}/occurrences/{_id(series_id, at(0))}/move", headers=client.auth,
                     json={"start": later.isoformat()})
    assert moved.status_code == 200, moved.text
    assert _active_starts(api, client, series_id, at(0), at(10)) == [at(1), later]
    # the therapist's page names the next one by its identity (original start): the first
    _everywhere(api, parties, series_id, at(1) + SESSION, "active", at(0))
    _everywhere(api, parties, series_id, later + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, later + SESSION, "ended")


def test_an_until_rule_with_its_last_occurrence_on_time_off_ends_after_it(api, parties):
    """UNTIL the date of the third occurrence (the whole day in the zone); the therapist is away
    that morning. The third comes back if the time off goes, so it keeps the series active."""
    at, client = parties.at, parties.client
    series_id = parties.book(f"FREQ=WEEKLY;UNTIL={at(2):%Y%m%d}")
    off = api.post(f"{API}/therapists/me/time-off", headers=parties.therapist.auth,
                   json={"start": (at(2) - timedelta(hours=1)).isoformat(), "end": (at(2) + SESSION).isoformat()})
    assert off.status_code == 201, off.text
    assert _active_starts(api, client, series_id, at(0), at(10)) == [at(0), at(1)]
    _everywhere(api, parties, series_id, at(1) + SESSION, "active")
    _everywhere(api, parties, series_id, at(2) + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, at(2) + SESSION, "ended")


def test_a_sessions_limit_series_ends_at_its_last_held_session(api, parties):
    """Open-ended weekly, three held sessions; the second is cancelled and does not count, so
    the fourth occurrence is the third held one and the last."""
    at, client = parties.at, parties.client
    series_id = parties.book("FREQ=WEEKLY", sessions_limit=3)
    _cancel(api, client, series_id, at(1))
    assert _active_starts(api, client, series_id, at(0), at(10)) == [at(0), at(2), at(3)]
    _everywhere(api, parties, series_id, at(2) + SESSION, "active", at(3))
    _everywhere(api, parties, series_id, at(3) + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, at(3) + SESSION, "ended")


def test_a_series_with_only_paused_occurrences_left_is_active_until_the_last_is_past(api, parties):
    """COUNT=14 with its first eleven paused and the last three cancelled one by one: nothing
    takes place, but the paused eleven come back if the pause goes, so the series is active
    until the last of them is past."""
    at, client = parties.at, parties.client
    series_id = parties.book("FREQ=WEEKLY;COUNT=14")
    paused = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(at(0).date()), "until": str(at(10).date())})
    assert paused.status_code == 201, paused.text
    assert _active_starts(api, client, series_id, at(0), at(20)) == [at(11), at(12), at(13)]
    _at_time(at(0) - timedelta(days=1))
    for k in (11, 12, 13):
        _cancel(api, client, series_id, at(k))
    assert _active_starts(api, client, series_id, at(0), at(20)) == []
    _everywhere(api, parties, series_id, at(0) - timedelta(days=1), "active")
    _everywhere(api, parties, series_id, at(10) + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, at(10) + SESSION, "ended")


def test_a_sessions_limit_series_paused_for_months_is_active(api, parties):
    """Two held sessions of an open-ended rule, its first eleven weeks paused: the two come
    after the pause, months ahead, so the series is active."""
    at, client = parties.at, parties.client
    series_id = parties.book("FREQ=WEEKLY", sessions_limit=2)
    paused = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                      json={"from": str(at(0).date()), "until": str(at(10).date())})
    assert paused.status_code == 201, paused.text
    assert _active_starts(api, client, series_id, at(0), at(20)) == [at(11), at(12)]
    _everywhere(api, parties, series_id, at(0) - timedelta(days=1), "active", at(11))
    _everywhere(api, parties, series_id, at(12) + SESSION - MINUTE, "active")
    _everywhere(api, parties, series_id, at(12) + SESSION, "ended")


def test_an_open_ended_series_is_active_without_expanding_it(api, parties, monkeypatch):
    at = parties.at
    series_id = parties.book("FREQ=WEEKLY")
    from therabee.services import series_status

    def no_expansion(*args, **kwargs):
        raise AssertionError("an open-ended series was expanded to find its status")

    monkeypatch.setattr(series_status, "load", no_expansion)
    _at_time(at(0) + timedelta(days=3 * 365))
    assert _status(api, parties.client, series_id) == "active"
    assert _listed(api, parties.client) == {series_id: "active"}
