"""Background work requested by a service, handed over only after its transaction commits.

The tasks package installs the dispatcher (Celery, or in-process in the default
set-up). Payloads carry ids only — never names or notes. A job handed over may still be
lost (the broker down, a process gone): the periodic sweep (services/reconcile.py)
compares the database with what was done and queues the difference again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session as DbSession

log = logging.getLogger(__name__)
Dispatcher = Callable[[str, dict], None]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def _dispatch_all(db: DbSession) -> None:
    if db.in_nested_transaction():
        return  # a savepoint was released; the real commit comes later
    pending = db.info.pop("therabee_jobs", [])
    if _dispatcher is None:
        return  # no worker configured: the periodic sweep re-derives this work
    for name, payload in pending:
        try:
            _dispatcher(name, payload)
        except Exception:  # the broker may be down; the periodic sweep re-derives lost work
            log.exception("could not enqueue %s", name)


def _drop_all(db: DbSession) -> None:
    if not db.in_nested_transaction():
        db.info.pop("therabee_jobs", None)


def after_commit(db: DbSession, name: str, **payload: str) -> None:
    """Queue job `name` with id-only `payload` once `db` commits (dropped on rollback)."""
    if not db.info.get("therabee_jobs_listening"):
        sa.event.listen(db, "after_commit", _dispatch_all)
        sa.event.listen(db, "after_rollback", _drop_all)
        db.info["therabee_jobs_listening"] = True
    db.info.setdefault("therabee_jobs", []).append((name, payload))
