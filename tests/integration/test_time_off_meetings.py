"""Time off over materialized sessions: each is cancelled and its meeting deleted once."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.factories import API
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
    assert [r.status for r in session_rows(series_id)] == ["scheduled", "cancelled", "cancelled"]
    assert [name for name, _ in recorded_jobs] == ["practice.time_off_notices"]
    listed = api.get(f"{API}/occurrences", headers=therapist.auth, params={
        "from": FROZEN.isoformat(), "to": (FROZEN + timedelta(days=3)).isoformat()}).json()["items"]
    assert [item["start"] for item in listed] == [rows[0].start.strftime("%Y-%m-%dT%H:%M:%SZ")]
