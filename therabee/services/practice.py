"""Practice rules: time off (and public holidays), buffers, minimum notice, booking window.

Time off is one row whatever it hides: occurrences inside it are skipped at expansion
time, for every series of the therapist, and come back when it is removed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import holidays as holiday_calendars
import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import Session, User
from therabee.db.models_rules import PracticeRules, TimeOff
from therabee.scheduling.expand import HIDDEN
from therabee.scheduling.timezones import utc
from therabee.services import clock, jobs
from therabee.services.errors import FieldError, ServiceError, forbidden, invalid, not_found, whole_minute
from therabee.services.calendar_checks import checked_change, conflict_reach, has_limited_series
from therabee.services.calendar_rows import away_intervals, load
from therabee.services.locks import lock_therapist
from therabee.services.materialize import set_status
from therabee.services.rules import Rules, rules_for, rules_of
from therabee.settings import get_settings

MAX_TIME_OFF_DAYS = 366


def rules_public(therapist_id: str, rules: Rules) -> dict:
    return {"therapist_id": therapist_id,
            "buffer_before_minutes": int(rules.buffer_before.total_seconds() // 60),
            "buffer_after_minutes": int(rules.buffer_after.total_seconds() // 60),
            "min_notice_hours": int(rules.min_notice.total_seconds() // 3600),
            "booking_window_weeks": rules.booking_window.days // 7,
            "holidays_country": rules.holidays_country}


def get_rules(therapist_id: str) -> dict:
    with read_only() as db:
        return rules_public(therapist_id, rules_for(db, therapist_id))


def set_rules(therapist: User, *, buffer_before_minutes: int, buffer_after_minutes: int,
              min_notice_hours: int, booking_window_weeks: int, holidays_country: str | None) -> dict:
    if therapist.role != "therapist":
        raise forbidden("Only therapists have practice rules")
    for name, value, high in (("buffer_before_minutes", buffer_before_minutes, 240),
                              ("buffer_after_minutes", buffer_after_minutes, 240),
                              ("min_notice_hours", min_notice_hours, 24 * 60),
                              ("booking_window_weeks", booking_window_weeks, 104)):
        if not isinstance(value, int) or not 0 <= value <= high:
            raise invalid(name, f"must be 0 to {high}")
    if booking_window_weeks < 1:
        raise invalid("booking_window_weeks", "must be at least 1")
    if holidays_country is not None and holidays_country.upper() not in holiday_calendars.list_supported_countries():
        raise invalid("holidays_country", "is not a supported country code (ISO 3166-1 alpha-2)")
    with unit_of_work() as db:
        row = db.get(PracticeRules, therapist.id) or PracticeRules(therapist_id=therapist.id)

        def change() -> None:
            row.buffer_before_minutes, row.buffer_after_minutes = buffer_before_minutes, buffer_after_minutes
            row.min_notice_hours, row.booking_window_weeks = min_notice_hours, booking_window_weeks
            row.holidays_country = holidays_country.upper() if holidays_country else None
            row.updated_at = clock.now()
            db.add(row)

        # a holiday country that changes brings back what the old one's holidays hid
        now = clock.now()
        checked_change(db, therapist.id, now, now + timedelta(weeks=get_settings().conflict_window_weeks),
                       change, "Changing the holidays would bring back sessions that collide")
        # sessions already made on a new holiday are hidden, as time off does (sessions
        # exist only near now: the horizon and acted-on ones)
        soon = now + timedelta(days=MAX_TIME_OFF_DAYS)
        for holiday in away_intervals(db, [therapist.id], now, soon, only_holidays=True)[therapist.id]:
            _hide_sessions_inside(db, therapist.id, holiday.start, holiday.end)
        return rules_public(therapist.id, rules_of(row))


def rule_violation(rule: str, field_name: str, message: str) -> ServiceError:
    """422 naming both the field and the practice rule that refused it."""
    return ServiceError(f"{field_name}: {message}", 422, f"Refused by the practice rule '{rule}'",
                        [FieldError(field_name, message)])


def check_timing(rules: Rules, actor: User, start: datetime, now: datetime, first: bool = True) -> None:
    """Minimum notice (and, for a first occurrence, the booking window), for clients.
    Therapists may book and move on a client's behalf inside them."""
    if actor.role != "client":
        return
    if start < now + rules.min_notice:
        hours = int(rules.min_notice.total_seconds() // 3600)
        raise rule_violation("minimum_notice", "start", f"must be at least {hours} h from now")
    if first and start > now + rules.booking_window:
        raise rule_violation("booking_window", "start",
                             f"must be within {rules.booking_window.days // 7} weeks from now")


def time_off_public(row: TimeOff, with_reason: bool) -> dict:
    body = {"id": row.id, "therapist_id": row.therapist_id, "start": row.start, "end": row.end}
    if with_reason:
        body["reason"] = row.reason
    return body


def _check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = whole_minute("start", start), whole_minute("end", end)
    if end <= start:
        raise invalid("end", "must be after start")
    if end - start > timedelta(days=MAX_TIME_OFF_DAYS):
        raise invalid("end", f"time off may last at most {MAX_TIME_OFF_DAYS} days")
    return start, end


def _hide_sessions_inside(db: DbSession, therapist_id: str, start: datetime, end: datetime) -> None:
    """Sessions already materialized inside the time away are hidden (their meetings are
    deleted by the jobs); they come back, scheduled, when it goes."""
    rows = list(db.exec(select(Session).where(Session.therapist_id == therapist_id,
                                              Session.status == "scheduled",
                                              Session.start < end, Session.end > start)))
    for row in rows:
        set_status(db, row, HIDDEN)


_EXTENDS = ("The time off adds sessions at the end of a series with a sessions limit, "
            "which collide with the therapist's busy time")


def add_time_off(therapist: User, start: datetime, end: datetime, reason: str | None = None) -> dict:
    """Time off hides the therapist's occurrences it overlaps (sessions already made
    are hidden and their meetings deleted). It only takes time away, so it needs no
    conflict check — unless a series with a `sessions_limit` gains occurrences at its end
    for those it hides: they are checked like a booking (409). Each affected client is
    told once per series (a job)."""
    if therapist.role != "therapist":
        raise forbidden("Only therapists take time off")
    _check_reason(reason)
    start, end = _check_range(start, end)
    with unit_of_work() as db:
        row = TimeOff(therapist_id=therapist.id, start=start, end=end, reason=reason)

        def change() -> None:
            db.add(row)
            _hide_sessions_inside(db, therapist.id, start, end)

        if has_limited_series(db, therapist.id):  # what it hides there does not count
            checked_change(db, therapist.id, start, max(end, start + conflict_reach()), change, _EXTENDS)
        else:
            lock_therapist(db, therapist.id)
            change()
        db.flush()
        jobs.after_commit(db, "practice.time_off_notices", time_off_id=row.id)
        return time_off_public(row, True)


def _check_reason(reason: str | None) -> None:
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
        raise invalid("reason", "must be text of at most 200 characters")


def _own_time_off(db: DbSession, therapist: User, time_off_id: str) -> TimeOff:
    row = db.get(TimeOff, time_off_id) if isinstance(time_off_id, str) else None
    if row is None or row.therapist_id != therapist.id:
        raise not_found("time off")
    return row


def change_time_off(therapist: User, time_off_id: str, start: datetime, end: datetime,
                    reason: str | None = None) -> dict:
    """Move or resize time off: what it stops hiding comes back, checked like a booking."""
    _check_reason(reason)
    start, end = _check_range(start, end)
    with unit_of_work() as db:
        row = _own_time_off(db, therapist, time_off_id)

        def change() -> None:
            row.start, row.end, row.reason = start, end, reason
            _hide_sessions_inside(db, therapist.id, start, end)

        to = max(row.end, end)
        if has_limited_series(db, therapist.id):
            to = max(to, min(row.start, start) + conflict_reach())
        checked_change(db, therapist.id, min(row.start, start), to, change,
                       "Changing the time off would bring back or add sessions that collide")
        return time_off_public(row, True)


def remove_time_off(therapist: User, time_off_id: str) -> None:
    """The hidden occurrences come back (they were never deleted), checked like a booking
    and made due for the horizon job."""
    with unit_of_work() as db:
        row = _own_time_off(db, therapist, time_off_id)
        checked_change(db, therapist.id, row.start, row.end, lambda: db.delete(row),
                       "Removing the time off would bring back sessions that collide")


def list_time_off(viewer: User, therapist_id: str, from_: datetime, to: datetime) -> list[dict]:
    """Time off and holidays in the window; reasons only for the therapist themself."""
    with read_only() as db:
        therapist = db.get(User, therapist_id)
        if therapist is None or therapist.role != "therapist":
            raise not_found("therapist")
        rows = db.exec(select(TimeOff).where(TimeOff.therapist_id == therapist_id,
                                             TimeOff.end > utc(from_), TimeOff.start < utc(to))
                       .order_by(TimeOff.start)).all()
        holidays = away_intervals(db, [therapist_id], utc(from_), utc(to), only_holidays=True)
    mine = viewer.id == therapist_id
    items = [time_off_public(r, mine) for r in rows]
    items += [{"id": None, "therapist_id": therapist_id, "start": i.start, "end": i.end,
               "reason": "public holiday" if mine else None} for i in holidays.get(therapist_id, [])]
    return sorted(items, key=lambda item: item["start"])


def _claim_notices(time_off_id: str, now: datetime) -> bool:
    """Take the sending of the time off's notices (compare-and-swap on `notices_sent_at`):
    with any number of jobs exactly one claim succeeds. False: gone, or told already."""
    with unit_of_work() as db:
        return db.execute(sa.update(TimeOff).where(TimeOff.id == time_off_id, TimeOff.notices_sent_at.is_(None))
                          .values(notices_sent_at=now)).rowcount == 1


def _give_notices_back(time_off_id: str, claimed_at: datetime) -> None:
    with unit_of_work() as db:
        db.execute(sa.update(TimeOff).where(TimeOff.id == time_off_id, TimeOff.notices_sent_at == claimed_at)
                   .values(notices_sent_at=None))


def send_time_off_notices(time_off_id: str) -> int:
    """One notice per affected series (not per occurrence) to its client, once: the job
    claims the time off's `notices_sent_at` before sending; a send that fails gives the
    claim back and raises (the job is retried, and the periodic sweep queues unsent
    notices again). Returns how many notices this call sent."""
    from therabee.services import mail

    now = clock.now()
    if not _claim_notices(time_off_id, now):
        return 0  # removed before the job ran, or told already
    try:
        with read_only() as db:
            row = db.get(TimeOff, time_off_id)
            if row is None:
                return 0  # removed meanwhile: nothing to tell
            start, end = row.start, row.end
            loaded = load(db, start, end, therapist_id=row.therapist_id)
            affected: dict[str, int] = defaultdict(int)
            for occurrence in loaded.calendar.without_away().occurrences(start, end):
                if occurrence.status in ("scheduled", "in_progress"):
                    affected[occurrence.series_id] += 1
            clients = {i: db.get(User, loaded.rows[i].client_id) for i in affected}
        for series_id, count in affected.items():
            mail.send(clients[series_id].email, "Your therapist is away",
                      f"Your therapist is away from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC.\n"
                      f"{count} session(s) of your series in that time will not take place; the others"
                      " go on as booked.")
    except Exception:
        _give_notices_back(time_off_id, now)
        raise
    return len(affected)
