"""Changing an intent: pause, resume, end, split ("this and following"). O(1) rows each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from therabee.db.engine import unit_of_work
from therabee.db.models import OccurrenceException, Pause, Series, Session, User
from therabee.scheduling.calendar import Calendar, SeriesState
from therabee.scheduling.expand import (CANCELLED_STATUSES, HELD_STATUSES, HIDDEN, ExceptionSpec,
                                        SeriesSpec, rule_starts)
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, to_local, zone
from therabee.services import clock
from therabee.services.access import visible_series
from therabee.services.booking import check_plan, check_within_hours, require_occurrence, series_public
from therabee.services.calendar_checks import checked_change, conflict_reach
from therabee.services.calendar_rows import exception_spec, load, series_spec
from therabee.services.errors import invalid, not_found, whole_minute
from therabee.services.practice import check_timing, rules_for
from therabee.services.materialize import cancel_from
from therabee.services.series_status import statuses
from therabee.settings import get_settings

MAX_PAUSE_DAYS = 366


def _active(db, row: Series) -> Series:
    """The series, unless nothing of it is left to take place (series_status)."""
    if statuses(db, [row], clock.now())[row.id] != "active":
        raise invalid("series", "has ended")
    return row


def pause(actor: User, series_id: str, from_date: date, until_date: date) -> dict:
    """Skip the series' occurrences on these days (inclusive, in the series' zone); their
    sessions already made are hidden. A `sessions_limit` series gains as many at its end,
    checked like a booking (409 when they collide)."""
    with unit_of_work() as db:
        row = _active(db, visible_series(db, actor, series_id, for_update=True))
        tz = zone(row.timezone)
        today = to_local(clock.now(), tz).date()
        if from_date < today:
            raise invalid("from", "is in the past")
        if row.ends_before is not None and to_instant(datetime.combine(from_date, time()), tz) >= row.ends_before:
            raise invalid("from", "is after the series' last occurrence")
        if until_date < from_date:
            raise invalid("until", "is before from")
        if (until_date - from_date).days >= MAX_PAUSE_DAYS:
            raise invalid("until", f"a pause may last at most {MAX_PAUSE_DAYS} days")
        pause_row = Pause(series_id=row.id, from_date=from_date, until_date=until_date)
        first = to_instant(datetime.combine(from_date, datetime.min.time()), tz)

        def change() -> None:
            db.add(pause_row)
            cancel_from(db, row.id, first,
                        to_instant(datetime.combine(until_date + timedelta(days=1), datetime.min.time()), tz),
                        status=HIDDEN)

        if row.sessions_limit is None:
            change()
        else:  # what it hides does not count: the series gains occurrences at its end
            checked_change(db, row.therapist_id, first, first + conflict_reach(), change,
                           "Pausing adds sessions at the end of this series (it has a sessions limit), "
                           "which collide with the therapist's busy time")
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
        checked_change(db, row.therapist_id, from_, max(from_, to), lambda: db.delete(pause_row),
                       "Resuming would collide with other sessions of the therapist")


def end(actor: User, series_id: str, from_: datetime) -> dict:
    """The occurrence at `from_` and every later one go; earlier ones stay."""
    from_ = whole_minute("from", from_)
    with unit_of_work() as db:
        row = _active(db, visible_series(db, actor, series_id, for_update=True))
        spec = series_spec(row)
        require_occurrence(spec, from_)
        if from_ < clock.now():
            raise invalid("from", "is in the past")
        row.ends_before = from_
        cancel_from(db, row.id, from_)
        db.flush()
        return series_public(row, statuses(db, [row], clock.now())[row.id])


def _held_before(db, row: Series, from_: datetime) -> int:
    """How many occurrences of `row` (a series with a `sessions_limit`) before `from_` are
    held: by original start, wherever they were moved."""
    state = load(db, row.start, from_, rows=[row]).calendar.series[0]  # a limit loads all its changes
    moved = [e.new_start for e in state.exceptions if e.new_start] + [s.start for s in state.sessions]
    first, last = min([row.start, *moved]), max([from_, *moved]) + timedelta(microseconds=1)
    occurrences = load(db, first, last, rows=[row]).calendar.occurrences(first, last)
    return sum(1 for o in occurrences if o.original_start < from_ and o.status in HELD_STATUSES)


def split(actor: User, series_id: str, from_: datetime, start: datetime | None = None,
          duration_minutes: int | None = None, rrule: str | None = ..., ) -> dict:
    """"This and following": the old series ends before `from_`, a new one (its child)
    carries the changed intent from there on. Two rows written, plus one per single
    change (cancel, move) of a later occurrence, carried to the new series' occurrence
    on the same local day; the answer's `not_carried` lists the original starts of the
    changes that have no such occurrence."""
    from_ = whole_minute("from", from_)
    now = clock.now()
    settings = get_settings()
    with unit_of_work() as db:
        old = _active(db, visible_series(db, actor, series_id, for_update=True))
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
        spec = replace(spec, ends_before=_carried_end(old, from_, plan.start))
        check_timing(rules_for(db, old.therapist_id), actor, plan.start, now, first=False)
        new = Series(therapist_id=old.therapist_id, client_id=old.client_id, start=plan.start,
                     timezone=plan.timezone, duration_minutes=plan.duration_minutes,
                     rrule=plan.rrule, sessions_limit=plan.sessions_limit, parent_id=old.id,
                     ends_before=spec.ends_before, next_due_at=plan.start)
        not_carried: list[datetime] = []

        def change() -> None:
            changes = _later_changes(db, old.id, from_, old_spec.duration)
            old.ends_before = from_
            cancel_from(db, old.id, from_)
            db.add(new)
            db.flush()
            not_carried.extend(_carry(db, changes, spec, new.id))

        window_end = max(from_, plan.start) + timedelta(weeks=settings.conflict_window_weeks)
        checked_change(db, old.therapist_id, min(from_, plan.start), window_end, change,
                       "The new series collides with the therapist's busy time",
                       chosen=[(plan.start, plan.start + spec.duration)])
        if actor.role == "client":
            check_within_hours(db, old.therapist_id, Calendar((SeriesState(spec),)).reserved(
                plan.start, plan.start + timedelta(weeks=settings.conflict_window_weeks)))
        return {**series_public(new, statuses(db, [new], now)[new.id]), "not_carried": sorted(not_carried)}


def _carried_end(old: Series, from_: datetime, new_start: datetime) -> datetime | None:
    """Where the new series of a split ends when the old one had already been ended further
    on: its `ends_before`, shifted by the wall-clock change from `from_` to `new_start`."""
    if old.ends_before is None:
        return None
    tz = zone(old.timezone)
    return to_instant(to_local(old.ends_before, tz) + (to_local(new_start, tz) - to_local(from_, tz)), tz)


def _later_changes(db, series_id: str, from_: datetime, duration: timedelta) -> list[ExceptionSpec]:
    """The single changes of a series' occurrences from `from_` on: its exceptions, and
    its sessions that were cancelled or moved."""
    changes = {e.original_start: exception_spec(e) for e in db.exec(select(OccurrenceException).where(
        OccurrenceException.series_id == series_id, OccurrenceException.original_start >= from_))}
    for s in db.exec(select(Session).where(Session.series_id == series_id, Session.original_start >= from_)):
        if s.status in CANCELLED_STATUSES:
            changes[s.original_start] = ExceptionSpec(s.original_start, s.status)
        elif s.status in ("scheduled", HIDDEN) and (s.start != s.original_start or s.end - s.start != duration):
            changes[s.original_start] = ExceptionSpec(s.original_start, "moved", s.start, s.end - s.start)
    return sorted(changes.values(), key=lambda e: e.original_start)


def _carry(db, changes: list[ExceptionSpec], spec: SeriesSpec, new_id: str) -> list[datetime]:
    """Write each change onto the new series' occurrence on the same local day (in the
    series' zone); return the original starts of those that have none."""
    tz = zone(spec.zone)
    not_carried = []
    for change in changes:
        day = to_local(change.original_start, tz).date()
        day_start = to_instant(datetime.combine(day, datetime.min.time()), tz)
        day_end = to_instant(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)
        targets = rule_starts(spec, day_start, day_end)
        if not targets:
            not_carried.append(change.original_start)
            continue
        duration = change.new_duration
        db.add(OccurrenceException(
            series_id=new_id, original_start=targets[0], kind=change.kind, new_start=change.new_start,
            new_duration_minutes=int(duration.total_seconds() // 60) if duration else None))
    return not_carried


def _starts_before(spec, from_: datetime) -> list[datetime]:
    return rule_starts(replace(spec, cursor=None), spec.start, from_)


def _with_count(body: str, count: int) -> str | None:
    if count <= 0:
        raise invalid("from", "no occurrences are left after it")
    rule = f"{body};COUNT={count}"
    parse_rule(rule, zone("UTC"), get_settings().max_count)
    return rule
