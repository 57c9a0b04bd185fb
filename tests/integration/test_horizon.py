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
    from therabee.db.models import Session

    with get_engine().connect() as connection:
        return list(connection.execute(
            sa.select(Session.series_id, Session.original_start).order_by(Session.original_start)))


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


@pytest.mark.postgres(reason="the overlap is refused by the sessions exclusion constraint")
def test_one_colliding_occurrence_does_not_hold_back_the_rest_of_the_batch(api, frozen_clock):
    from therabee.db.engine import get_engine
    from therabee.db.models import Series, Session
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
        series = connection.execute(sa.select(Series.therapist_id, Series.client_id)
                                    .where(Series.id == series_ids[0])).one()
        connection.execute(sa.insert(Session.__table__).values(
            id="blocker", series_id=series_ids[0], therapist_id=series.therapist_id,
            client_id=series.client_id, original_start=blocker - timedelta(hours=1), start=blocker,
            end=blocker + timedelta(minutes=30), status="scheduled", meeting_state="none",
            created_at=frozen_clock, updated_at=frozen_clock))
    report = horizon.tick()
    assert report.conflicts == 1
    assert report.sessions_created == 5  # 3 + 3 due, less the one that collides
    assert len(_sessions()) == 6
