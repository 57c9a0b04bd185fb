"""The horizon job: exactly the occurrences inside the horizon get sessions, once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import book, register, therapist_with_hours

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


@pytest.fixture
def frozen_clock():
    from therabee.services import clock

    instant = datetime(2030, 1, 7, 12, 0, tzinfo=timezone.utc)  # a Monday
    clock.set_clock(lambda: instant)
    yield instant
    clock.set_clock(None)


def _sessions() -> list[tuple]:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return list(connection.execute(sa.text(
            "SELECT series_id, original_start FROM sessions ORDER BY original_start")))


def test_booking_writes_no_session_and_tick_materializes_exactly_the_horizon(api, frozen_clock):
    from therabee.services import horizon

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    # the therapist books on the client's behalf: the 24 h minimum notice is for clients
    response = book(api, therapist, therapist, frozen_clock + timedelta(hours=2), rrule="FREQ=DAILY",
                    client_id=client.id)
    assert response.status_code == 201, response.text
    assert _sessions() == []
    report = horizon.tick()
    starts = [row[1] for row in _sessions()]
    assert len(starts) == 3  # +2 h, +26 h, +50 h are inside 72 h; +74 h is not
    assert all(s < frozen_clock + timedelta(hours=72) for s in starts)
    assert report.sessions_created == 3
    assert horizon.tick().sessions_created == 0
    assert len(_sessions()) == 3


def test_two_workers_ticking_at_once_make_no_duplicates_and_no_gaps(api, frozen_clock):
    from therabee.services import horizon

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    for hour in range(1, 13):
        client = register(api, "client", "UTC")
        start = frozen_clock + timedelta(hours=hour)
        response = book(api, therapist, therapist, start, rrule="FREQ=DAILY", duration=30,
                        client_id=client.id)
        assert response.status_code == 201, response.text
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(horizon.tick(batch_size=3))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sessions = _sessions()
    assert len(sessions) == len(set(sessions)) == 12 * 3
    assert sum(r.sessions_created for r in reports) == 36


def test_one_colliding_occurrence_does_not_hold_back_the_rest_of_the_batch(api, frozen_clock):
    from therabee.db.engine import get_engine
    from therabee.services import horizon

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    series_ids = []
    for hour in (2, 4):
        client = register(api, "client", "UTC")
        response = book(api, therapist, therapist, frozen_clock + timedelta(hours=hour), rrule="FREQ=DAILY",
                        client_id=client.id)
        assert response.status_code == 201, response.text
        series_ids.append(response.json()["id"])
    # a session that got in by other means (say, a race before the lock) blocks the 4 h slot tomorrow
    blocker = frozen_clock + timedelta(days=1, hours=4)
    with get_engine().begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO sessions (id, series_id, therapist_id, client_id, original_start, start, \"end\","
            " status, meeting_state, created_at, updated_at) SELECT 'blocker', id, therapist_id, client_id,"
            " :original, :start, :end, 'scheduled', 'none', now(), now() FROM series WHERE id = :series"),
            {"original": blocker - timedelta(hours=1), "start": blocker,
             "end": blocker + timedelta(minutes=30), "series": series_ids[0]})
    report = horizon.tick()
    assert report.conflicts == 1
    assert report.sessions_created == 5  # 3 + 3 due, less the one that collides
    assert len(_sessions()) == 6
