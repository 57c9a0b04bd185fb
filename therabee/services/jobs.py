"""Background work requested by a service, handed over only after its transaction commits,
and how a failed job is retried.

The tasks package installs the dispatcher (Celery, or in-process in the default
set-up). Payloads carry ids only — never names or notes. A job handed over may still be
lost (the broker down, a process gone): the periodic sweep (services/reconcile.py)
compares the database with what was done and queues the difference again.

Retries are one layer, at the job: the Zoom client and the mailer try once, and the
Celery task or the in-process runner runs a failed job again after `retry_delay`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session as DbSession

from therabee.settings import get_settings
from therabee.video.provider import VideoError, VideoRateLimited, VideoUnavailable

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


# worth another run: the provider, the database or the mail server was away or busy
# (smtplib's errors and socket errors are OSErrors)
RETRYABLE = (VideoUnavailable, VideoRateLimited, sa.exc.OperationalError, OSError)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after failed run number `attempt` (1-based), in seconds.

    Half of the delay is fixed and half random ("equal jitter"): jobs that failed
    together spread out, and none runs again at once.
    """
    delay = min(cap, base * (2 ** (attempt - 1)))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def retry_delay(job: str, attempt: int, error: BaseException) -> float | None:
    """Seconds to wait before running `job` again after its run number `attempt` (1-based)
    failed with `error`; None when it is not run again: the error is not worth retrying,
    `job_attempts` runs are used up, or the provider asks for a wait longer than
    `job_backoff_cap_seconds` (a daily limit). The wait is the jittered backoff, or the
    provider's `Retry-After` when that is longer. Logs the failure with the attempt count.
    """
    settings = get_settings()
    retry_after = getattr(error, "retry_after", None)
    # the error's type only, or a provider's own words (never an address or a name)
    what = f"{type(error).__name__}: {error}" if isinstance(error, VideoError) else type(error).__name__
    if not isinstance(error, RETRYABLE):
        why = "not worth retrying"
    elif attempt >= settings.job_attempts:
        why = "no attempts left"
    elif retry_after is not None and retry_after > settings.job_backoff_cap_seconds:
        why = f"the provider asks to wait {retry_after:.0f} s"
    else:
        wait = max(retry_after or 0.0,
                   backoff_delay(attempt, settings.job_backoff_seconds, settings.job_backoff_cap_seconds))
        log.warning("job %s: attempt %d of %d failed (%s); next attempt in %.1f s",
                    job, attempt, settings.job_attempts, what, wait)
        return wait
    log.error("job %s: attempt %d of %d failed (%s); %s: given up (the periodic sweep queues it "
              "again if it is still needed)", job, attempt, settings.job_attempts, what, why)
    return None


def retry_window() -> timedelta:
    """Time enough for a job and all its retries to be over (each wait is at most the cap)."""
    settings = get_settings()
    return timedelta(seconds=settings.job_attempts * settings.job_backoff_cap_seconds)
