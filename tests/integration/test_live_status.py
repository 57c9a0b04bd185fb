"""A session's status while it runs and its Join window, through the API with the clock pinned.

Without webhooks (the free provider) "in progress" is derived from the clock when read, and
written nowhere; with Zoom's webhooks it is what they wrote. The therapist's calendar and the
client's page show what the API says. Every instant is written out by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, register, therapist_with_hours

UTC = timezone.utc
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
NOW = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # a Monday
START = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)  # a one-off, 14:00–14:50 UTC
ID_SUFFIX = ":20300107T140000Z"


@pytest.fixture
def pinned():
    from therabee.services import clock

    now = [NOW]
    clock.set_clock(lambda: now[0])
    yield now  # now[0] = ... moves the clock
    clock.set_clock(None)


@pytest.fixture
def no_jobs():
    """Jobs handed over after commit are kept here, not run: no meeting is made."""
    from therabee.services import jobs

    handed: list[tuple[str, dict]] = []
    jobs.set_dispatcher(lambda name, payload: handed.append((name, payload)))
    yield handed
    jobs.set_dispatcher(None)


@pytest.fixture
def zoom_with_webhooks(monkeypatch):
    from therabee.settings import get_settings

    for name, value in (("ACCOUNT_ID", "acc"), ("CLIENT_ID", "cid"), ("CLIENT_SECRET", "secret"),
                        ("WEBHOOK_SECRET", "whsec-test")):
        monkeypatch.setenv(f"THERABEE_ZOOM_{name}", value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def one_off(api, pinned, no_jobs):
    """(therapist, client, occurrence id) of a 50-minute one-off at START, booked at NOW."""
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "Europe/Berlin")
    made = book(api, therapist, therapist, START, rrule=None, client_id=client.id)
    assert made.status_code == 201, made.text
    return therapist, client, made.json()["id"] + ID_SUFFIX


def listed(api, who, occurrence_id: str) -> dict:
    found = api.get(f"{API}/occurrences", headers=who.auth,
                    params={"from": "2030-01-07T00:00:00Z", "to": "2030-01-08T00:00:00Z"})
    assert found.status_code == 200, found.text
    return next(o for o in found.json()["items"] if o["id"] == occurrence_id)


def opened(api, who, occurrence_id: str) -> dict:
    found = api.get(f"{API}/occurrences/{occurrence_id}", headers=who.auth)
    assert found.status_code == 200, found.text
    return found.json()


def stored_statuses() -> list[str]:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return list(connection.execute(sa.text("SELECT status FROM sessions")).scalars())


@pytest.mark.parametrize("now, status", [
    (datetime(2030, 1, 7, 13, 59, 59, tzinfo=UTC), "scheduled"),
    (datetime(2030, 1, 7, 14, 0, tzinfo=UTC), "in_progress"),
    (datetime(2030, 1, 7, 14, 49, 59, tzinfo=UTC), "in_progress"),
    (datetime(2030, 1, 7, 14, 50, tzinfo=UTC), "scheduled"),
])
def test_without_webhooks_the_api_derives_in_progress_from_start_to_end_and_writes_nothing(
        api, pinned, one_off, now, status):
    therapist, client, occurrence_id = one_off
    pinned[0] = now
    for who in (therapist, client):
        assert listed(api, who, occurrence_id)["status"] == status
    assert opened(api, therapist, occurrence_id)["status"] == status
    assert set(stored_statuses()) <= {"scheduled"}  # opening it may have made the session: scheduled


def test_join_from_is_an_hour_before_the_start_and_absent_once_cancelled(api, pinned, one_off):
    therapist, client, occurrence_id = one_off
    assert listed(api, client, occurrence_id)["join_from"] == "2030-01-07T13:00:00Z"
    assert opened(api, therapist, occurrence_id)["join_from"] == "2030-01-07T13:00:00Z"
    cancelled = api.post(f"{API}/occurrences/{occurrence_id}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "late_cancelled" and cancelled.json()["join_from"] is None
    assert listed(api, therapist, occurrence_id)["join_from"] is None


def test_attendance_can_be_marked_from_the_start_not_a_second_before(api, pinned, one_off):
    therapist, _, occurrence_id = one_off
    url = f"{API}/occurrences/{occurrence_id}/attendance"
    pinned[0] = datetime(2030, 1, 7, 13, 59, 59, tzinfo=UTC)
    early = api.post(url, headers=therapist.auth, json={"status": "completed"})
    assert early.status_code == 422, early.text
    pinned[0] = START
    marked = api.post(url, headers=therapist.auth, json={"status": "completed"})
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "completed"
    pinned[0] = datetime(2030, 1, 7, 14, 20, tzinfo=UTC)  # marked, it is no longer "in progress"
    assert listed(api, therapist, occurrence_id)["status"] == "completed"
    assert stored_statuses() == ["completed"]


def test_the_therapists_calendar_and_the_clients_page_show_what_the_api_says(api, pinned, one_off):
    from therabee.services import client_views, people, therapist_views

    therapist, client, occurrence_id = one_off
    pinned[0] = datetime(2030, 1, 7, 14, 10, tzinfo=UTC)
    window = therapist_views.calendar_window(people.get_user(therapist.id), datetime(2030, 1, 7, tzinfo=UTC),
                                             datetime(2030, 1, 8, tzinfo=UTC))
    [shown] = [o for o in window["occurrences"] if o["id"] == occurrence_id]
    assert (shown["status"], shown["join_from"]) == ("in_progress", datetime(2030, 1, 7, 13, 0, tzinfo=UTC))
    [mine] = [o for o in client_views.my_sessions(people.get_user(client.id))["occurrences"]
              if o["id"] == occurrence_id]
    assert (mine["status"], mine["status_label"]) == ("in_progress", "in progress")
    assert (mine["join_from"], mine["end"]) == ("2030-01-07T13:00:00+00:00", "2030-01-07T14:50:00+00:00")


def test_with_zoom_webhooks_the_status_is_what_the_webhooks_wrote(api, pinned, one_off, zoom_with_webhooks):
    from therabee.db.engine import get_engine

    therapist, _, occurrence_id = one_off
    pinned[0] = datetime(2030, 1, 7, 14, 10, tzinfo=UTC)
    assert opened(api, therapist, occurrence_id)["status"] == "scheduled"  # no meeting.started yet
    with get_engine().begin() as connection:  # what meeting.started writes (test_webhooks.py)
        connection.execute(sa.text("UPDATE sessions SET status = 'in_progress'"))
    assert listed(api, therapist, occurrence_id)["status"] == "in_progress"
    pinned[0] = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)  # after the end, until meeting.ended comes
    assert listed(api, therapist, occurrence_id)["status"] == "in_progress"
