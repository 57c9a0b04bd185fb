"""Changing an intent: pause, resume, end, split ("this and following"). O(1) rows each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from therabee.db.engine import unit_of_work
from therabee.db.models import Pause, Series, User
from therabee.scheduling.conflicts import find_conflicts
from therabee.scheduling.expand import HELD_STATUSES, rule_starts
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, to_local, utc, zone
from therabee.services import clock
from therabee.services.access import visible_series
from therabee.services.booking import check_calendar, check_plan, require_occurrence, series_public
from therabee.services.errors import invalid, not_found
from therabee.services.locks import lock_therapist
from therabee.services.practice import check_timing, rules_for
from therabee.services.materialize import cancel_from
from therabee.services.window import collision, expand_rows, series_spec, therapist_busy
from therabee.settings import get_settings

MAX_PAUSE_DAYS = 366


def _active(row: Series) -> Series:
    if row.status != "active":
        raise invalid("series", "has ended")
    return row


def pause(actor: User, series_id: str, from_date: date, until_date: date) -> dict:
    """Skip the series' occurrences on these days (inclusive, in the series' zone)."""
    with unit_of_work() as db:
        row = _active(visible_series(db, actor, series_id, for_update=True))
        tz = zone(row.timezone)
        today = to_local(clock.now(), tz).date()
        if from_date < today:
            raise invalid("from", "is in the past")
        if until_date < from_date:
            raise invalid("until", "is before from")
        if (until_date - from_date).days >= MAX_PAUSE_DAYS:
            raise invalid("until", f"a pause may last at most {MAX_PAUSE_DAYS} days")
        pause_row = Pause(series_id=row.id, from_date=from_date, until_date=until_date)
        db.add(pause_row)
        cancel_from(db, row.id, to_instant(datetime.combine(from_date, datetime.min.time()), tz),
                    to_instant(datetime.combine(until_date + timedelta(days=1), datetime.min.time()), tz))
        db.flush()
        return {"id": pause_row.id, "from": pause_row.from_date, "until": pause_row.until_date}


def unpause(actor: User, series_id: str, pause_id: str) -> None:
    """Remove a pause. Its occurrences come back, so they are checked for conflicts first."""
    with unit_of_work() as db:
        row = visible_series(db, actor, series_id, for_update=True)
        pause_row = db.get(Pause, pause_id) if isinstance(pause_id, str) else None
        if pause_row is None or pause_row.series_id != row.id:
            raise not_found("pause")
        tz = zone(row.timezone)
        from_ = max(clock.now(), to_instant(datetime.combine(pause_row.from_date, datetime.min.time()), tz))
        to = to_instant(datetime.combine(pause_row.until_date + timedelta(days=1), datetime.min.time()), tz)
        lock_therapist(db, row.therapist_id)
        db.delete(pause_row)
        db.flush()
        returning = [(o.start, o.end) for _, o in expand_rows(db, [row], from_, to) if o.status in HELD_STATUSES]
        busy = therapist_busy(db, row.therapist_id, from_ - timedelta(days=1), to + timedelta(days=1),
                              skip=lambda o: o.series_id == row.id)
        hits = find_conflicts(returning, busy, rules_for(db, row.therapist_id).pad)
        if hits:
            raise collision("Resuming would collide with other sessions of the therapist", hits)


def end(actor: User, series_id: str, from_: datetime) -> dict:
    """The occurrence at `from_` and every later one go; earlier ones stay."""
    from_ = utc(from_)
    with unit_of_work() as db:
        row = _active(visible_series(db, actor, series_id, for_update=True))
        spec = series_spec(row)
        require_occurrence(spec, from_)
        if from_ < clock.now():
            raise invalid("from", "is in the past")
        row.ends_before = from_
        row.status = "ended"
        cancel_from(db, row.id, from_)
        db.flush()
        return series_public(row)


def _held_before(db, row: Series, from_: datetime) -> int:
    occurrences = expand_rows(db, [row], row.start, from_)
    return sum(1 for _, o in occurrences if o.status in HELD_STATUSES)


def split(actor: User, series_id: str, from_: datetime, start: datetime | None = None,
          duration_minutes: int | None = None, rrule: str | None = ..., ) -> dict:
    """"This and following": the old series ends before `from_`, a new one (its child)
    carries the changed intent from there on. Two rows written."""
    from_ = utc(from_)
    now = clock.now()
    with unit_of_work() as db:
        old = _active(visible_series(db, actor, series_id, for_update=True))
        old_spec = series_spec(old)
        require_occurrence(old_spec, from_)
        if from_ < now:
            raise invalid("from", "is in the past")
        new_rule = old.rrule if rrule is ... else rrule
        if rrule is ... and old_spec.rule is not None and old_spec.rule.count is not None:
            done = len(_starts_before(old_spec, from_))
            new_rule = _with_count(old_spec.rule.body, old_spec.rule.count - done)
        limit = old.sessions_limit
        if limit is not None:
            limit = max(1, limit - _held_before(db, old, from_))
        plan, spec = check_plan(start or from_, old.timezone,
                                duration_minutes or old.duration_minutes, new_rule, limit, now)
        check_timing(rules_for(db, old.therapist_id), actor, plan.start, now, first=False)
        lock_therapist(db, old.therapist_id)
        check_calendar(db, old.therapist_id, spec, check_hours=actor.role == "client",
                       skip=lambda o: o.series_id == old.id and o.original_start >= from_)
        old.ends_before = from_
        old.status = "ended"
        cancel_from(db, old.id, from_)
        new = Series(therapist_id=old.therapist_id, client_id=old.client_id, start=plan.start,
                     timezone=plan.timezone, duration_minutes=plan.duration_minutes,
                     rrule=plan.rrule, sessions_limit=plan.sessions_limit, parent_id=old.id,
                     next_due_at=plan.start)
        db.add(new)
        db.flush()
        return series_public(new)


def _starts_before(spec, from_: datetime) -> list[datetime]:
    return rule_starts(replace(spec, cursor=None), spec.start, from_)


def _with_count(body: str, count: int) -> str | None:
    if count <= 0:
        raise invalid("from", "no occurrences are left after it")
    rule = f"{body};COUNT={count}"
    parse_rule(rule, zone("UTC"), get_settings().max_count)
    return rule
