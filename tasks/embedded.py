"""The default set-up without Redis: the same tasks, run inside the web process.

Jobs queued after a commit run on a small thread pool (a request never waits on the
video provider). A job that fails is run again with the same policy as on Celery
(`services.jobs.retry_delay`: jittered backoff or Retry-After, `job_attempts` runs in
all), from a timer; one given up, or lost with the process, is queued again by the
periodic sweep. A daemon ticker runs the periodic jobs (horizon and sweep, reminders,
pruning) every `THERABEE_TICK_SECONDS` (a minute; 0 starts no ticker); a periodic job
that fails is not retried: the next tick is its retry.
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

_lock = threading.Lock()  # start and stop
_pool: ThreadPoolExecutor | None = None
_ticker: threading.Thread | None = None
_stop = threading.Event()
_timers_lock = threading.Lock()
_timers: set[threading.Timer] = set()  # retries waiting for their turn


def _run(task_name: str, payload: dict, attempt: int = 1) -> None:
    try:
        app.tasks[task_name](**payload)  # called directly: in this thread, no broker
    except Exception as exc:
        wait = jobs.retry_delay(task_name, attempt, exc)
        if wait is not None:
            _later(wait, task_name, payload, attempt + 1)


def _later(wait: float, task_name: str, payload: dict, attempt: int) -> None:
    """Run attempt number `attempt` of the job on the pool after `wait` seconds."""
    def submit() -> None:
        with _timers_lock:
            _timers.discard(timer)
            pool = None if _stop.is_set() else _pool
        if pool is None:
            return  # stopped meanwhile: the periodic sweep queues it again
        try:
            pool.submit(_run, task_name, payload, attempt)
        except RuntimeError:  # the pool is shutting down
            log.warning("job %s not retried: the in-process runner stopped", task_name)

    timer = threading.Timer(wait, submit)
    timer.daemon = True
    with _timers_lock:
        if _stop.is_set():
            return
        _timers.add(timer)
        timer.start()


def dispatch(name: str, payload: dict) -> None:
    """The in-process dispatcher for therabee.services.jobs."""
    task_name = JOB_TASKS.get(name)
    if task_name is None:
        log.warning("no task for job %s; dropped (the periodic sweep re-derives it)", name)
        return
    assert _pool is not None, "start_embedded() first"
    _pool.submit(_run, task_name, payload)


def tick() -> None:
    """Run the periodic jobs once, in this thread (what the ticker does every interval)."""
    for task_name in PERIODIC:
        try:
            app.tasks[task_name]()
        except Exception:
            log.exception("periodic job %s failed; the next tick runs it again", task_name)


def _tick_forever(interval: float) -> None:
    while not _stop.is_set():
        tick()
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
    """Stop the ticker, the waiting retries and the pool (tests, shutdown)."""
    global _pool, _ticker
    with _lock:
        _stop.set()
        jobs.set_dispatcher(None)
        with _timers_lock:
            for timer in _timers:
                timer.cancel()
            _timers.clear()
        if _ticker is not None:
            _ticker.join(timeout=5)
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _ticker = None, None
