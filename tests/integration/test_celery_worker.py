"""Real Celery workers (subprocesses) on real Redis and the PostgreSQL test database.

Each test gets its own redis-server on a free port, so stopping and restarting Redis
(and flushing it) never touches the machine's shared Redis on 6379. Workers are
`python -m celery -A tasks worker` with the test database's URL in their environment;
they share no clock with the tests, so bookings start a couple of hours from real now.
Under CI=true a missing redis-server fails the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, register, therapist_with_hours

ROOT = Path(__file__).resolve().parents[2]
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
TICK = "therabee.horizon.tick"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float, what, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")


class RedisServer:
    """A private redis-server that keeps nothing on disk, like the machine's own."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/5"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def _up(self) -> bool:
        try:
            return self.client().ping()
        except Exception:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_for(self._up, 10, "redis-server to answer")

    def shutdown_nosave(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                       capture_output=True, timeout=10)
        self.process.wait(timeout=10)


class Worker:
    """`python -m celery -A tasks worker`, prefork with one child, in its own session."""

    count = 0

    def __init__(self, env: dict, log_dir: Path) -> None:
        Worker.count += 1
        self.name = f"w{Worker.count}@therabee-test"
        self.log_path = log_dir / f"worker-{Worker.count}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork",
             "--concurrency=1", "--loglevel=INFO", "-n", self.name, "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
                  60, "the worker to be ready")
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; the Celery worker tests need it")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.shutdown_nosave()


@pytest.fixture
def workers(api, redis_server, tmp_path):
    """Start workers with `workers()`; all are stopped after the test."""
    env = {**os.environ, "THERABEE_DATABASE_URL": os.environ["THERABEE_DATABASE_URL"],
           "THERABEE_REDIS_URL": redis_server.url, "PYTHONUNBUFFERED": "1"}
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(env, tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def producer(redis_server):
    """A Celery client that knows tasks only by name, as a web process does."""
    from celery import Celery

    client = Celery("therabee-test-producer", broker=redis_server.url, backend=redis_server.url)
    client.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"],
                       broker_connection_timeout=2)
    yield client
    client.close()


def _sessions() -> list[tuple]:
    from therabee.db.engine import get_engine

    with get_engine().connect() as connection:
        return list(connection.execute(sa.text(
            "SELECT series_id, original_start FROM sessions ORDER BY original_start")))


def _start_today(hours_ahead: float, duration: int) -> datetime:
    """An instant a little ahead of real now whose session does not cross midnight (availability)."""
    start = (datetime.now(timezone.utc) + timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
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
    horizon_end = datetime.now(timezone.utc) + timedelta(hours=72)
    assert all(start < horizon_end for _, start in sessions)


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


def test_ticks_on_two_workers_at_once_make_no_duplicates(api, workers, producer):
    series_ids = _book_daily(api, 12)
    workers(), workers()
    results = [producer.send_task(TICK) for _ in range(4)]
    created = [r.get(timeout=90)["sessions_created"] for r in results]
    assert sum(created) == 36
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
    blocked_query = sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")

    def blocked() -> list[int]:
        with get_engine().connect() as watcher:  # a new transaction: pg_stat_activity is a snapshot
            return [pid for (pid,) in watcher.execute(blocked_query)]

    def release(kill, log=lambda: "") -> None:
        pids = _wait_for(blocked, 60, lambda: "a tick blocked on the sessions table\n" + log())
        kill()
        with get_engine().connect() as watcher:
            for pid in pids:
                watcher.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        transaction.commit()

    yield release
    if transaction.is_active:
        transaction.rollback()
    connection.close()


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


def test_health_reports_the_worker_while_it_runs(api, workers, redis_server, monkeypatch):
    from therabee.services import health
    from therabee.settings import get_settings

    monkeypatch.setenv("THERABEE_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    try:
        assert api.get(f"{API}/health").json()["worker"] == "no heartbeat in 60 s"
        worker = workers()
        body = _wait_for(lambda: (b := api.get(f"{API}/health").json())["worker"] == "ok" and b,
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
        _wait_for(lambda: len(_sessions()) == 3, 30, "the in-process ticker to materialize")
    finally:
        embedded.stop_embedded()
    assert "therabee-ticker" not in [t.name for t in threading.enumerate()]
    _assert_each_due_session_once([response.json()["id"]])
