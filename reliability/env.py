"""One running Therabee for the reliability scenarios, and what they share.

PostgreSQL (a fresh database beside the test database), a private redis-server, the
fake Zoom (in this process), the API under granian and one Celery worker, all on
127.0.0.1. The API and the worker name their PostgreSQL connections
(`application_name`) so a fault can cut exactly theirs.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from reliability.database import fresh_database, sibling_url
from reliability.invariants import Verdict, check
from reliability.stack import ApiServer, RedisServer, Worker, wait_for

TICK = "therabee.horizon.tick"
API_APP_NAME = "therabee-rel-api"
WORKER_APP_NAME = "therabee-rel-worker"
CLAIM_SECONDS = 20  # a dead worker's meeting claim runs out this fast here (180 s by default)


def database_url() -> str:
    explicit = os.environ.get("THERABEE_RELIABILITY_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("THERABEE_TEST_DATABASE_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/therabee_test")
    return sibling_url(base, "reliability")


@dataclass
class Ledger:
    """What the API acknowledged: the invariant checker finds every one of them stored."""

    booked: list[str] = field(default_factory=list)
    cancelled: list[tuple[str, datetime]] = field(default_factory=list)


class Env:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database_url = database_url()
        self.jwt_secret = secrets.token_urlsafe(48)
        self.ledger = Ledger()
        self.engine: sa.Engine | None = None
        self.redis: RedisServer | None = None
        self.fake = None
        self.api: ApiServer | None = None
        self.worker: Worker | None = None
        self.producer = None

    # -- life cycle ---------------------------------------------------------------

    def process_env(self, app_name: str) -> dict:
        overrides = self.fake.settings_overrides()
        env = {**os.environ, "THERABEE_DATABASE_URL": self.database_url,
               "THERABEE_REDIS_URL": self.redis.url, "THERABEE_JWT_SECRET": self.jwt_secret,
               "THERABEE_PUBLIC_URL": self.api.base_url if self.api else "http://127.0.0.1",
               "THERABEE_MEETING_CLAIM_SECONDS": str(CLAIM_SECONDS),
               "PGAPPNAME": app_name, "PYTHONUNBUFFERED": "1"}
        env.update({f"THERABEE_{k.upper()}": v for k, v in overrides.items()})
        return env

    def start(self) -> Env:
        from celery import Celery

        from therabee.testing.fake_zoom import start_fake_zoom

        self.engine = fresh_database(self.database_url)
        self.redis = RedisServer(self.workdir).start()
        self.fake = start_fake_zoom()
        self.api = ApiServer({}, self.workdir)
        self.api.env = self.process_env(API_APP_NAME)
        self.api.start()
        self.start_worker()
        self.producer = Celery("therabee-reliability", broker=self.redis.url, backend=self.redis.url)
        self.producer.conf.update(task_serializer="json", accept_content=["json"],
                                  result_accept_content=["json"], broker_connection_timeout=2)
        return self

    def start_worker(self) -> Worker:
        self.worker = Worker(self.process_env(WORKER_APP_NAME), self.workdir, "therabee-reliability").start()
        return self.worker

    def stop(self) -> None:
        for part in (self.worker, self.api):
            if part is not None:
                part.stop()
        if self.producer is not None:
            self.producer.close()
        if self.fake is not None:
            self.fake.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.engine is not None:
            self.engine.dispose()

    # -- helpers for scenarios ----------------------------------------------------

    def http(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.api.base_url, timeout=timeout)

    def tick(self, timeout: float = 120) -> dict:
        return self.producer.send_task(TICK).get(timeout=timeout)

    def forget_sign_in_failures(self) -> None:
        """Scenarios that fail sign-ins on purpose leave no brake on the next one."""
        client = self.redis.client()
        for key in client.scan_iter("therabee:signin-failures:*"):
            client.delete(key)

    def app_backends(self, app_name: str = API_APP_NAME) -> list[int]:
        with self.engine.connect() as connection:
            return [pid for (pid,) in connection.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
                " AND datname = current_database()"), {"name": app_name})]

    def verdict(self, settle_meetings: bool = False) -> Verdict:
        return check(self.engine, booked=self.ledger.booked, cancelled=self.ledger.cancelled,
                     meetings=self.fake.meetings, settle_meetings=settle_meetings)

    def settle(self, timeout: float = 150, tick_every: float = 10) -> tuple[Verdict, float]:
        """Tick until every invariant holds with meetings settled (or `timeout`).

        Returns the last verdict and the seconds it took to get there."""
        started = time.monotonic()
        last_tick = -tick_every
        verdict = self.verdict(settle_meetings=True)
        while not verdict.ok and time.monotonic() - started < timeout:
            if time.monotonic() - last_tick >= tick_every:
                try:
                    self.producer.send_task(TICK)
                except Exception:  # broker restarting: try again next round
                    pass
                last_tick = time.monotonic()
            time.sleep(2)
            verdict = self.verdict(settle_meetings=True)
        return verdict, round(time.monotonic() - started, 1)

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy() -> bool:
            try:
                body = httpx.get(f"{self.api.base_url}/api/v1/health", timeout=2).json()
                return body.get("db") == "ok" and body.get("redis") == "ok"
            except (httpx.HTTPError, ValueError):
                return False

        wait_for(healthy, timeout, "the API to report db and redis ok")
