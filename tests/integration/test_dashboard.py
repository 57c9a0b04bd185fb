"""The dashboard's figures, checked against hand-computed counts; computing them writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import clock

pytestmark = pytest.mark.dated

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def _occurrence(series_id: str, start: datetime) -> str:
    from therabee.scheduling.ids import OccurrenceId

    return OccurrenceId(series_id, start).to_string()


def _booked(api, client, therapist, start, **extra) -> str:
    response = book(api, client, therapist, start, **extra)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _figures(therapist_id: str | None) -> dict:
    from therabee.services import dashboard

    return dashboard.figures(therapist_id)


def test_one_weekly_series_booked_now_is_78_eager_rows_against_1(api):
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    _booked(api, client, therapist, next_weekday_at(0, 10, "UTC"))

    practice = _figures(therapist.id)["practice"]

    assert practice["series"] == 1 and practice["therabee_rows"] == 1
    assert practice["eager_occurrences"] == 26 and practice["eager_affected"] == 0
    assert practice["eager_rows"] == 78 and practice["rows_avoided"] == 77
    assert (practice["video_calls"], practice["eager_video_calls"]) == (0, 26)
    assert practice["chart"][-1] == {"week": practice["chart"][-1]["week"], "therabee": 1, "eager": 78}


def test_practice_and_installation_count_bookings_cancellation_pause_end_time_off_and_session(api):
    from therabee.db.engine import get_engine
    from therabee.db.models import Session
    from therabee.services import horizon, meetings

    mine = therapist_with_hours(api, "UTC", ALL_WEEK)
    c1, c2, c3 = (register(api, "client", "UTC") for _ in range(3))
    _booked(api, c1, mine, next_weekday_at(0, 10, "UTC"))  # 26 eager occurrences
    start2 = next_weekday_at(1, 10, "UTC")
    s2 = _booked(api, c2, mine, start2)  # 26, one cancelled, two paused
    cancel = api.post(f"{API}/occurrences/{_occurrence(s2, start2 + timedelta(weeks=2))}/cancel",
                      headers=c2.auth, json={})
    assert cancel.status_code == 200, cancel.text
    pause = api.post(f"{API}/series/{s2}/pauses", headers=c2.auth, json={
        "from": str((start2 + timedelta(weeks=5)).date()),
        "until": str((start2 + timedelta(weeks=6)).date())})
    assert pause.status_code == 201, pause.text
    _booked(api, c3, mine, next_weekday_at(2, 10, "UTC"), rrule=None)  # a one-off: 1

    other = therapist_with_hours(api, "UTC", ALL_WEEK)
    c4, c5 = register(api, "client", "UTC"), register(api, "client", "UTC")
    start4 = next_weekday_at(3, 10, "UTC")
    s4 = _booked(api, c4, other, start4)  # 26; ended from the 11th: 16 go
    ended = api.post(f"{API}/series/{s4}/end", headers=c4.auth,
                     json={"from": (start4 + timedelta(weeks=10)).isoformat()})
    assert ended.status_code == 200, ended.text
    away = api.post(f"{API}/therapists/me/time-off", headers=other.auth, json={
        "start": (start4 + timedelta(weeks=2, hours=-1)).isoformat(),
        "end": (start4 + timedelta(weeks=2, hours=2)).isoformat()})  # hides one occurrence
    assert away.status_code == 201, away.text
    soon = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    _booked(api, other, other, soon, rrule=None, client_id=c5.id)  # a one-off inside the horizon
    assert horizon.tick().sessions_created == 1
    with get_engine().connect() as connection:
        made = connection.execute(sa.select(Session.id)).scalar_one()
    assert meetings.ensure_meeting(made) == "created"

    result = _figures(mine.id)
    practice, everyone = result["practice"], result["installation"]

    assert {k: practice[k] for k in ("series", "exceptions", "pauses", "sessions", "time_off")} == \
        {"series": 3, "exceptions": 1, "pauses": 1, "sessions": 0, "time_off": 0}
    assert practice["therabee_rows"] == 5
    assert (practice["eager_occurrences"], practice["eager_affected"]) == (26 + 26 + 1, 1 + 2)
    assert practice["eager_rows"] == 3 * 56 and practice["rows_avoided"] == 168 - 5
    assert (practice["video_calls"], practice["eager_video_calls"]) == (0, 56)

    assert {k: everyone[k] for k in ("series", "exceptions", "pauses", "sessions", "time_off")} == \
        {"series": 5, "exceptions": 1, "pauses": 1, "sessions": 1, "time_off": 1}
    assert everyone["therabee_rows"] == 9
    assert (everyone["eager_occurrences"], everyone["eager_affected"]) == (53 + 26 + 1, 3 + 16 + 1)
    assert everyone["eager_rows"] == 300
    assert (everyone["video_created"], everyone["video_updated"], everyone["video_deleted"]) == (1, 0, 0)
    assert (everyone["video_calls"], everyone["eager_video_calls"], everyone["video_calls_avoided"]) == \
        (1, 100, 99)
    last = everyone["chart"][-1]
    assert (last["therabee"], last["eager"]) == (9, 300)


def test_a_split_rewrites_the_parents_tail_and_only_adds_what_lies_beyond_it(api):
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    start = next_weekday_at(0, 10, "UTC")
    series_id = _booked(api, client, therapist, start)
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth,
                     json={"from": (start + timedelta(weeks=5)).isoformat(),
                           "start": (start + timedelta(weeks=5, hours=2)).isoformat()})
    assert split.status_code == 201, split.text

    practice = _figures(therapist.id)["practice"]

    # parent: 26 written, 21 from the split on rewritten; child: 26, of which 21 are the rewrite
    assert (practice["series"], practice["therabee_rows"]) == (2, 2)
    assert (practice["eager_occurrences"], practice["eager_affected"]) == (26 + 5, 21)
    assert practice["eager_rows"] == 3 * 52


def test_installation_only_without_a_therapist_and_empty_database_gives_zeros(api):
    result = _figures(None)

    assert result["practice"] is None
    assert result["installation"]["series"] == 0 and result["installation"]["eager_rows"] == 0
    assert result["installation"]["chart"] == []
    assert set(result["definitions"]) >= {"series", "sessions", "therabee_rows", "eager_rows",
                                          "video_calls", "video_calls_avoided"}


def test_computing_the_figures_writes_no_row(api):
    from therabee.db.engine import get_engine

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    start = next_weekday_at(0, 10, "UTC")
    series_id = _booked(api, client, therapist, start)
    cancel = api.post(f"{API}/occurrences/{_occurrence(series_id, start + timedelta(weeks=1))}/cancel",
                      headers=client.auth, json={})
    assert cancel.status_code == 200, cancel.text

    def row_counts() -> dict:
        with get_engine().connect() as connection:
            return {table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("series", "exceptions", "pauses", "sessions", "time_off")}

    before_rows, before_writes = row_counts(), table_writes()
    _figures(therapist.id)
    _figures(None)
    assert table_writes() == before_writes
    assert row_counts() == before_rows
