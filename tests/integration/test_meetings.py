"""Video meetings of sessions against the fake Zoom over HTTP: one meeting per session, always."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, register, therapist_with_hours

pytest_plugins = ["tests.integration.conftest_zoom"]

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
FROZEN = datetime(2030, 1, 7, 12, 0, tzinfo=timezone.utc)  # a Monday, far after the real now


@pytest.fixture
def frozen_clock():
    from therabee.services import clock

    now = [FROZEN]
    clock.set_clock(lambda: now[0])
    yield now  # now[0] = ... travels in time
    clock.set_clock(None)


@pytest.fixture
def recorded_jobs():
    """Every job the services hand over after commit, as (name, payload)."""
    from therabee.services import jobs

    recorded: list[tuple[str, dict]] = []
    jobs.set_dispatcher(lambda name, payload: recorded.append((name, payload)))
    yield recorded
    jobs.set_dispatcher(None)


def session_rows(series_id: str | None = None) -> list:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    query = sa.select(Session.__table__).order_by(Session.start)
    if series_id:
        query = query.where(Session.series_id == series_id)
    with get_engine().connect() as connection:
        return list(connection.execute(query))


def set_session(session_id: str, **values) -> None:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    with get_engine().begin() as connection:
        connection.execute(sa.update(Session.__table__).where(Session.id == session_id).values(**values))


def book_daily(api, start: datetime, name: str | None = None):
    """A daily series from `start`, booked by the therapist (inside the client's minimum
    notice) for a new client; returns (therapist, client, series id)."""
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "America/New_York", name=name)
    response = book(api, therapist, therapist, start, rrule="FREQ=DAILY", client_id=client.id)
    assert response.status_code == 201, response.text
    return therapist, client, response.json()["id"]


def run_jobs(recorded, provider, name: str = "meetings.ensure") -> list[str]:
    from therabee.services import meetings

    action = getattr(meetings, name.split(".")[1] + "_meeting")
    done = [action(payload["session_id"], provider) for n, payload in list(recorded) if n == name]
    recorded[:] = [(n, p) for n, p in recorded if n != name]
    return done


def ensure_all(provider) -> list[str]:
    """What the `meetings.ensure` jobs of a tick do: ensure every session's meeting."""
    from therabee.services import meetings

    return [meetings.ensure_meeting(row.id, provider) for row in session_rows()]


def occurrence_id(row) -> str:
    return f"{row.series_id}:{row.original_start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


@pytest.fixture
def zoom(make_zoom_client):
    return make_zoom_client()


@pytest.fixture
def three_sessions(api, frozen_clock, recorded_jobs, zoom):
    """A daily series whose first three occurrences are materialized with meetings."""
    from therabee.services import horizon

    therapist, _, series_id = book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    recorded_jobs.clear()
    assert ensure_all(zoom) == ["created"] * 3
    return therapist, series_id


def test_booking_calls_no_video_api_and_each_new_session_gets_exactly_one_meeting(
        api, frozen_clock, recorded_jobs, zoom, fake_zoom):
    from therabee.services import horizon, meetings

    _, _, series_id = book_daily(api, FROZEN + timedelta(hours=2))
    assert sum(fake_zoom.calls.values()) == 0 and recorded_jobs == []
    horizon.tick()
    assert sum(fake_zoom.calls.values()) == 0  # the tick only queues
    assert ensure_all(zoom) == ["created"] * 3
    rows = session_rows(series_id)
    live = fake_zoom.meetings
    assert len(live) == 3 and {row.meeting_id for row in rows} == set(live)
    for row in rows:
        meeting = live[row.meeting_id]
        assert (row.meeting_state, row.join_url) == ("created", meeting["join_url"])
        assert meeting["topic"] == "Therapy session" and meeting["agenda"] == f"ref:{row.meeting_marker}"
        assert meeting["duration"] == 50 and meeting["timezone"] == "UTC"
    assert [meetings.ensure_meeting(row.id, zoom) for row in rows] == ["created"] * 3
    assert len(fake_zoom.meetings) == 3 and fake_zoom.calls["create"] == 3


def test_a_create_whose_answer_was_lost_is_adopted_by_the_next_ensure(
        api, frozen_clock, recorded_jobs, make_zoom_client, fake_zoom):
    from therabee.services import horizon, meetings
    from therabee.video import VideoUnavailable

    zoom = make_zoom_client()
    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    first = session_rows()[0].id
    fake_zoom.drop_connection_after_create_next(1)
    with pytest.raises(VideoUnavailable):
        meetings.ensure_meeting(first, zoom)
    row = next(r for r in session_rows() if r.id == first)
    assert row.meeting_state == "creating" and len(fake_zoom.meetings) == 1
    assert meetings.ensure_meeting(first, zoom) == "created"
    row = next(r for r in session_rows() if r.id == first)
    assert fake_zoom.calls["create"] == 1 and list(fake_zoom.meetings) == [row.meeting_id]


