"""The periodic sweep (DESIGN.md rule 7): compare what the database says should have been
done with what was done, and queue the difference. A job lost on its way (the broker down
at commit, a worker or web process gone) is then queued again by the next tick.

Meetings: each upcoming session whose meeting is out of step (`db.models.MEETING_OUT_OF_STEP`)
gets the job that brings it in step:

- `meetings.delete`: cancelled or hidden while its meeting is live ("creating"/"created");
- `meetings.update`: its start or end differs from those last sent to the provider;
- `meetings.ensure`: it should have a meeting and has none, or its create was left
  unfinished (once that create's claim lease has run out).

Notices: time off whose notices were never sent gets `practice.time_off_notices`.

A row changed in the last `GRACE` is left alone: the job queued with the change is on its
way (an unfinished create waits for its claim lease instead). A session the sweep queued a job for is not queued again within the jobs' retry
window (`jobs.retry_window`), so a job still retrying is never doubled. The sweep claims
its sessions with `FOR UPDATE SKIP LOCKED` and stamps them (`meeting_swept_at`) in the
same transaction, so workers sweeping at once queue disjoint rows; notices are claimed
by the job itself before sending (`practice.send_time_off_notices`), so two jobs for one
time off send once. Jobs are handed over after the commit.

Cost of a tick: one SELECT of sessions through the partial index
`ix_sessions_meeting_out_of_step` (upcoming rows out of step only), one UPDATE of the
rows it queues, and one SELECT of time off through `ix_time_off_notices_unsent`. A tick
with nothing to do reads no row.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from therabee.db.engine import is_postgres, unit_of_work
from therabee.db.models import MEETING_LIVE, MEETING_OUT_OF_STEP, NEEDS_MEETING, Session
from therabee.db.models_rules import TimeOff
from therabee.scheduling.expand import RELEASED_STATUSES
from therabee.services import clock, jobs

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=2)  # a job queued with a change runs well within this


@dataclass
class SweepReport:
    """Jobs the sweep queued, by kind."""

    ensure: int = 0
    update: int = 0
    delete: int = 0
    notices: int = 0


def _meeting_job(status: str, state: str, claimed_until: datetime | None, now: datetime) -> str | None:
    """The job that brings an out-of-step session in step (None: nothing to queue now)."""
    if status in RELEASED_STATUSES:
        return "meetings.delete" if state in MEETING_LIVE else None
    if status not in NEEDS_MEETING:
        return None  # over (completed, no show): its meeting is left as it is
    if state == "created":
        return "meetings.update"
    if state == "creating" and claimed_until is not None and claimed_until > now:
        return None  # a worker is creating it right now
    return "meetings.ensure"


def _sweep_meetings(db, now: datetime, limit: int) -> Counter[str]:
    query = (select(Session.id, Session.status, Session.meeting_state, Session.meeting_claimed_until)
             .where(MEETING_OUT_OF_STEP, Session.end > now,
                    # an unfinished create has its own clock: its claim lease
                    sa.or_(Session.updated_at < now - GRACE,
                           sa.and_(Session.meeting_state == "creating", Session.status.in_(NEEDS_MEETING))),
                    sa.or_(Session.meeting_swept_at.is_(None),
                           Session.meeting_swept_at < now - jobs.retry_window()))
             .order_by(Session.end).limit(limit))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    queued, kinds = [], Counter()
    for session_id, status, state, claimed_until in db.exec(query):
        name = _meeting_job(status, state, claimed_until, now)
        if name is not None:
            queued.append(session_id)
            kinds[name.removeprefix("meetings.")] += 1
            jobs.after_commit(db, name, session_id=session_id)
    if queued:
        db.execute(sa.update(Session).where(Session.id.in_(queued)).values(meeting_swept_at=now))
    return kinds


def _sweep_notices(db, now: datetime, limit: int) -> int:
    unsent = list(db.exec(select(TimeOff.id).where(TimeOff.notices_sent_at.is_(None), TimeOff.end > now,
                                                   TimeOff.created_at < now - GRACE)
                          .order_by(TimeOff.end).limit(limit)))
    for time_off_id in unsent:
        jobs.after_commit(db, "practice.time_off_notices", time_off_id=time_off_id)
    return len(unsent)


def sweep(limit: int = 500) -> SweepReport:
    """One sweep: queue (after commit) the jobs that bring meetings and notices in step,
    at most `limit` of each kind of row (the rest next tick). Returns what it queued."""
    now = clock.now()
    with unit_of_work() as db:
        report = SweepReport(**_sweep_meetings(db, now, limit), notices=_sweep_notices(db, now, limit))
    if report != SweepReport():
        log.info("sweep queued %s", report)
    return report
