"""The default set-up without Redis: the same tasks, run inside the web process.

Jobs queued after a commit run on a small thread pool (a request never waits on the
video provider); a daemon ticker runs the periodic jobs (horizon, reminders, pruning)
every `THERABEE_TICK_SECONDS` (a minute; 0 starts no ticker).
Nothing is retried here: a job that fails is logged, and the next tick re-derives it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from tasks.celery_app import app
from tasks.jobs import JOB_TASKS
from therabee.services import jobs
from therabee.settings import get_settings

log = logging.getLogger(__name__)
PERIODIC = ("therabee.horizon.tick", "therabee.reminders.send_due",
            "therabee.webhooks.prune_deliveries")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_ticker: threading.Thread | None = None
_stop = threading.Event()


def _run(task_name: str, payload: dict) -> None:
    try:
        app.tasks[task_name](**payload)  # called directly: in this thread, no broker
    except Exception:
        log.exception("job %s failed; the next tick re-derives it", task_name)


def dispatch(name: str, payload: dict) -> None:
    """The in-process dispatcher for therabee.services.jobs."""
    task_name = JOB_TASKS.get(name)
    if task_name is None:
        log.warning("no task for job %s; dropped (the periodic jobs re-derive it)", name)
        return
    assert _pool is not None, "start_embedded() first"
    _pool.submit(_run, task_name, payload)


def _tick_forever(interval: float) -> None:
    while not _stop.is_set():
        for task_name in PERIODIC:
            _run(task_name, {})
        _stop.wait(interval)


def start_embedded(interval: float | None = None) -> None:
    """Install the in-process dispatcher and start the ticker every `interval` seconds
    (default: the tick_seconds setting; 0 starts no ticker); calling it again does nothing."""
    global _pool, _ticker
    with _lock:
        if _pool is not None:
            return
        _stop.clear()
        _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="therabee-job")
        jobs.set_dispatcher(dispatch)
        interval = get_settings().tick_seconds if interval is None else interval
        if interval <= 0:
            return
        _ticker = threading.Thread(target=_tick_forever, args=(interval,),
                                   name="therabee-ticker", daemon=True)
        _ticker.start()


def stop_embedded() -> None:
    """Stop the ticker and the pool (tests, shutdown)."""
    global _pool, _ticker
    with _lock:
        _stop.set()
        jobs.set_dispatcher(None)
        if _ticker is not None:
            _ticker.join(timeout=5)
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _ticker = None, None
