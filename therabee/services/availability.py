"""A therapist's weekly hours and the free slots they leave."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from therabee.db.engine import read_only, unit_of_work
from therabee.db.models import Availability, User
from therabee.scheduling.conflicts import END_OF_DAY, WeeklyHours
from therabee.scheduling.timezones import UnknownZone, zone
from therabee.services import clock
from therabee.services.errors import forbidden, invalid, not_found
from therabee.services.practice import rules_for
from therabee.services.calendar_checks import REACH
from therabee.services.calendar_rows import load
from therabee.settings import get_settings

SLOT_STEP = timedelta(minutes=30)


def _parse_hhmm(text: str, field_name: str) -> time:
    try:
        if not isinstance(text, str) or len(text) != 5:
            raise ValueError
        return time.fromisoformat(text)
    except ValueError as exc:
        raise invalid(field_name, "must be a time HH:MM") from exc


def _parse_end(text: str, field_name: str) -> time:
    """An end HH:MM, or "24:00": the midnight that ends the day."""
    return END_OF_DAY if text == "24:00" else _parse_hhmm(text, field_name)


def _hhmm(value: time) -> str:
    return "24:00" if value == END_OF_DAY else value.strftime("%H:%M")


def parse_weekly(weekly: list[dict]) -> list[WeeklyHours]:
    """Blocks as the API takes them — `[{"weekday": 0-6 (Monday 0), "start": "HH:MM",
    "end": "HH:MM" or "24:00"}]`, wall-clock time in the availability's zone — checked.
    422 naming the block's field at fault."""
    if not isinstance(weekly, list) or len(weekly) > 50:
        raise invalid("weekly", "must be a list of at most 50 blocks")
    blocks = []
    for i, block in enumerate(weekly):
        if not isinstance(block, dict):
            raise invalid(f"weekly[{i}]", "must be an object with weekday, start, end")
        weekday = block.get("weekday")
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise invalid(f"weekly[{i}].weekday", "must be 0 (Monday) to 6 (Sunday)")
        start = _parse_hhmm(block.get("start"), f"weekly[{i}].start")
        end = _parse_end(block.get("end"), f"weekly[{i}].end")
        if end <= start:
            raise invalid(f"weekly[{i}].end", "must be after start (24:00 for midnight)")
        blocks.append(WeeklyHours(weekday, start, end))
    return blocks


def _public(row: Availability | None, therapist: User) -> dict:
    if row is None:
        return {"therapist_id": therapist.id, "timezone": therapist.timezone, "weekly": []}
    return {"therapist_id": row.therapist_id, "timezone": row.timezone, "weekly": row.weekly}


def set_availability(therapist: User, timezone: str, weekly: list[dict]) -> dict:
    if therapist.role != "therapist":
        raise forbidden("Only therapists have availability")
    try:
        zone(timezone)
    except UnknownZone as exc:
        raise invalid("timezone", str(exc)) from exc
    blocks = parse_weekly(weekly)
    stored = [{"weekday": b.weekday, "start": _hhmm(b.start), "end": _hhmm(b.end)} for b in blocks]
    with unit_of_work() as db:
        row = db.get(Availability, therapist.id)
        if row is None:
            row = Availability(therapist_id=therapist.id, timezone=timezone, weekly=stored)
            db.add(row)
        else:
            row.timezone, row.weekly, row.updated_at = timezone, stored, clock.now()
        db.flush()
        return _public(row, therapist)


def load_availability(db, therapist_id: str) -> tuple[User, Availability | None]:
    therapist = db.get(User, therapist_id)
    if therapist is None or therapist.role != "therapist":
        raise not_found("therapist")
    return therapist, db.get(Availability, therapist_id)


def get_availability(therapist_id: str) -> dict:
    with read_only() as db:
        therapist, row = load_availability(db, therapist_id)
    return _public(row, therapist)


def weekly_hours(row: Availability | None) -> list[WeeklyHours]:
    return parse_weekly(row.weekly) if row else []


def slots(therapist_id: str, from_: datetime, to: datetime, duration_minutes: int) -> list[dict]:
    """Free starts of a therapist in `[from_, to)`, clear of every occurrence of theirs."""
    settings = get_settings()
    if not 1 <= duration_minutes <= settings.max_duration_minutes:
        raise invalid("duration_minutes", f"must be 1 to {settings.max_duration_minutes}")
    if to <= from_:
        raise invalid("to", "must be after from")
    if to - from_ > timedelta(days=settings.max_list_days):
        raise invalid("to", f"the window may span at most {settings.max_list_days} days")
    duration = timedelta(minutes=duration_minutes)
    with read_only() as db:
        _, row = load_availability(db, therapist_id)
        if row is None:
            return []
        calendar = load(db, from_ - duration - REACH, to + duration, therapist_id=therapist_id).calendar
        rules = rules_for(db, therapist_id)
    now = clock.now()
    found = [s for s in calendar.free(weekly_hours(row), row.timezone, from_, to, duration, SLOT_STEP,
                                      not_before=now + rules.min_notice)
             if s.start <= now + rules.booking_window]
    return [{"start": s.start, "end": s.end} for s in found]
