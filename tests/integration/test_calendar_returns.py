"""What a change hides comes back, and what a change adds is checked (issue 12, found by the
stateful test against the reference calendar), through the REST API.

The therapist works Mon-Fri 09-17 in New York; `at(k)` is the Tuesday 10:00 New York k weeks
after next week's (adding weeks to an aware datetime keeps its wall-clock time, as a weekly
series does). Expected values are worked out by hand from those instants.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from therabee.services import clock

ZONE = "America/New_York"
SESSION = timedelta(minutes=50)


def _id(series_id: str, original_start: datetime) -> str:
    return f"{series_id}:{original_start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _listed(api, who, from_: datetime, to: datetime) -> list[tuple]:
    response = api.get(f"{API}/occurrences", headers=who.auth,
                       params={"from": from_.isoformat(), "to": to.isoformat()})
    assert response.status_code == 200, response.text
    return [(i["id"], datetime.fromisoformat(i["start"].replace("Z", "+00:00")), i["status"])
            for i in response.json()["items"]]


def _sessions(series_id: str) -> list[tuple]:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    with get_engine().connect() as connection:  # the typed columns: aware UTC on both databases
        return [tuple(r) for r in connection.execute(sa.select(Session.id, Session.start, Session.status).where(
            Session.series_id == series_id).order_by(Session.original_start))]


@pytest.fixture
def parties(api):
    therapist = therapist_with_hours(api, ZONE)
    start = next_weekday_at(1, 10, ZONE)
    yield SimpleNamespace(therapist=therapist, client=register(api, "client", ZONE),
                          other=register(api, "client", ZONE), at=lambda k: start + timedelta(weeks=k))
    clock.set_clock(None)


def test_an_occurrence_moved_far_then_cancelled_is_listed_cancelled_where_it_was(api, parties):
    at, client = parties.at, parties.client
    series_id = book(api, client, parties.therapist, at(0)).json()["id"]
    far = at(6) + timedelta(days=1)  # Wednesday 10:00, five weeks after its own week
    assert api.post(f"{API}/occurrences/{_id(series_id, at(1))}/move", headers=client.auth,
                    json={"start": far.isoformat()}).status_code == 200
    cancelled = api.post(f"{API}/occurrences/{_id(series_id, at(1))}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    assert _listed(api, client, far - timedelta(hours=3), far + timedelta(hours=3)) == [
        (_id(series_id, at(1)), far, "cancelled")]
    assert _listed(api, client, at(1) - timedelta(days=1), at(1) + timedelta(days=1)) == []
    # the time it had is free again: another client may take it
    assert book(api, parties.other, parties.therapist, far, rrule=None).status_code == 201


def test_paused_sessions_are_hidden_and_scheduled_again_when_the_pause_goes(api, parties):
    from therabee.services import horizon

    at, client = parties.at, parties.client
    series_id = book(api, client, parties.therapist, at(0)).json()["id"]
    clock.set_clock(lambda: at(1) - timedelta(hours=30))  # at(1) is inside the 72 h horizon
    horizon.tick()
    [(session_id, _, status)] = [s for s in _sessions(series_id) if s[1] == at(1)]
    assert status == "scheduled"
    pause = api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                     json={"from": str(at(1).date()), "until": str(at(1).date())})
    assert pause.status_code == 201, pause.text
    assert _sessions(series_id)[-1] == (session_id, at(1), "hidden")
    assert _listed(api, client, at(1) - timedelta(days=1), at(1) + timedelta(days=1)) == []

    gone = api.delete(f"{API}/series/{series_id}/pauses/{pause.json()['id']}", headers=client.auth)
    assert gone.status_code == 204, gone.text
    assert _listed(api, client, at(1) - timedelta(days=1), at(1) + timedelta(days=1)) == [
        (_id(series_id, at(1)), at(1), "scheduled")]
    horizon.tick()
    assert _sessions(series_id)[-1] == (session_id, at(1), "scheduled")


@pytest.mark.parametrize("change", ["cancel", "pause", "time off"])
def test_a_change_that_adds_a_colliding_session_to_a_sessions_limit_series_is_refused(api, parties, change):
    """Two held sessions, at(0) and at(1); another client has at(2). Whatever takes at(0) away
    (a cancellation, a pause, time off) makes at(2) this series' second held one: 409, and
    nothing is written. Once the other client's one is gone, the same change goes through."""
    at, client, therapist = parties.at, parties.client, parties.therapist
    series_id = book(api, client, therapist, at(0), sessions_limit=2).json()["id"]
    other = book(api, parties.other, therapist, at(2), rrule=None)
    assert other.status_code == 201, other.text

    def make():
        if change == "cancel":
            return api.post(f"{API}/occurrences/{_id(series_id, at(0))}/cancel", headers=client.auth, json={})
        if change == "pause":
            return api.post(f"{API}/series/{series_id}/pauses", headers=client.auth,
                            json={"from": str(at(0).date()), "until": str(at(0).date())})
        return api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                        json={"start": at(0).isoformat(), "end": (at(0) + SESSION).isoformat()})

    window = (at(0) - timedelta(days=1), at(4))
    before = _listed(api, therapist, *window)
    refused = make()
    assert refused.status_code == 409, refused.text
    assert [c["occurrence_id"] for c in refused.json()["conflicts"]] == [_id(other.json()["id"], at(2))]
    assert _listed(api, therapist, *window) == before

    assert api.post(f"{API}/occurrences/{_id(other.json()['id'], at(2))}/cancel", headers=parties.other.auth,
                    json={}).status_code == 200
    assert make().status_code in (200, 201)
    mine = [(start, status) for i, start, status in _listed(api, client, *window) if i.startswith(series_id)]
    assert mine == [(at(1), "scheduled"), (at(2), "scheduled")] if change != "cancel" else [
        (at(0), "cancelled"), (at(1), "scheduled"), (at(2), "scheduled")]


