"""The real app's moving parts as local processes, all on 127.0.0.1 and free ports.

- `RedisServer`: a private redis-server (nothing on disk) that can be stopped and
  started again on the same port;
- `ApiServer`: the outer FastAPI app (UI-less: /api/v1) under granian, the ASGI server
  Reflex itself runs in production, with the services' jobs sent to Celery;
- `Worker`: `python -m celery -A tasks worker`, prefork, one child, killable.

Every process gets its own session (process group), so it can be stopped or SIGKILLed
without touching anything else on the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def _stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RedisServer:
    """A private redis-server; `stop()` + `start()` is a restart that loses everything."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def up(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.up, 10, "redis-server to answer")
        return self

    def stop(self) -> None:
        _stop_group(self.process, signal.SIGKILL)


class _Logged:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def _spawn(self, argv: list[str], env: dict) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _stop_group(self.process)


class ApiServer(_Logged):
    """granian serving `reliability.asgi:app` (the outer app, jobs to Celery) on a free port."""

    def __init__(self, env: dict, log_dir: Path, workers: int = 1) -> None:
        super().__init__(log_dir / "api.log")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env, self.workers = env, workers

    def start(self) -> ApiServer:
        self._spawn([sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                     "--port", str(self.port), "--workers", str(self.workers), "--no-ws",
                     "--log-level", "warning", "reliability.asgi:app"], self.env)

        def healthy() -> bool:
            if not self.alive():
                raise RuntimeError(f"the API exited:\n{self.log()}")
            try:
                return httpx.get(f"{self.base_url}/api/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, 60, "the API to answer /health")
        return self


class Worker(_Logged):
    """A Celery worker, prefork with one child, in its own process group."""

    count = 0

    def __init__(self, env: dict, log_dir: Path) -> None:
        Worker.count += 1
        super().__init__(log_dir / f"worker-{Worker.count}.log")
        self.name = f"rel{Worker.count}@therabee-reliability"
        self.env = env

    def start(self) -> Worker:
        self._spawn([sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork",
                     "--concurrency=1", "--loglevel=INFO", "-n", self.name, "--without-gossip",
                     "--without-mingle", "--without-heartbeat"], self.env)
        wait_for(lambda: b" ready." in self.log_path.read_bytes() or not self.alive(), 60,
                 "the worker to be ready")
        if not self.alive():
            raise RuntimeError(f"the worker exited:\n{self.log()}")
        return self

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool child) at once."""
        _stop_group(self.process, signal.SIGKILL)