def test_a_worker_that_died_after_creating_leaves_a_meeting_the_next_one_adopts(
        api, frozen_clock, recorded_jobs, zoom, fake_zoom):
    from therabee.services import horizon, meetings

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    row = session_rows()[0]
    set_session(row.id, meeting_state="creating", meeting_marker="m-crashed",
                meeting_claimed_until=FROZEN + timedelta(minutes=3))
    made = zoom.create_meeting(start=row.start, duration_minutes=50, timezone="UTC", marker="m-crashed")
    with pytest.raises(meetings.MeetingBusy):  # its claim has not run out yet
        meetings.ensure_meeting(row.id, zoom)
    frozen_clock[0] = FROZEN + timedelta(minutes=4)
    assert meetings.ensure_meeting(row.id, zoom) == "created"
    assert session_rows()[0].meeting_id == made.id
    assert fake_zoom.calls["create"] == 1 and len(fake_zoom.meetings) == 1


@pytest.mark.postgres(reason="concurrent workers serialised by row locks (SELECT … FOR UPDATE)")
def test_two_workers_ensuring_at_once_make_one_meeting(api, frozen_clock, recorded_jobs, zoom, fake_zoom):
    from therabee.services import horizon, meetings

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    session_id = session_rows()[0].id
    fake_zoom.delay_next(1, 0.5, kind="create")
    outcomes: list[str] = []

    def worker() -> None:
        try:
            outcomes.append(meetings.ensure_meeting(session_id, zoom))
        except meetings.MeetingBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["busy"] * 3 + ["created"]
    assert fake_zoom.calls["create"] == 1 and len(fake_zoom.meetings) == 1


def test_moving_a_session_with_a_meeting_sends_exactly_one_patch(api, three_sessions, recorded_jobs,
                                                                 zoom, fake_zoom):
    therapist, series_id = three_sessions
    row = session_rows(series_id)[1]
    fake_zoom.reset_calls()
    new_start = row.start + timedelta(hours=3)
    response = api.post(f"{API}/occurrences/{occurrence_id(row)}/move", headers=therapist.auth,
                        json={"start": new_start.isoformat()})
    assert response.status_code == 200, response.text
    assert recorded_jobs == [("meetings.update", {"session_id": row.id})]
    assert run_jobs(recorded_jobs, zoom, "meetings.update") == ["created"]
    assert fake_zoom.calls == {**fake_zoom.calls, "update": 1, "create": 0, "delete": 0}
    assert fake_zoom.meetings[row.meeting_id]["start_time"] == f"{new_start:%Y-%m-%dT%H:%M:%SZ}"


def test_cancelling_a_session_with_a_meeting_sends_exactly_one_delete(api, three_sessions, recorded_jobs,
                                                                      zoom, fake_zoom):
    from therabee.services import meetings

    therapist, series_id = three_sessions
    row = session_rows(series_id)[2]
    fake_zoom.reset_calls()
    response = api.post(f"{API}/occurrences/{occurrence_id(row)}/cancel", headers=therapist.auth, json={})
    assert response.status_code == 200, response.text
    assert run_jobs(recorded_jobs, zoom, "meetings.delete") == ["deleted"]
    assert fake_zoom.calls["delete"] == 1 and row.meeting_id not in fake_zoom.meetings
    assert session_rows(series_id)[2].meeting_state == "deleted"
    assert meetings.ensure_meeting(row.id, zoom) == "deleted"  # a cancelled session gets none
    assert meetings.delete_meeting(row.id, zoom) == "deleted"
    assert fake_zoom.calls["delete"] == 1 and fake_zoom.calls["create"] == 0


def test_cancel_and_move_of_virtual_occurrences_make_no_video_calls(api, frozen_clock, recorded_jobs,
                                                                    fake_zoom):
    client, _, series_id = book_daily(api, FROZEN + timedelta(days=10, hours=2))
    first = f"{series_id}:{FROZEN + timedelta(days=10, hours=2):%Y%m%dT%H%M%SZ}"
    second = f"{series_id}:{FROZEN + timedelta(days=11, hours=2):%Y%m%dT%H%M%SZ}"
    assert api.post(f"{API}/occurrences/{first}/cancel", headers=client.auth, json={}).status_code == 200
    moved = api.post(f"{API}/occurrences/{second}/move", headers=client.auth,
                     json={"start": (FROZEN + timedelta(days=11, hours=5)).isoformat()})
    assert moved.status_code == 200, moved.text
    assert recorded_jobs == [] and session_rows() == [] and sum(fake_zoom.calls.values()) == 0


