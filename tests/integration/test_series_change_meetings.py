"""End, pause and split of a series: exactly one DELETE per materialized session they
cancel, and no video call at all for occurrences that are still virtual.

(Cancel and move of one occurrence are in test_meetings.py.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.factories import API
from tests.integration.test_meetings import (  # noqa: F401
    FROZEN,
    book_daily,
    frozen_clock,
    recorded_jobs,
    run_jobs,
    session_rows,
    three_sessions,
    zoom,
)

pytest_plugins = ["tests.integration.conftest_zoom"]


def _change(api, who, series_id: str, change: str, day: int) -> None:
    """End, pause or split the series at its occurrence of day `day` (0: the first)."""
    at = FROZEN + timedelta(days=day, hours=2)
    body = {"end": {"from": at.isoformat()},
            "pauses": {"from": f"{at:%Y-%m-%d}", "until": f"{at:%Y-%m-%d}"},
            "split": {"from": at.isoformat(), "start": (at + timedelta(hours=1)).isoformat()}}[change]
    response = api.post(f"{API}/series/{series_id}/{change}", headers=who.auth, json=body)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("change, gone", [("end", [1, 2]), ("pauses", [1]), ("split", [1, 2])])
def test_a_series_change_deletes_each_cancelled_sessions_meeting_exactly_once(
        api, three_sessions, recorded_jobs, zoom, fake_zoom, change, gone):
    from therabee.services import meetings

    therapist, series_id = three_sessions
    before = session_rows(series_id)
    fake_zoom.reset_calls()
    _change(api, therapist, series_id, change, day=1)

    assert sorted(p["session_id"] for _, p in recorded_jobs) == sorted(before[i].id for i in gone)
    assert run_jobs(recorded_jobs, zoom, "meetings.delete") == ["deleted"] * len(gone)
    assert recorded_jobs == []
    after = {row.id: row for row in session_rows(series_id)}
    assert set(fake_zoom.meetings) == {before[i].meeting_id for i in range(3) if i not in gone}
    for i, row in enumerate(before):
        # a pause hides its sessions (they come back when it goes); end and split cancel them
        gone_status = "hidden" if change == "pauses" else "cancelled"
        expected = (gone_status, "deleted") if i in gone else ("scheduled", "created")
        assert (after[row.id].status, after[row.id].meeting_state) == expected
    # running the deletes again (a redelivered job) calls nothing more
    assert [meetings.delete_meeting(before[i].id, zoom) for i in gone] == ["deleted"] * len(gone)
    assert fake_zoom.calls == {**fake_zoom.calls, "delete": len(gone), "create": 0, "update": 0}


@pytest.mark.parametrize("change", ["end", "pauses", "split"])
def test_a_series_change_of_virtual_occurrences_makes_no_video_call(
        api, frozen_clock, recorded_jobs, fake_zoom, change):
    therapist, _, series_id = book_daily(api, FROZEN + timedelta(days=10, hours=2))
    _change(api, therapist, series_id, change, day=11)
    assert recorded_jobs == [] and session_rows() == [] and sum(fake_zoom.calls.values()) == 0
