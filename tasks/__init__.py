"""Background work: the Celery app, its tasks, and the in-process default.

`python -m celery -A tasks worker` finds `tasks.app`. Importing this package with
THERABEE_REDIS_URL set sends the services' jobs to Celery; a web process calls
`tasks.start()` once at start-up, which without Redis runs them in-process instead.
"""

from __future__ import annotations

from tasks import jobs
from tasks.celery_app import app
from therabee.services.jobs import set_dispatcher
from therabee.settings import get_settings

__all__ = ["app", "start"]


def start() -> None:
    """Where the services' jobs go: Celery when Redis is configured, else this process."""
    if get_settings().redis_url:
        set_dispatcher(jobs.send)
    else:
        from tasks.embedded import start_embedded

        start_embedded()


if get_settings().redis_url:  # a worker, beat, or anything that imports tasks with Redis set
    start()