@pytest.mark.parametrize("status, error, lookups", [(429, "VideoRateLimited", 0), (500, "VideoUnavailable", 1)])
def test_a_refused_create_raises_the_typed_error_at_once_and_the_next_run_makes_one_meeting(
        api, frozen_clock, recorded_jobs, zoom, fake_zoom, status, error, lookups):
    import therabee.video as video
    from therabee.services import horizon, meetings

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    session_id = session_rows()[0].id
    fake_zoom.fail_next(1, status=status, retry_after="1", kind="create")
    with pytest.raises(getattr(video, error)) as caught:
        meetings.ensure_meeting(session_id, zoom)
    assert caught.value.retry_after == 1.0 and fake_zoom.calls["create"] == 1  # no retry inside
    assert meetings.ensure_meeting(session_id, zoom) == "created"
    # after a 500 the next run first looks for a meeting Zoom may have made (by its marker);
    # a 429 made nothing, so it creates at once
    assert fake_zoom.calls["list"] == lookups and fake_zoom.calls["create"] == 2
    assert len(fake_zoom.meetings) == 1


def test_a_create_that_finishes_after_the_session_was_cancelled_removes_its_meeting(
        api, frozen_clock, recorded_jobs, zoom, fake_zoom):
    from therabee.services import horizon, meetings

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    session_id = session_rows()[0].id

    class CancelledMeanwhile:
        def __getattr__(self, name):
            return getattr(zoom, name)

        def create_meeting(self, **kwargs):
            made = zoom.create_meeting(**kwargs)
            set_session(session_id, status="cancelled", meeting_state="deleted")  # a delete job won
            return made

    assert meetings.ensure_meeting(session_id, CancelledMeanwhile()) == "deleted"
    assert fake_zoom.meetings == {} and fake_zoom.calls["delete"] == 1


def test_a_meeting_lost_at_the_provider_is_made_again_after_a_move(api, three_sessions, recorded_jobs,
                                                                   zoom, fake_zoom):
    from therabee.services import meetings

    _, series_id = three_sessions
    row = session_rows(series_id)[0]
    zoom.delete_meeting(row.meeting_id)
    set_session(row.id, start=row.start + timedelta(minutes=30), end=row.end + timedelta(minutes=30))
    assert meetings.update_meeting(row.id, zoom) == "none"
    assert recorded_jobs == [("meetings.ensure", {"session_id": row.id})]
    assert run_jobs(recorded_jobs, zoom) == ["created"]
    assert len(fake_zoom.meetings) == 3


def test_the_credential_free_provider_follows_the_same_states(api, frozen_clock, recorded_jobs):
    from therabee.services import horizon, reconcile
    from therabee.video.free import FreeVideoProvider

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    free = FreeVideoProvider("https://meet.example")
    assert ensure_all(free) == ["created"] * 3
    assert all(r.join_url.startswith("https://meet.example/therabee-") for r in session_rows())
    frozen_clock[0] = FROZEN + timedelta(minutes=3)
    assert reconcile.sweep() == reconcile.SweepReport()  # every meeting in step


def test_a_tick_queues_one_ensure_per_new_session_after_commit(api, frozen_clock, recorded_jobs):
    from therabee.services import horizon

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    assert sorted(p["session_id"] for _, p in recorded_jobs) == sorted(r.id for r in session_rows())


def test_the_sweep_leaves_fresh_sessions_to_their_own_job_and_re_derives_lost_ones(
        api, frozen_clock, recorded_jobs):
    from therabee.services import horizon, jobs, reconcile

    book_daily(api, FROZEN + timedelta(hours=2))
    horizon.tick()
    ids = sorted(row.id for row in session_rows())
    recorded_jobs.clear()
    assert reconcile.sweep() == reconcile.SweepReport()  # their meetings.ensure jobs are on the way
    frozen_clock[0] = FROZEN + timedelta(minutes=3)  # ...and were lost: no meeting yet
    assert reconcile.sweep() == reconcile.SweepReport(ensure=3)
    assert sorted(p["session_id"] for n, p in recorded_jobs if n == "meetings.ensure") == ids
    recorded_jobs.clear()
    assert reconcile.sweep() == reconcile.SweepReport()  # not again while those may be retrying
    frozen_clock[0] += jobs.retry_window() + timedelta(seconds=1)  # ...and they were lost too
    assert reconcile.sweep() == reconcile.SweepReport(ensure=3) and len(recorded_jobs) == 3
