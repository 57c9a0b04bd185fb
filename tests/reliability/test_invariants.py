"""The invariant checker catches a deliberately broken database.

A scratch database next to the test database is migrated, given a consistent
calendar, then broken on purpose with plain SQL (constraints dropped where the
database itself would refuse): the checker must name each break.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session as DbSession

from reliability.database import drop_database, fresh_database, sibling_url
from reliability.invariants import check
from tests.conftest import TEST_DATABASE_URL
from therabee.services import clock

NOW = clock.now().replace(minute=0, second=0, microsecond=0)
FIRST = NOW + timedelta(days=1)


@pytest.fixture(scope="module")
def scratch():
    url = sibling_url(TEST_DATABASE_URL, "scratch")
    engine = fresh_database(url)
    with engine.begin() as connection:  # what a buggy build would have let through
        connection.execute(sa.text("ALTER TABLE sessions DROP CONSTRAINT uq_session_identity"))
        connection.execute(sa.text("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_therapist_overlap"))
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def world(scratch):
    """A therapist, a client, a weekly series with its first session holding meeting 111."""
    from therabee.db.models import Series, Session, User

    with scratch.begin() as connection:
        connection.execute(sa.text(
            "TRUNCATE users, series, sessions, exceptions, pauses, feed_tokens CASCADE"))
    with DbSession(scratch) as db:
        therapist = User(email="t@example.test", name="T", role="therapist", timezone="UTC",
                         password_hash="x")
        client = User(email="c@example.test", name="C", role="client", timezone="UTC", password_hash="x")
        db.add_all([therapist, client])
        db.flush()
        series = Series(therapist_id=therapist.id, client_id=client.id, start=FIRST, timezone="UTC",
                        duration_minutes=50, rrule="FREQ=WEEKLY", next_due_at=FIRST)
        db.add(series)
        db.flush()
        session = Session(series_id=series.id, therapist_id=therapist.id, client_id=client.id,
                          original_start=FIRST, start=FIRST, end=FIRST + timedelta(minutes=50),
                          meeting_state="created", meeting_id="111", meeting_marker="m1")
        db.add(session)
        db.commit()
        ids = {"therapist": therapist.id, "client": client.id, "series": series.id, "session": session.id}
    return scratch, ids


MEETINGS = {"111": {"agenda": "ref:m1", "start_time": FIRST.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration": 50}}


def _sql(engine, statement: str, **params) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _copy_session(engine, session_id: str, **changes) -> None:
    """Insert a copy of a session under a new id, with `changes`."""
    sets = "".join(f", \"{k}\" = :{k}" for k in changes)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TEMP TABLE copy ON COMMIT DROP AS "
                                   "SELECT * FROM sessions WHERE id = :id"), {"id": session_id})
        connection.execute(sa.text(f"UPDATE copy SET id = 'copy-' || left(id, 20){sets}"), changes)
        connection.execute(sa.text("INSERT INTO sessions SELECT * FROM copy"))


def test_a_consistent_calendar_passes(world):
    engine, _ = world
    verdict = check(engine, now=NOW, meetings=MEETINGS, settle_meetings=True)
    assert verdict.ok, verdict.as_dict()
    assert verdict.figures["series"] == 1 and verdict.figures["sessions"] == 1


def test_a_duplicate_session_is_caught(world):
    engine, ids = world
    _copy_session(engine, ids["session"], meeting_id=None, meeting_state="none")
    verdict = check(engine, now=NOW, meetings=MEETINGS)
    assert verdict.counts["sessions_unique"] == 1
    assert verdict.counts["no_double_booking"] >= 1
    assert not verdict.ok


def test_an_overlapping_series_of_the_same_therapist_is_caught(world):
    engine, ids = world
    _sql(engine, """INSERT INTO series (id, therapist_id, client_id, start, timezone, duration_minutes,
                    rrule, status, cursor_index, created_at)
                    VALUES ('overlap', :t, :c, :start, 'UTC', 50, 'FREQ=WEEKLY', 'active', 0, now())""",
         t=ids["therapist"], c=ids["client"], start=FIRST + timedelta(weeks=2, minutes=30))
    verdict = check(engine, now=NOW)
    assert verdict.broken == {"no_double_booking": verdict.counts["no_double_booking"]}
    assert verdict.counts["no_double_booking"] >= 10  # every week from the third on


def test_a_meeting_with_no_session_and_two_meetings_for_one_session_are_caught(world):
    engine, _ = world
    verdict = check(engine, now=NOW, meetings={**MEETINGS, "222": {"agenda": "ref:lost"},
                                               "333": {"agenda": "ref:m1"}})
    assert verdict.counts["no_orphaned_meetings"] == 2
    assert verdict.counts["unique_meetings"] == 1


def test_a_session_holding_a_meeting_the_provider_lost_is_caught(world):
    engine, _ = world
    verdict = check(engine, now=NOW, meetings={})
    assert verdict.broken == {"no_dangling_meetings": 1}


def test_a_session_off_its_rule_or_past_its_end_is_caught(world):
    engine, ids = world
    _copy_session(engine, ids["session"], original_start=FIRST + timedelta(days=3),
                  start=FIRST + timedelta(days=3), end=FIRST + timedelta(days=3, minutes=50),
                  meeting_id=None, meeting_state="none")
    _sql(engine, "UPDATE series SET ends_before = :end WHERE id = :id", end=FIRST, id=ids["series"])
    verdict = check(engine, now=NOW)
    messages = " | ".join(verdict.results["intent_consistent"])
    assert "is not an occurrence of its rule" in messages
    assert "active after its series ended" in messages


def test_lost_bookings_and_cancels_are_caught(world):
    engine, ids = world
    verdict = check(engine, now=NOW, booked=[ids["series"], "acknowledged-but-missing"],
                    cancelled=[(ids["series"], FIRST)])
    assert verdict.broken == {"no_lost_bookings": 1, "no_lost_cancels": 1}


def test_a_live_session_without_its_meeting_is_unsettled(world):
    engine, ids = world
    _sql(engine, "UPDATE sessions SET meeting_state = 'none', meeting_id = NULL WHERE id = :id",
         id=ids["session"])
    assert check(engine, now=NOW, meetings={}).ok
    assert check(engine, now=NOW, meetings={}, settle_meetings=True).broken == {"meetings_settled": 1}


def test_a_cancelled_session_still_holding_its_meeting_is_unsettled(world):
    engine, ids = world
    _sql(engine, "UPDATE sessions SET status = 'cancelled' WHERE id = :id", id=ids["session"])
    assert check(engine, now=NOW, meetings=MEETINGS).ok
    assert check(engine, now=NOW, meetings=MEETINGS, settle_meetings=True).broken == {"meetings_settled": 1}


def test_a_meeting_left_at_the_old_time_is_out_of_step(world):
    engine, ids = world
    _sql(engine, "UPDATE sessions SET start = start + interval '1 hour', \"end\" = \"end\" + interval '1 hour'"
                 " WHERE id = :id", id=ids["session"])
    assert check(engine, now=NOW, meetings=MEETINGS).ok
    assert check(engine, now=NOW, meetings=MEETINGS, settle_meetings=True).broken == {"meetings_in_step": 1}


def _series(engine, ids: dict, series_id: str, start, rrule: str | None, **extra) -> None:
    columns = "".join(f", {k}" for k in extra)
    values = "".join(f", :{k}" for k in extra)
    _sql(engine, f"""INSERT INTO series (id, therapist_id, client_id, start, timezone, duration_minutes, rrule,
                     status, cursor_index, created_at{columns})
                     VALUES (:id, :t, :c, :start, 'UTC', 50, :rrule, 'active', 0, now(){values})""",
         id=series_id, t=ids["therapist"], c=ids["client"], start=start, rrule=rrule, **extra)


def test_an_occurrence_moved_weeks_away_onto_another_is_caught(world):
    engine, ids = world
    _series(engine, ids, "one-off", FIRST + timedelta(days=1, hours=3), None)
    _sql(engine, """INSERT INTO exceptions (id, series_id, original_start, kind, new_start, created_at)
                    VALUES ('far', 'one-off', :original, 'moved', :new_start, now())""",
         original=FIRST + timedelta(days=1, hours=3), new_start=FIRST + timedelta(weeks=10, minutes=20))
    verdict = check(engine, now=NOW)
    assert verdict.broken == {"no_double_booking": 1}
    assert "one-off:" in verdict.results["no_double_booking"][0]


def test_a_sessions_limit_series_lengthened_by_time_off_before_the_window_is_caught(world):
    """Two held sessions: the first was on time off two weeks ago, so the second held one is
    this week's, on the world series' first session. The window starts two days ago: only a
    checker that counts held occurrences from the series' start sees it."""
    engine, ids = world
    _series(engine, ids, "limited", FIRST - timedelta(weeks=2), "FREQ=WEEKLY", sessions_limit=2)
    assert check(engine, now=NOW).ok
    _sql(engine, """INSERT INTO time_off (id, therapist_id, start, "end", created_at)
                    VALUES ('away', :t, :start, :end, now())""",
         t=ids["therapist"], start=FIRST - timedelta(weeks=2, hours=1), end=FIRST - timedelta(weeks=2, hours=-2))
    verdict = check(engine, now=NOW)
    assert verdict.broken == {"no_double_booking": 1}, verdict.as_dict()


def test_a_live_session_past_its_sessions_limit_or_on_time_off_is_caught(world):
    engine, ids = world
    week = FIRST + timedelta(weeks=1)
    _copy_session(engine, ids["session"], original_start=week, start=week, end=week + timedelta(minutes=50),
                  meeting_id=None, meeting_state="none")
    _sql(engine, "UPDATE series SET sessions_limit = 1 WHERE id = :id", id=ids["series"])
    verdict = check(engine, now=NOW, meetings=MEETINGS)
    assert verdict.broken == {"intent_consistent": 1}
    assert "live past its series' sessions_limit" in verdict.results["intent_consistent"][0]
    _sql(engine, "UPDATE series SET sessions_limit = NULL WHERE id = :id", id=ids["series"])
    _sql(engine, """INSERT INTO time_off (id, therapist_id, start, "end", created_at)
                    VALUES ('away', :t, :start, :end, now())""",
         t=ids["therapist"], start=week - timedelta(hours=1), end=week + timedelta(hours=1))
    verdict = check(engine, now=NOW, meetings=MEETINGS)
    assert verdict.broken == {"intent_consistent": 1}
    assert "live on the therapist's time off" in verdict.results["intent_consistent"][0]
