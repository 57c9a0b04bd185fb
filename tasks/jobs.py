"""The tasks: stable names, one retry policy, thin bodies.

Each task parses its id arguments, calls one service function (which re-reads the
database) and returns a small dict. Every one is safe to run twice.

Retries are one layer, here (the Zoom client and the mailer try once): a failure worth
retrying runs the task again after `services.jobs.retry_delay` — jittered exponential
backoff, or the provider's Retry-After when longer — up to `job_attempts` runs in all,
each failure logged with its attempt number. On a worker that is Celery's retry with a
countdown; a task called directly (the in-process runner, tasks/embedded.py) raises, and
the runner retries it with the same policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from celery.utils.log import get_task_logger

from tasks.celery_app import app
from therabee.services import health, horizon, reconcile
from therabee.services import jobs as service_jobs

log = get_task_logger(__name__)

_MEETING_LIMITS = dict(soft_time_limit=90, time_limit=120)

# job name (therabee.services.jobs) -> task name
JOB_TASKS = {
    "meetings.ensure": "therabee.meetings.ensure",
    "meetings.update": "therabee.meetings.update",
    "meetings.delete": "therabee.meetings.delete",
    "practice.time_off_notices": "therabee.practice.time_off_notices",
}


def send(name: str, payload: dict) -> None:
    """The Celery dispatcher for therabee.services.jobs: runs after the commit."""
    task = JOB_TASKS.get(name)
    if task is None:
        log.warning("no task for job %s; dropped (the periodic sweep re-derives it)", name)
        return
    # no result: nobody reads it, and asking for one subscribes to the result backend,
    # which blocks about 20 s per job while Redis is down (the publish alone fails in 0.5 s)
    app.send_task(task, kwargs=payload, ignore_result=True)


def _retrying(task, call: Callable[..., Any], *args: Any) -> Any:
    """`call(*args)`, its failure retried by the jobs' policy (see the module docstring)."""
    try:
        return call(*args)
    except Exception as exc:
        if task.request.called_directly:
            raise  # the in-process runner retries it
        wait = service_jobs.retry_delay(task.name, task.request.retries + 1, exc)
        if wait is None:
            raise
        raise task.retry(exc=exc, countdown=wait)


def _tick() -> dict:
    # the horizon, then the sweep: a job lost on its way (broker down, worker gone) is queued again
    return {**asdict(horizon.tick()), "requeued": asdict(reconcile.sweep())}


@app.task(name="therabee.horizon.tick", bind=True, max_retries=None, soft_time_limit=540, time_limit=600)
def horizon_tick(self) -> dict:
    return _retrying(self, _tick)


def _time_off_notices(time_off_id: str) -> dict:
    from therabee.services import practice

    return {"sent": practice.send_time_off_notices(time_off_id)}


@app.task(name="therabee.practice.time_off_notices", bind=True, max_retries=None)
def time_off_notices(self, time_off_id: str) -> dict:
    return _retrying(self, _time_off_notices, str(time_off_id))


def _send_due_reminders() -> dict:
    from therabee.services import reminders

    return {"sent": reminders.send_due()}


@app.task(name="therabee.reminders.send_due", bind=True, max_retries=None)
def reminders_send_due(self) -> dict:
    return _retrying(self, _send_due_reminders)


def _prune_deliveries() -> dict:
    from therabee.services import webhooks

    return {"pruned": webhooks.prune_deliveries()}


@app.task(name="therabee.webhooks.prune_deliveries", bind=True, max_retries=None)
def webhooks_prune_deliveries(self) -> dict:
    return _retrying(self, _prune_deliveries)


@app.task(name="therabee.worker.heartbeat", bind=True, max_retries=0)
def worker_heartbeat(self) -> dict:
    health.record_heartbeat(self.request.hostname or "worker")
    return {"ok": True}


def _meeting_call(action: str, session_id: str) -> dict:
    from therabee.services import meetings

    return {"session_id": session_id, "action": action,
            "state": getattr(meetings, f"{action}_meeting")(session_id)}


@app.task(name="therabee.meetings.ensure", bind=True, max_retries=None, **_MEETING_LIMITS)
def meetings_ensure(self, session_id: str) -> dict:
    return _retrying(self, _meeting_call, "ensure", str(session_id))


@app.task(name="therabee.meetings.update", bind=True, max_retries=None, **_MEETING_LIMITS)
def meetings_update(self, session_id: str) -> dict:
    return _retrying(self, _meeting_call, "update", str(session_id))


@app.task(name="therabee.meetings.delete", bind=True, max_retries=None, **_MEETING_LIMITS)
def meetings_delete(self, session_id: str) -> dict:
    return _retrying(self, _meeting_call, "delete", str(session_id))
