"""Video meetings of sessions: create once, move, delete. Called by the meeting jobs.

Each function takes a session id, re-reads the row and is safe to run any number of
times, on any number of workers. The state lives on the session row:

    none ─► creating (opaque marker committed, claim lease) ─► created (meeting id, link,
                                                              │  the times sent: meeting_start/end)
                                                              └► deleted (session cancelled or hidden)

No transaction is open during a provider call. Two workers cannot both create: the
first one's claim lease makes the second wait (`MeetingBusy`); after a crash the lease
runs out and the next worker first looks the meeting up by its marker and adopts it.
A create that finishes and finds the session already settled (another meeting, or
deleted) deletes its own meeting, so a session never keeps two. An update sends the
session's times only when they differ from those last sent. Provider errors propagate:
the job retries them (services/jobs.py), and the periodic sweep (services/reconcile.py)
queues again whatever is still out of step.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import MEETING_LIVE, NEEDS_MEETING, Series, Session
from therabee.scheduling.expand import RELEASED_STATUSES
from therabee.services import clock, jobs
from therabee.settings import get_settings
from therabee.video import (VideoAuthError, VideoNotFound, VideoProvider, VideoRateLimited,
                            VideoRequestError, get_provider)

log = logging.getLogger(__name__)

_PASSES = 3  # re-checks when the row changes during a provider call
_REFUSED = (VideoRateLimited, VideoRequestError, VideoAuthError)  # the provider did nothing


class MeetingBusy(VideoRateLimited):
    """Another worker is creating this session's meeting: try again after `retry_after` s."""


