"""`python -m therabee.manage serve`: with Redis, the app, one worker and beat start
together and stop together on SIGINT; without Redis it is only the app.

The Reflex build is slow to start, so the launcher runs here with the app replaced by a
stand-in process; the worker and beat are the real `celery -A tasks` commands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.integration.processes import ROOT, wait_for
from therabee.settings import Settings

pytest_plugins = ["tests.integration.conftest_celery"]

STAND_IN_APP = [sys.executable, "-c", "import time; time.sleep(600)"]
LAUNCHER = """
import sys
from therabee import serve
from therabee.settings import get_settings
real = serve.commands
serve.commands = lambda settings, args: [(n, c) for n, c in real(settings, args) if n != "app"] + [
    ("app", %r)]
sys.exit(serve.serve(get_settings(), []))
"""


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_without_redis_serve_runs_only_the_app():
    from therabee.serve import commands

    planned = commands(Settings(redis_url=None), ["--frontend-port", "3999"])
    assert [name for name, _ in planned] == ["app"]
    assert planned[0][1][1:] == ["run", "--env", "prod", "--frontend-port", "3999"]


@pytest.mark.postgres(reason="real Celery workers and beat; the default set-up runs jobs in-process")
def test_with_redis_serve_starts_app_worker_and_beat_and_sigint_stops_them_all(
        migrated_db, redis_server, tmp_path):
    from therabee import serve
    from therabee.services import health

    assert [name for name, _ in serve.commands(Settings(redis_url=redis_server.url), [])] == [
        "worker", "beat", "app"]
    env = {**os.environ, "THERABEE_DATABASE_URL": migrated_db, "THERABEE_REDIS_URL": redis_server.url,
           "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER % (STAND_IN_APP,)], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # the worker's first heartbeat: it is up and consuming from this Redis
        def up_or_exited():
            return launcher.poll() is not None or redis_server.client().get(health.HEARTBEAT_KEY)

        wait_for(up_or_exited, 60,
                 lambda: "a worker heartbeat\n" + log_path.read_text())
        # beat is up too: it sends the heartbeat task every 15 s, at start first
        wait_for(lambda: b"beat: Starting" in log_path.read_bytes(), 30, lambda: log_path.read_text())
        assert launcher.poll() is None, log_path.read_text()
        started = [int(line.rsplit("pid ", 1)[1].rstrip(")"))
                   for line in log_path.read_text().splitlines() if line.startswith("serve: started")]
        assert len(started) == 3 and all(_alive(pgid) for pgid in started)

        os.kill(launcher.pid, signal.SIGINT)  # what Ctrl-C sends
        assert launcher.wait(timeout=40) == 0, log_path.read_text()
        assert not [pgid for pgid in started if _alive(pgid)], log_path.read_text()
        assert "Warm shutdown" in log_path.read_text()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
