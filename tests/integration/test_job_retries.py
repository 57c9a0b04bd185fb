"""One retry layer (services/jobs.py): a meeting job whose Zoom calls keep failing calls Zoom
a bounded number of times — `job_attempts` runs, the client itself never retrying — each
failure logged with its attempt number, on a Celery worker and in the in-process runner.
The policy here: 4 runs, backoff from 0.2 s capped at 1 s.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta, timezone

import pytest

from tests.integration.factories import API, book, register, therapist_with_hours
from tests.integration.processes import wait_for
from therabee.services import clock
from therabee.settings import get_settings

pytest_plugins = ["tests.integration.conftest_celery", "tests.integration.conftest_zoom"]

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
POLICY = {"THERABEE_JOB_ATTEMPTS": "4", "THERABEE_JOB_BACKOFF_SECONDS": "0.2",
          "THERABEE_JOB_BACKOFF_CAP_SECONDS": "1"}
KINDS = ("create", "update", "delete", "list", "get")


def _moved_session_with_a_meeting(api, zoom) -> str:
    """A session 26 h ahead with its meeting, then moved (its update job is for the test
    to run). Returns the session id."""
    from therabee.db.engine import get_engine
    from therabee.db.models import Session
    from therabee.services import horizon, meetings

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    start = (clock.now() + timedelta(hours=26)).replace(minute=0, second=0, microsecond=0)
    if start.hour > 21:
        start = start.replace(hour=10)
    assert book(api, therapist, therapist, start, rrule=None, client_id=client.id).status_code == 201
    assert horizon.tick().sessions_created == 1
    with get_engine().connect() as connection:
        session_id, original = connection.execute(
            Session.__table__.select().with_only_columns(Session.id, Session.original_start)).one()
    assert meetings.ensure_meeting(session_id, zoom) == "created"
    series_id = api.get(f"{API}/series", headers=therapist.auth).json()["items"][0]["id"]
    occurrence = f"{series_id}:{original.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    moved = api.post(f"{API}/occurrences/{occurrence}/move", headers=therapist.auth,
                     json={"start": (start + timedelta(hours=1)).isoformat()})
    assert moved.status_code == 200, moved.text
    return session_id


def _attempt_lines(log: str, task: str) -> list[str]:
    """(attempt number, what follows) of each logged failure of `task`."""
    return re.findall(rf"job {re.escape(task)}: attempt (\d) of 4 failed \(.*?\); "
                      rf"(next attempt in [\d.]+ s|\w[^:]*)", log)


@pytest.mark.postgres(reason="real Celery workers; the default set-up runs jobs in-process")
@pytest.mark.parametrize("status, retry_after", [(500, None), (429, "1")])
def test_a_meeting_job_failing_every_time_on_a_worker_calls_zoom_four_times_and_logs_each_attempt(
        api, workers, producer, fake_zoom, make_zoom_client, status, retry_after):
    session_id = _moved_session_with_a_meeting(api, make_zoom_client())
    zoom_env = {f"THERABEE_{key.upper()}": value for key, value in fake_zoom.settings_overrides().items()}
    worker = workers(**zoom_env, **POLICY)
    fake_zoom.reset_calls()
    fake_zoom.fail_next(100, status=status, retry_after=retry_after, kind="update")

    began = time.monotonic()
    result = producer.send_task("therabee.meetings.update", kwargs={"session_id": session_id})
    result.get(timeout=60, propagate=False)
    took = time.monotonic() - began
    assert result.state == "FAILURE", worker.log()
    assert {k: fake_zoom.calls[k] for k in KINDS} == {**dict.fromkeys(KINDS, 0), "update": 4}
    attempts = _attempt_lines(worker.log(20000), "therabee.meetings.update")
    assert [n for n, _ in attempts] == ["1", "2", "3", "4"], worker.log()
    assert attempts[3][1].startswith("no attempts left")
    if retry_after:  # Zoom's Retry-After (1 s) is longer than each backoff (at most 0.8 s here)
        assert [w for _, w in attempts[:3]] == ["next attempt in 1.0 s"] * 3
        assert took >= 3.0
    time.sleep(1.5)
    assert fake_zoom.calls["update"] == 4  # nothing more once given up


@pytest.fixture
def in_process(fake_zoom, monkeypatch):
    from tasks import embedded

    for key, value in fake_zoom.settings_overrides().items():
        monkeypatch.setenv(f"THERABEE_{key.upper()}", value)
    for key, value in POLICY.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield embedded
    embedded.stop_embedded()
    get_settings.cache_clear()


@pytest.mark.parametrize("job, kind, calls", [
    ("meetings.update", "update", {"update": 4}),
    # a create that failed with a 5xx may have been made: each later run looks it up first
    ("meetings.ensure", "create", {"create": 4, "list": 3}),
])
def test_a_meeting_job_failing_every_time_in_process_calls_zoom_a_bounded_number_of_times(
        api, in_process, fake_zoom, make_zoom_client, caplog, job, kind, calls):
    session_id = _moved_session_with_a_meeting(api, make_zoom_client())
    if job == "meetings.ensure":
        from tests.integration.test_meetings import set_session

        set_session(session_id, meeting_state="none", meeting_id=None, meeting_marker=None, join_url=None)
    caplog.set_level(logging.WARNING, logger="therabee.services.jobs")
    fake_zoom.reset_calls()
    fake_zoom.fail_next(100, status=502, kind=kind)

    in_process.start_embedded(interval=0)  # the set-up's own jobs were done by hand, or lost
    in_process.dispatch(job, {"session_id": session_id})
    task = in_process.JOB_TASKS[job]
    log = lambda: "\n".join(r.getMessage() for r in caplog.records)  # noqa: E731
    wait_for(lambda: len(_attempt_lines(log(), task)) == 4, 30, lambda: "four attempts\n" + log())
    time.sleep(1.5)
    assert {k: fake_zoom.calls[k] for k in KINDS} == {**dict.fromkeys(KINDS, 0), **calls}
    assert [n for n, _ in _attempt_lines(log(), task)] == ["1", "2", "3", "4"]
