"""Time off over materialized sessions: each is hidden and its meeting deleted once; when
the time off goes they are scheduled again, each with one new meeting."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.factories import API
from therabee.services import horizon
from tests.integration.test_meetings import (  # noqa: F401  (fixtures)
    FROZEN, frozen_clock, recorded_jobs, run_jobs, session_rows, three_sessions, zoom)

pytest_plugins = ["tests.integration.conftest_zoom"]


def test_time_off_deletes_each_meeting_inside_it_exactly_once(api, three_sessions, recorded_jobs,
                                                              zoom, fake_zoom):
    therapist, series_id = three_sessions
    rows = session_rows(series_id)
    fake_zoom.reset_calls()
    response = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (rows[1].start - timedelta(minutes=5)).isoformat(),
        "end": (rows[2].end + timedelta(minutes=5)).isoformat(), "reason": "conference"})
    assert response.status_code == 201, response.text
    assert run_jobs(recorded_jobs, zoom, "meetings.delete") == ["deleted", "deleted"]
    assert run_jobs(recorded_jobs, zoom, "meetings.delete") == []  # nothing queued twice
    assert fake_zoom.calls["delete"] == 2
    assert set(fake_zoom.meetings) == {rows[0].meeting_id}
    assert [r.status for r in session_rows(series_id)] == ["scheduled", "hidden", "hidden"]
    assert [name for name, _ in recorded_jobs] == ["practice.time_off_notices"]
    listed = api.get(f"{API}/occurrences", headers=therapist.auth, params={
        "from": FROZEN.isoformat(), "to": (FROZEN + timedelta(days=3)).isoformat()}).json()["items"]
    assert [item["start"] for item in listed] == [rows[0].start.strftime("%Y-%m-%dT%H:%M:%SZ")]

    recorded_jobs.clear()
    assert api.delete(f"{API}/therapists/me/time-off/{response.json()['id']}",
                      headers=therapist.auth).status_code == 204
    horizon.tick()  # the removal made them due
    assert run_jobs(recorded_jobs, zoom, "meetings.ensure") == ["created", "created"]
    assert fake_zoom.calls["create"] == 2
    after = session_rows(series_id)
    assert [(r.id, r.status, r.meeting_state) for r in after] == [
        (r.id, "scheduled", "created") for r in rows]  # the same rows, scheduled again
    assert set(fake_zoom.meetings) == {r.meeting_id for r in after} and len(fake_zoom.meetings) == 3
