"""Reminder mails 24 hours and 1 hour before each scheduled session, each sent once.

Sessions inside the horizon exist as rows, so the reminder job reads only sessions.
A reminder is claimed before it is sent, with a compare-and-swap UPDATE on the
session's `reminded_*_at` column in its own short transaction: with any number of
workers exactly one claim succeeds. A send that fails gives its claim back.
A session moved later than a reminder's window becomes due again for that reminder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import Session, User
from therabee.scheduling.timezones import utc, zone
from therabee.services import clock, mail
from therabee.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    column: str  # the claim column on sessions
    lead: timedelta  # sent when the session starts within this much time...
    until: timedelta  # ...but not later than this before the start (the next reminder's turn)
    subject: str


REMINDERS = (
    Reminder("reminded_24h_at", timedelta(hours=24), timedelta(hours=1), "Your session is tomorrow"),
    Reminder("reminded_1h_at", timedelta(hours=1), timedelta(0), "Your session starts in an hour"),
)


def _due(reminder: Reminder, now: datetime) -> list[tuple[str, datetime | None]]:
    column = getattr(Session, reminder.column)
    with read_only() as db:
        rows = db.exec(select(Session.id, Session.start, column).where(
            Session.status == "scheduled", Session.start > now + reminder.until,
            Session.start <= now + reminder.lead).order_by(Session.start))
        # a reminder sent before this start's window was for an earlier time: send again
        return [(id_, sent) for id_, start, sent in rows
                if sent is None or sent < start - reminder.lead]


def _claim(reminder: Reminder, session_id: str, previous: datetime | None,
           now: datetime) -> tuple[str, str, datetime, str | None] | None:
    """Take the reminder (compare-and-swap); the recipient and what to say, or None."""
    column = getattr(Session, reminder.column)
    with unit_of_work() as db:
        claimed = db.execute(sa.update(Session).where(
            Session.id == session_id, Session.status == "scheduled",
            column.is_not_distinct_from(previous)).values({reminder.column: now})
            .returning(Session.client_id, Session.start, Session.join_url)).first()
        if claimed is None:
            return None
        client = db.get(User, claimed.client_id)
        return client.email, client.timezone, claimed.start, claimed.join_url


def _give_back(reminder: Reminder, session_id: str, claimed_at: datetime) -> None:
    column = getattr(Session, reminder.column)
    with unit_of_work() as db:
        db.execute(sa.update(Session).where(Session.id == session_id, column == claimed_at)
                   .values({reminder.column: None}))


def text(start: datetime, zone_name: str, join_url: str | None) -> str:
    """The neutral body: when, in the reader's zone, and the link. No names, no notes."""
    local = utc(start).astimezone(zone(zone_name))
    link = join_url or get_settings().public_url
    return (f"Your session on {local:%A %d %B %Y} at {local:%H:%M} (your time zone {zone_name}).\n"
            f"Join: {link}\n")


def send_due(now: datetime | None = None) -> int:
    """Send every reminder that is due at `now` (default: the clock); returns how many."""
    now = now or clock.now()
    sent = 0
    for reminder in REMINDERS:
        for session_id, previous in _due(reminder, now):
            claim = _claim(reminder, session_id, previous, now)
            if claim is None:
                continue  # another worker has it
            email, zone_name, start, join_url = claim
            try:
                mail.send(email, reminder.subject, text(start, zone_name, join_url))
            except Exception as exc:  # the error text may hold the address: log its type only
                log.warning("reminder %s for session %s not sent (%s); will retry",
                            reminder.column, session_id, type(exc).__name__)
                _give_back(reminder, session_id, now)
                continue
            sent += 1
    return sent
