"""Fixtures for the Zoom tests: the fake server, a client factory, Redis-like caches.

Loaded with `pytest_plugins = ["tests.integration.conftest_zoom"]` by the tests
that need it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis

from therabee.testing.fake_zoom import FakeZoom, start_fake_zoom
from therabee.video.zoom.client import ZoomClient


class MemoryRedis:
    """The slice of `redis.Redis` the token cache uses, shared like a real server."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[Any, float | None]] = {}
        self.ttls: dict[str, int] = {}
        self.lock_names: list[str] = []
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._guard:
            value, expires = self.values.get(key, (None, None))
            if expires is not None and time.time() >= expires:
                self.values.pop(key, None)
                return None
            return value

    def set(self, key: str, value: str, ex: int | None = None) -> bool:
        with self._guard:
            self.values[key] = (value.encode(), None if ex is None else time.time() + ex)
            if ex is not None:
                self.ttls[key] = ex
            return True

    def delete(self, key: str) -> int:
        with self._guard:
            return 1 if self.values.pop(key, None) is not None else 0

    def lock(self, name: str, timeout: float | None = None, blocking_timeout: float | None = None) -> Any:
        with self._guard:
            self.lock_names.append(name)
            lock = self._locks.setdefault(name, threading.Lock())
        return _MemoryLock(lock, blocking_timeout)


class _MemoryLock:
    def __init__(self, lock: threading.Lock, blocking_timeout: float | None) -> None:
        self._lock, self._timeout = lock, blocking_timeout

    def acquire(self) -> bool:
        return self._lock.acquire(timeout=-1 if self._timeout is None else self._timeout)

    def release(self) -> None:
        self._lock.release()


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    """A fresh fake Zoom on a free 127.0.0.1 port."""
    fake = start_fake_zoom()
    yield fake
    fake.stop()


@pytest.fixture
def make_zoom_client(fake_zoom: FakeZoom) -> Iterator[Callable[..., ZoomClient]]:
    """Build clients pointed at the fake; closed after the test."""
    made: list[ZoomClient] = []

    def make(**options: Any) -> ZoomClient:
        o = fake_zoom.settings_overrides()
        settings: dict[str, Any] = {
            "account_id": o["zoom_account_id"],
            "client_id": o["zoom_client_id"],
            "client_secret": o["zoom_client_secret"],
            "user_id": o["zoom_user_id"],
            "oauth_url": o["zoom_oauth_url"],
            "api_url": o["zoom_api_url"],
        }
        client = ZoomClient(**(settings | options))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def zoom_client(make_zoom_client: Callable[..., ZoomClient]) -> ZoomClient:
    return make_zoom_client()


@pytest.fixture
def memory_redis() -> MemoryRedis:
    return MemoryRedis()


class _DownRedis(MemoryRedis):
    def get(self, key: str) -> bytes | None:
        raise redis.ConnectionError("down")

    def lock(self, name: str, timeout: float | None = None, blocking_timeout: float | None = None) -> Any:
        raise redis.ConnectionError("down")


@pytest.fixture
def down_redis() -> MemoryRedis:
    """A cache whose server is unreachable."""
    return _DownRedis()


@pytest.fixture
def throwaway_redis(tmp_path: Any) -> Iterator[Any]:
    """A throw-away redis-server on a free port. Redis is part of this project's machines,
    so a missing or failing redis-server fails the test rather than skipping it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A URL that records (headers, raw body) of every POST and answers 200."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(({k.lower(): v for k, v in self.headers.items()}, raw))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/zoom/webhook", received
    server.shutdown()
    server.server_close()
