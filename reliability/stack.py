"""The real app's moving parts as local processes, all on 127.0.0.1 and free ports.

- `RedisServer`: a private redis-server (nothing on disk) that can be stopped and
  started again on the same port;
- `ApiServer`: the outer FastAPI app (UI-less: /api/v1) under granian, the ASGI server
  Reflex itself runs in production, with the services' jobs sent to Celery;
- `Worker`: `python -m celery -A tasks worker`, prefork, one child, killable.

`RedisServer` and `Worker` are shared with the real-worker tests (therabee/testing/processes.py).

Every process gets its own session (process group), so it can be stopped or SIGKILLed
without touching anything else on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from therabee.testing.processes import Logged, RedisServer, Worker, free_port, wait_for  # noqa: F401


class ApiServer(Logged):
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
