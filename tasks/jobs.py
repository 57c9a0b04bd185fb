"""The tasks: stable names, an explicit retry policy each, thin bodies.

Each task parses its id arguments, calls one service function (which re-reads the
database) and returns a small dict. Every one is safe to run twice.
"""

from __future__ import annotations

from dataclasses import asdict

from celery.utils.log import get_task_logger
from sqlalchemy.exc import OperationalError

from tasks.celery_app import app
from therabee.services import health, horizon, reconcile
from therabee.video.provider import VideoRateLimited, VideoUnavailable

log = get_task_logger(__name__)

_DB_RETRY = dict(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True,
                 retry_backoff_max=60, max_retries=5)
# Rate limits are retried by hand, after the provider's Retry-After (see _meeting_call).
_VIDEO_RETRY = dict(autoretry_for=(VideoUnavailable, OperationalError), retry_backoff=5,
                    retry_jitter=True, retry_backoff_max=600, max_retries=8,
                    soft_time_limit=90, time_limit=120)

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
    app.send_task(task, kwargs=payload)


@app.task(name="therabee.horizon.tick", bind=True, soft_time_limit=540, time_limit=600, **_DB_RETRY)
def horizon_tick(self) -> dict:
    # the horizon, then the sweep: a job lost on its way (broker down, worker gone) is queued again
    return {**asdict(horizon.tick()), "requeued": asdict(reconcile.sweep())}


@app.task(name="therabee.practice.time_off_notices", bind=True, **_DB_RETRY)
def time_off_notices(self, time_off_id: str) -> dict:
    from therabee.services import practice

    return {"sent": practice.send_time_off_notices(str(time_off_id))}


@app.task(name="therabee.reminders.send_due", bind=True, **_DB_RETRY)
def reminders_send_due(self) -> dict:
    from therabee.services import reminders

    return {"sent": reminders.send_due()}


@app.task(name="therabee.webhooks.prune_deliveries", bind=True, **_DB_RETRY)
def webhooks_prune_deliveries(self) -> dict:
    from therabee.services import webhooks

    return {"pruned": webhooks.prune_deliveries()}


@app.task(name="therabee.worker.heartbeat", bind=True, max_retries=0)
def worker_heartbeat(self) -> dict:
    health.record_heartbeat(self.request.hostname or "worker")
    return {"ok": True}


def _meeting_call(task, action: str, session_id: str) -> dict:
    from therabee.services import meetings

    try:
        getattr(meetings, f"{action}_meeting")(str(session_id))
    except VideoRateLimited as exc:
        raise task.retry(exc=exc, countdown=max(1.0, exc.retry_after))
    return {"session_id": session_id, "action": action}


@app.task(name="therabee.meetings.ensure", bind=True, **_VIDEO_RETRY)
def meetings_ensure(self, session_id: str) -> dict:
    return _meeting_call(self, "ensure", session_id)


@app.task(name="therabee.meetings.update", bind=True, **_VIDEO_RETRY)
def meetings_update(self, session_id: str) -> dict:
    return _meeting_call(self, "update", session_id)


@app.task(name="therabee.meetings.delete", bind=True, **_VIDEO_RETRY)
def meetings_delete(self, session_id: str) -> dict:
    return _meeting_call(self, "delete", session_id)
