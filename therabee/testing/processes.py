"""Local processes for the real-worker tests and the reliability runs, all on 127.0.0.1
and free ports: a private redis-server and Celery workers, each in its own process group
so it can be stopped or SIGKILLed without touching anything else on the machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from therabee.testing.dates import child_env

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what, interval: float = 0.1):
    """`predicate()`'s first truthy value; TimeoutError naming `what` (text or a callable)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")


def stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Signal the process group; SIGKILL it if it has not gone within `timeout`."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RedisServer:
    """A private redis-server that keeps nothing on disk; `stop()` + `start()` is a restart
    that loses everything, like the machine's own."""

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
        stop_group(self.process, signal.SIGKILL)

    def shutdown_nosave(self) -> None:
        """What a Redis crash or restart loses: everything in memory."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                       capture_output=True, timeout=10)
        self.process.wait(timeout=10)


class Logged:
    """A child process whose output goes to a log file."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def _spawn(self, argv: list[str], env: dict) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        stop_group(self.process)


class Worker(Logged):
    """`python -m celery -A tasks worker`, prefork with one child."""

    count = 0

    def __init__(self, env: dict, log_dir: Path, name: str = "therabee-test") -> None:
        Worker.count += 1
        super().__init__(log_dir / f"worker-{Worker.count}.log")
        self.name = f"w{Worker.count}@{name}"
        self.env = env

    def start(self) -> Worker:
        self._spawn([sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork",
                     "--concurrency=1", "--loglevel=INFO", "-n", self.name, "--without-gossip",
                     "--without-mingle", "--without-heartbeat"], {**self.env, **child_env()})
        wait_for(lambda: b" ready." in self.log_path.read_bytes() or not self.alive(), 60,
                 "the worker to be ready")
        if not self.alive():
            raise RuntimeError(f"the worker exited:\n{self.log()}")
        return self

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children at once."""
        stop_group(self.process, signal.SIGKILL)
