"""Fixtures for the real-worker tests: a private redis-server, workers, a producer.

Loaded with `pytest_plugins = ["tests.integration.conftest_celery"]`. Under CI=true a
missing redis-server fails the run.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.integration.processes import RedisServer, Worker


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; the Celery worker tests need it")
    server = RedisServer(tmp_path).start()
    yield server
    if server.process.poll() is None:
        server.shutdown_nosave()


@pytest.fixture
def workers(api, redis_server, tmp_path):
    """Start workers with `workers(**extra_env)`; all are stopped after the test."""
    env = {**os.environ, "THERABEE_DATABASE_URL": os.environ["THERABEE_DATABASE_URL"],
           "THERABEE_REDIS_URL": redis_server.url, "PYTHONUNBUFFERED": "1"}
    started: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        worker = Worker({**env, **extra_env}, tmp_path).start()
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
