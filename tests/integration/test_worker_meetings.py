"""Meeting creation on real Celery workers against the fake Zoom: a SIGKILL mid-create
still ends with exactly one meeting.

The workers reach the fake (a thread of this test process) through THERABEE_ZOOM_*
variables; the claim lease is cut to a few seconds (THERABEE_MEETING_CLAIM_SECONDS)
so recovery does not wait three minutes.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.integration.processes import wait_for
from tests.integration.factories import book, register, therapist_with_hours
from therabee.services import clock

pytest_plugins = ["tests.integration.conftest_celery", "tests.integration.conftest_zoom"]
pytestmark = pytest.mark.postgres(reason="real Celery workers; the default set-up runs jobs in-process")

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
TICK = "therabee.horizon.tick"
CLAIM_SECONDS = 4
CREATE_DELAY = 1.5  # the fake holds the create this long, then stores the meeting


def _session():
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        rows = list(connection.execute(sa.text(
            "SELECT id, meeting_state, meeting_id, meeting_marker FROM sessions")))
    assert len(rows) == 1, rows
    return rows[0]


def _book_one_session_soon(api) -> None:
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    start = (clock.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    if (start + timedelta(minutes=50)).date() != start.date():
        start += timedelta(hours=2)  # stay inside the day's availability
    response = book(api, therapist, therapist, start, rrule=None, client_id=client.id)
    assert response.status_code == 201, response.text


@pytest.fixture
def zoom_env(fake_zoom):
    env = {f"THERABEE_{key.upper()}": value for key, value in fake_zoom.settings_overrides().items()}
    return {**env, "THERABEE_MEETING_CLAIM_SECONDS": str(CLAIM_SECONDS)}


@pytest.mark.parametrize("kill", ["pool_process", "whole_worker"])
def test_a_worker_killed_during_meeting_creation_leaves_exactly_one_meeting(
        api, workers, producer, fake_zoom, zoom_env, kill):
    _book_one_session_soon(api)
    first = workers(**zoom_env)
    fake_zoom.delay_next(1, CREATE_DELAY, kind="create")
    producer.send_task(TICK)  # materializes the session; its meetings.ensure follows
    wait_for(lambda: fake_zoom.calls["create"] == 1, 30, lambda: "a create in flight\n" + first.log())
    assert _session().meeting_state == "creating"

    if kill == "pool_process":
        # the main process sees the child die: reject_on_worker_lost puts the ensure back
        # on the queue, and a fresh pool process runs it again
        for pid in first.child_pids():
            os.kill(pid, signal.SIGKILL)
        log = first.log
    else:
        # nothing of the first worker is left to give its message back: the next
        # worker's horizon tick re-queues the session whose claim has run out
        first.kill()
        second = workers(**zoom_env)
        log = second.log
    wait_for(lambda: len(fake_zoom.meetings) == 1, 10, "the fake to store the slow create")

    def settled() -> bool:
        if kill == "whole_worker":
            producer.send_task(TICK).get(timeout=30)
        return _session().meeting_state == "created"

    wait_for(settled, 40, lambda: "the session to get its meeting\n" + log(), interval=0.5)
    row = _session()
    assert list(fake_zoom.meetings) == [row.meeting_id]
    assert fake_zoom.meetings[row.meeting_id]["agenda"] == f"ref:{row.meeting_marker}"
    assert fake_zoom.calls["create"] == 1  # recovery adopted the meeting, never made a second
    assert fake_zoom.calls["list"] >= 1
    # a later tick finds nothing to do
    assert producer.send_task(TICK).get(timeout=30)["requeued"] == {
        "ensure": 0, "update": 0, "delete": 0, "notices": 0}
    assert fake_zoom.calls["create"] == 1 and len(fake_zoom.meetings) == 1