@dataclass(frozen=True)
class _Snapshot:
    status: str
    state: str
    marker: str | None
    meeting_id: str | None
    start: datetime
    end: datetime
    timezone: str
    sent: tuple[datetime | None, datetime | None]  # (start, end) last sent to the provider

    @property
    def duration_minutes(self) -> int:
        return max(1, int((self.end - self.start).total_seconds() // 60))


def _locked(db, session_id: str) -> tuple[Session, Series] | None:
    found = db.exec(select(Session, Series).join(Series, Series.id == Session.series_id)
                    .where(Session.id == session_id).with_for_update(of=Session)).first()
    return (found[0], found[1]) if found else None


def _snapshot(row: Session, series: Series) -> _Snapshot:
    return _Snapshot(row.status, row.meeting_state, row.meeting_marker, row.meeting_id,
                     row.start, row.end, series.timezone, (row.meeting_start, row.meeting_end))


def _read(session_id: str) -> _Snapshot | None:
    with read_only() as db:
        found = db.exec(select(Session, Series).join(Series, Series.id == Session.series_id)
                        .where(Session.id == session_id)).first()
        return _snapshot(*found) if found else None


def _claim(session_id: str) -> tuple[_Snapshot | None, str]:
    """Lock the row; take the create claim if a meeting is needed. (snapshot, action)"""
    now = clock.now()
    with unit_of_work() as db:
        found = _locked(db, session_id)
        if found is None:
            return None, "skip"
        row, series = found
        if (row.status not in NEEDS_MEETING or row.meeting_state == "created"
                or row.end <= now):
            return _snapshot(row, series), "skip"
        lease = row.meeting_claimed_until
        if row.meeting_state == "creating" and lease is not None and lease > now:
            raise MeetingBusy(max(1.0, (lease - now).total_seconds()), "meeting creation in progress")
        action = "adopt" if row.meeting_state == "creating" else "create"
        if action == "create":
            row.meeting_marker = secrets.token_hex(16)  # opaque: nothing about the session
            row.meeting_state = "creating"
        # the lease (THERABEE_MEETING_CLAIM_SECONDS) outlasts the Zoom client's own retries
        row.meeting_claimed_until = now + timedelta(seconds=get_settings().meeting_claim_seconds)
        return _snapshot(row, series), action


def _release(session_id: str, marker: str, made_nothing: bool) -> None:
    """Give the create claim back after a failure. When the provider certainly made
    nothing with this marker, the marker goes too, so the next run need not look for it."""
    with unit_of_work() as db:
        found = _locked(db, session_id)
        if found and found[0].meeting_state == "creating" and found[0].meeting_marker == marker:
            found[0].meeting_claimed_until = None
            if made_nothing:
                found[0].meeting_state, found[0].meeting_marker = "none", None


def _forget(row: Session, state: str) -> None:
    row.meeting_state, row.meeting_id, row.join_url = state, None, None
    row.meeting_start = row.meeting_end = row.meeting_claimed_until = None
    row.updated_at = clock.now()


def _record(session_id: str, snap: _Snapshot, meeting_id: str, join_url: str,
            adopted: bool) -> tuple[str, bool]:
    """Store the meeting if the row still waits for it. (state, keep the meeting?)

    A made meeting has the snapshot's times; an adopted one those of an earlier attempt,
    unknown here, so it is recorded as sent at none and gets an update."""
    with unit_of_work() as db:
        found = _locked(db, session_id)
        if found is None:
            return "missing", False
        row, _ = found
        if row.meeting_state == "created":
            return "created", row.meeting_id == meeting_id
        if row.meeting_state != "creating" or row.meeting_marker != snap.marker:
            return row.meeting_state, False
        row.meeting_state, row.meeting_id, row.join_url = "created", meeting_id, join_url
        row.meeting_start, row.meeting_end = (None, None) if adopted else (snap.start, snap.end)
        row.meeting_claimed_until, row.updated_at = None, clock.now()
        if row.status in RELEASED_STATUSES:
            jobs.after_commit(db, "meetings.delete", session_id=row.id)
        elif (row.start, row.end) != (row.meeting_start, row.meeting_end):
            jobs.after_commit(db, "meetings.update", session_id=row.id)
        return "created", True


def ensure_meeting(session_id: str, provider: VideoProvider | None = None) -> str:
    """Give the session its one meeting; returns the meeting state afterwards.

    Skipped (state returned unchanged) when the session is missing ("missing"),
    cancelled, completed, no show, over, or already has its meeting. Raises
    `MeetingBusy` while another worker's create is in flight, and the provider's errors.
    """
    snap, action = _claim(session_id)
    if snap is None:
        return "missing"
    if action == "skip":
        return snap.state
    provider = provider or get_provider()
    try:
        meeting = provider.find_meeting_by_marker(snap.marker) if action == "adopt" else None
        adopted = meeting is not None
        if meeting is None:
            meeting = provider.create_meeting(start=snap.start, duration_minutes=snap.duration_minutes,
                                              timezone=snap.timezone, marker=snap.marker)
    except Exception as exc:
        # refused outright (rate limit, bad request) by a first try: nothing was made
        _release(session_id, snap.marker, action == "create" and isinstance(exc, _REFUSED))
        raise
    state, keep = _record(session_id, snap, meeting.id, meeting.join_url, adopted)
    if not keep:
        log.info("session %s: meeting no longer wanted (%s); deleting it", session_id, state)
        provider.delete_meeting(meeting.id)
    return state


def update_meeting(session_id: str, provider: VideoProvider | None = None) -> str:
    """Move the session's meeting to the session's current time (created meetings only),
    if that differs from the time last sent; returns the meeting state afterwards.

    A meeting found gone is forgotten and a new one queued (`meetings.ensure`).
    """
    for _ in range(_PASSES):
        snap = _read(session_id)
        if snap is None:
            return "missing"
        if snap.state != "created" or snap.status not in NEEDS_MEETING:
            return snap.state
        if (snap.start, snap.end) == snap.sent:
            return "created"
        provider = provider or get_provider()
        try:
            provider.update_meeting(snap.meeting_id, start=snap.start,
                                    duration_minutes=snap.duration_minutes, timezone=snap.timezone)
        except VideoNotFound:
            with unit_of_work() as db:
                found = _locked(db, session_id)
                if found and found[0].meeting_id == snap.meeting_id:
                    meeting_gone(db, found[0])
                return found[0].meeting_state if found else "missing"
        with unit_of_work() as db:
            found = _locked(db, session_id)
            if found and found[0].meeting_id == snap.meeting_id:
                found[0].meeting_start, found[0].meeting_end = snap.start, snap.end
        # another pass: the row may have moved again while we sent
    return "created"


def meeting_gone(db, row: Session) -> None:
    """The provider lost the meeting of `row` (locked): forget it; a live session gets a
    new one through `meetings.ensure` after commit."""
    if row.meeting_state != "created":
        return
    _forget(row, "none")
    row.meeting_marker = None
    if row.status in NEEDS_MEETING:
        jobs.after_commit(db, "meetings.ensure", session_id=row.id)


def delete_meeting(session_id: str, provider: VideoProvider | None = None) -> str:
    """Delete the meeting of a cancelled or hidden session, then mark it "deleted".

    A session still "creating" is looked up by its marker first; a create still in
    flight will see "deleted" when it finishes and delete what it made.
    """
    for _ in range(_PASSES):
        snap = _read(session_id)
        if snap is None:
            return "missing"
        if snap.status not in RELEASED_STATUSES or snap.state not in MEETING_LIVE:
            return snap.state
        provider = provider or get_provider()
        target = snap.meeting_id
        if snap.state == "creating":
            found = provider.find_meeting_by_marker(snap.marker)
            target = found.id if found else None
        if target is not None:
            provider.delete_meeting(target)
        with unit_of_work() as db:
            found = _locked(db, session_id)
            row = found[0] if found else None
            if row is not None and (row.meeting_state, row.meeting_id) == (snap.state, snap.meeting_id):
                _forget(row, "deleted")
                return "deleted"
    return snap.state