def test_a_split_counts_held_occurrences_by_their_original_start(api, parties):
    """sessions_limit 4: the first is moved past the third, then the series is split from the
    third. Held before it, by original start: the first (moved, still held) and the second, so
    the new series has 4 - 2 = 2 left."""
    at, client = parties.at, parties.client
    series_id = book(api, client, parties.therapist, at(0), sessions_limit=4).json()["id"]
    later = at(2) + timedelta(days=1)
    assert api.post(f"{API}/occurrences/{_id(series_id, at(0))}/move", headers=client.auth,
                    json={"start": later.isoformat()}).status_code == 200
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                     json={"from": at(2).isoformat(), "start": (at(2) + timedelta(hours=1)).isoformat()})
    assert split.status_code == 201, split.text
    assert split.json()["sessions_limit"] == 2


def test_a_session_moved_again_leaves_nothing_behind_where_it_was_moved_before(api, parties):
    """at(0) is moved to Wednesday 14:00 (a moved exception), made a session there by the
    horizon job, then moved six weeks on: nothing is left at Wednesday 14:00 (the exception
    still says so, but the session it has become overrides it), and that time is free."""
    from therabee.services import horizon

    at, client = parties.at, parties.client
    series_id = book(api, client, parties.therapist, at(0)).json()["id"]
    clock.set_clock(lambda: at(0) - timedelta(days=1))
    wednesday = at(0) + timedelta(days=1, hours=4)
    assert api.post(f"{API}/occurrences/{_id(series_id, at(0))}/move", headers=client.auth,
                    json={"start": wednesday.isoformat()}).status_code == 200
    horizon.tick()  # Wednesday 14:00 is 52 h ahead: its session is made
    assert [s[1:] for s in _sessions(series_id)][:1] == [(wednesday, "scheduled")]
    later = at(6) + timedelta(days=1)
    moved = api.post(f"{API}/occurrences/{_id(series_id, at(0))}/move", headers=client.auth,
                     json={"start": later.isoformat()})
    assert moved.status_code == 200, moved.text

    around = (wednesday - timedelta(hours=1), wednesday + timedelta(hours=2))
    assert _listed(api, parties.therapist, *around) == []
    assert _listed(api, client, later - timedelta(hours=1), later + timedelta(hours=1)) == [
        (_id(series_id, at(0)), later, "scheduled")]
    assert book(api, parties.other, parties.therapist, wednesday, rrule=None).status_code == 201
