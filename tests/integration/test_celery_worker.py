"""Real Celery workers (subprocesses) on real Redis and the PostgreSQL test database.

The workers (tests/integration/conftest_celery.py) run on the suite's clock (real, or pinned
by THERABEE_TEST_NOW), so bookings start a couple of hours from its now.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.integration.processes import wait_for
from tests.integration.factories import API, book, register, therapist_with_hours
from therabee.services import clock
from therabee.settings import get_settings

pytest_plugins = ["tests.integration.conftest_celery"]

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
TICK = "therabee.horizon.tick"


# the default set-up (SQLite) runs jobs in-process: only the embedded test below applies there
ON_WORKERS = pytest.mark.postgres(reason="real Celery workers; the default set-up runs jobs in-process")


def _sessions() -> list[tuple]:
    from therabee.db.engine import get_engine
    from therabee.db.models import Session

    with get_engine().connect() as connection:
        return list(connection.execute(
            sa.select(Session.series_id, Session.original_start).order_by(Session.original_start)))


def _start_today(hours_ahead: float, duration: int) -> datetime:
    """An instant a little ahead of real now whose session does not cross midnight (availability)."""
    start = (clock.now() + timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
    if (start + timedelta(minutes=duration)).date() != start.date():
        start += timedelta(hours=2)
    return start


def _book_daily(api, how_many: int) -> list[str]:
    """`how_many` daily series of one therapist, on different hours within the next day.

    Each has exactly three occurrences inside the 72 h horizon (start + 0, 24, 48 h).
    """
    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    start = _start_today(1, 30)
    ids = []
    for _ in range(how_many):
        client = register(api, "client", "UTC")
        if (start + timedelta(minutes=30)).date() != start.date():
            start = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), timezone.utc)
        response = book(api, therapist, therapist, start, rrule="FREQ=DAILY", duration=30,
                        client_id=client.id)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        start += timedelta(minutes=40)
    return ids


def _assert_each_due_session_once(series_ids: list[str]) -> None:
    sessions = _sessions()
    assert len(sessions) == len(set(sessions)) == 3 * len(series_ids)
    assert {s for s, _ in sessions} == set(series_ids)
    horizon_end = clock.now() + timedelta(hours=72)
    assert all(start < horizon_end for _, start in sessions)


@ON_WORKERS
@pytest.mark.dated
def test_booking_queues_nothing_and_a_worker_tick_materializes_exactly_the_horizon(
        api, workers, producer, redis_server):
    from therabee.services import jobs

    queued: list = []
    jobs.set_dispatcher(lambda name, payload: queued.append(name))
    try:
        therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
        client = register(api, "client", "UTC")
        response = book(api, therapist, therapist, _start_today(2, 50), rrule="FREQ=DAILY",
                        client_id=client.id)
        assert response.status_code == 201, response.text
    finally:
        jobs.set_dispatcher(None)
    assert queued == [] and _sessions() == []
    assert redis_server.client().llen("celery") == 0

    worker = workers()
    result = producer.send_task(TICK).get(timeout=60)
    assert result["sessions_created"] == 3, worker.log()
    _assert_each_due_session_once([response.json()["id"]])
    assert producer.send_task(TICK).get(timeout=60)["sessions_created"] == 0
    assert len(_sessions()) == 3


def _waiting_on_locks() -> list[int]:
    """The backends of the test database now waiting for a lock (other than this one)."""
    from therabee.db.engine import get_engine

    with get_engine().connect() as watcher:  # a new transaction: pg_stat_activity is a snapshot
        return [pid for (pid,) in watcher.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"))]


@contextmanager
def _held(table: str):
    """`table` locked against `SELECT … FOR UPDATE` (and writes) until the block ends."""
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection, connection.begin():
        connection.execute(sa.text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        yield


@ON_WORKERS
def test_ticks_on_two_workers_at_once_make_no_duplicates(api, workers, producer):
    series_ids = _book_daily(api, 12)
    workers(), workers()
    with _held("series"):  # each worker's tick stops at its first claim, so both are in flight at once
        results = [producer.send_task(TICK) for _ in range(4)]
        wait_for(lambda: len(_waiting_on_locks()) == 2, 60, "a tick on each worker waiting to claim")
    created = [r.get(timeout=90)["sessions_created"] for r in results]
    assert sum(created) == 36, created
    _assert_each_due_session_once(series_ids)


@pytest.fixture
def sessions_locked(migrated_db):
    """Hold inserts into sessions, so a tick in a worker blocks mid-transaction.

    Yields `release(kill=...)`: run `kill` while the tick is blocked, then end the
    dead worker's database backends (PostgreSQL only notices a dead client when it
    next talks to it) and let inserts through.
    """
    from therabee.db.engine import get_engine

    connection = get_engine().connect()
    transaction = connection.begin()
    connection.execute(sa.text("LOCK TABLE sessions IN SHARE ROW EXCLUSIVE MODE"))

    def release(kill, log=lambda: "") -> None:
        pids = wait_for(_waiting_on_locks, 60, lambda: "a tick blocked on the sessions table\n" + log())
        kill()
        with get_engine().connect() as watcher:
            for pid in pids:
                watcher.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        transaction.commit()

    yield release
    if transaction.is_active:
        transaction.rollback()
    connection.close()


@ON_WORKERS
def test_a_tick_whose_worker_process_is_killed_is_redelivered_and_completes(
        api, workers, producer, sessions_locked):
    series_ids = _book_daily(api, 10)
    worker = workers()
    result = producer.send_task(TICK)

    def kill_pool_process():
        children = worker.child_pids()
        assert children, worker.log()
        for pid in children:
            os.kill(pid, signal.SIGKILL)

    sessions_locked(kill_pool_process, worker.log)
    # acks_late + reject_on_worker_lost: the same message runs again in a fresh pool process
    assert result.get(timeout=90)["sessions_created"] == 30, worker.log()
    assert "WorkerLostError" in worker.log() or "SIGKILL" in worker.log()
    _assert_each_due_session_once(series_ids)


@ON_WORKERS
def test_a_worker_killed_mid_tick_loses_nothing_once_another_worker_ticks(
        api, workers, producer, sessions_locked):
    series_ids = _book_daily(api, 10)
    first = workers()
    producer.send_task(TICK)
    sessions_locked(first.kill, first.log)
    assert _sessions() == []  # the killed tick's transaction rolled back

    workers()
    assert producer.send_task(TICK).get(timeout=90)["sessions_created"] == 30
    _assert_each_due_session_once(series_ids)


@ON_WORKERS
def test_redis_restarted_with_jobs_queued_loses_no_booking(api, workers, producer, redis_server):
    series_ids = _book_daily(api, 4)
    for _ in range(3):
        producer.send_task(TICK)  # no worker yet: the jobs wait in Redis
    assert redis_server.client().llen("celery") == 3

    redis_server.shutdown_nosave()
    series_ids += _book_daily(api, 2)  # booking needs only PostgreSQL
    redis_server.start()
    assert redis_server.client().llen("celery") == 0  # the queued jobs are gone

    workers()
    producer.send_task(TICK).get(timeout=90)
    _assert_each_due_session_once(series_ids)


@ON_WORKERS
def test_health_reports_the_worker_while_it_runs(api, workers, redis_server, monkeypatch):
    from therabee.services import health
    from therabee.settings import get_settings

    monkeypatch.setenv("THERABEE_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    try:
        assert api.get(f"{API}/health").json()["worker"] == "no heartbeat in 60 s"
        worker = workers()
        body = wait_for(lambda: (b := api.get(f"{API}/health").json())["worker"] == "ok" and b,
                         10, "a heartbeat")
        assert body["redis"] == "ok" and body["db"] == "ok"
        ttl = redis_server.client().ttl(health.HEARTBEAT_KEY)
        assert 0 < ttl <= health.HEARTBEAT_TTL_SECONDS
        worker.stop()
        redis_server.client().delete(health.HEARTBEAT_KEY)  # what 60 s without a beat looks like
        assert api.get(f"{API}/health").json()["worker"] == "no heartbeat in 60 s"
    finally:
        monkeypatch.delenv("THERABEE_REDIS_URL")
        get_settings.cache_clear()
    assert api.get(f"{API}/health").json()["worker"] == "embedded"


def test_embedded_mode_runs_the_horizon_in_process_and_starts_once(api):
    from tasks import embedded

    therapist = therapist_with_hours(api, "UTC", ALL_WEEK)
    client = register(api, "client", "UTC")
    response = book(api, therapist, therapist, _start_today(2, 50), rrule="FREQ=DAILY",
                    client_id=client.id)
    assert response.status_code == 201, response.text
    try:
        embedded.start_embedded(interval=0.2)
        embedded.start_embedded(interval=0.2)
        assert [t.name for t in threading.enumerate()].count("therabee-ticker") == 1
        wait_for(lambda: len(_sessions()) == 3, 30, "the in-process ticker to materialize")
    finally:
        embedded.stop_embedded()
    assert "therabee-ticker" not in [t.name for t in threading.enumerate()]
    _assert_each_due_session_once([response.json()["id"]])


def test_embedded_mode_with_tick_seconds_0_runs_queued_jobs_but_no_ticker(monkeypatch):
    from tasks import embedded

    monkeypatch.setenv("THERABEE_TICK_SECONDS", "0")
    get_settings.cache_clear()
    ran = threading.Event()
    monkeypatch.setitem(embedded.JOB_TASKS, "probe", "therabee.test.probe")
    monkeypatch.setitem(embedded.app.tasks, "therabee.test.probe", lambda: ran.set())
    try:
        embedded.start_embedded()
        assert "therabee-ticker" not in [t.name for t in threading.enumerate()]
        embedded.dispatch("probe", {})
        assert ran.wait(10), "the queued job did not run"
    finally:
        embedded.stop_embedded()
        get_settings.cache_clear()
