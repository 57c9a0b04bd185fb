"""The Celery app: Redis as broker and result backend, at-least-once delivery, JSON only.

Start a worker with `python -m celery -A tasks worker` and beat with
`python -m celery -A tasks beat` (Makefile: `make worker`, `make beat`).
"""

from __future__ import annotations

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

from therabee.settings import get_settings

# Without a Redis URL nothing connects: the web process runs jobs in-process
# (tasks.embedded), and a worker or beat refuses to start (see _require_redis).
_url = get_settings().redis_url or "redis://127.0.0.1:6379/0"

app = Celery("therabee", include=["tasks.jobs"])
app.conf.update(
    broker_url=_url,
    result_backend=_url,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    result_expires=3600,
    timezone="UTC",
    enable_utc=True,
    # at-least-once: a task is acknowledged when it has finished, and a task whose
    # worker process died is put back on the queue; every task is safe to run twice
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # a message taken by a worker that vanished comes back after this many seconds;
    # longer than any task may run (task_time_limit), so a slow task is not run twice at once
    broker_transport_options={"visibility_timeout": 3600},
    result_backend_transport_options={"visibility_timeout": 3600},
    task_soft_time_limit=240,
    task_time_limit=300,
    # a web request that enqueues while Redis is down gives up fast; the horizon job re-derives
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                               "interval_max": 0.5},
    broker_connection_timeout=2,
    broker_connection_retry_on_startup=True,
    worker_send_task_events=False,
    beat_schedule={
        "horizon-tick": {"task": "therabee.horizon.tick", "schedule": 60.0,
                         "options": {"expires": 55}},
        "reminders-send-due": {"task": "therabee.reminders.send_due", "schedule": 60.0,
                               "options": {"expires": 55}},
        "webhooks-prune-deliveries": {"task": "therabee.webhooks.prune_deliveries",
                                      "schedule": 3600.0, "options": {"expires": 3000}},
        "worker-heartbeat": {"task": "therabee.worker.heartbeat", "schedule": 15.0,
                             "options": {"expires": 14}},
    },
)


@worker_init.connect
@beat_init.connect
def _require_redis(**_) -> None:
    if not get_settings().redis_url:
        raise SystemExit("THERABEE_REDIS_URL is not set: without Redis, jobs run inside the web "
                         "process (tasks.embedded); set it to run a Celery worker or beat")


@worker_ready.connect
def _first_heartbeat(sender=None, **_) -> None:
    from therabee.services import health

    health.record_heartbeat(getattr(sender, "hostname", "worker"))
