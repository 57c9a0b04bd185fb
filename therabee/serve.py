"""`python -m therabee.manage serve`: the app, and with Redis one Celery worker and beat.

Without THERABEE_REDIS_URL this is just `reflex run --env prod`: the app module calls
`tasks.start()`, which runs the jobs inside the web process. With Redis it starts
`celery -A tasks worker` and `celery -A tasks beat` beside the app, each in its own
process group. SIGINT (Ctrl-C) or SIGTERM, or any of the three exiting, stops all of
them: SIGTERM to each group, SIGKILL to what is left after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from therabee.settings import LOCAL_DIR, PROJECT_ROOT, Settings

GRACE_SECONDS = 20.0  # a worker's warm shutdown; an unfinished task is redelivered (acks_late)


def commands(settings: Settings, reflex_args: list[str]) -> list[tuple[str, list[str]]]:
    """(name, argv) of each process to run, the app last."""
    venv_reflex = Path(sys.executable).parent / "reflex"
    reflex = [str(venv_reflex) if venv_reflex.exists() else "reflex", "run", "--env", "prod", *reflex_args]
    if not settings.redis_url:
        return [("app", reflex)]
    celery = [sys.executable, "-m", "celery", "-A", "tasks"]
    return [
        ("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"]),
        ("beat", [*celery, "beat", "--loglevel=INFO", "--schedule", str(LOCAL_DIR / "celerybeat-schedule")]),
        ("app", reflex),
    ]


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # the whole group is gone already


def _stop_all(children: list[tuple[str, subprocess.Popen]]) -> None:
    for _, process in reversed(children):  # the app first: no new jobs while workers stop
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, process in children:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"serve: {name} did not stop in {GRACE_SECONDS:.0f} s; killing it", file=sys.stderr)
        # what the group's leader left behind (pool processes, granian workers) goes too
        _signal_group(process, signal.SIGKILL)
        process.wait()


def serve(settings: Settings, reflex_args: list[str]) -> int:
    """Run the processes until a signal or until one exits; returns the exit status."""
    planned = commands(settings, reflex_args)
    if len(planned) == 1:
        os.execv(planned[0][1][0], planned[0][1])  # nothing to supervise: become reflex
    LOCAL_DIR.mkdir(exist_ok=True)
    stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda received, _frame: stopping.append(received))
    children: list[tuple[str, subprocess.Popen]] = []
    try:
        for name, argv in planned:
            children.append((name, subprocess.Popen(argv, cwd=PROJECT_ROOT, start_new_session=True)))
            print(f"serve: started {name} (pid {children[-1][1].pid})", flush=True)
        while not stopping:
            exited = [(name, p.returncode) for name, p in children if p.poll() is not None]
            if exited:
                print(f"serve: {exited[0][0]} exited with {exited[0][1]}; stopping the rest",
                      file=sys.stderr, flush=True)
                return 1
            time.sleep(0.2)
        return 0
    finally:
        print("serve: stopping " + ", ".join(name for name, _ in children), flush=True)
        _stop_all(children)
