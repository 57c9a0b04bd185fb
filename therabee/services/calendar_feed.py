"""The private iCalendar feed: one VEVENT per series with its RRULE, EXDATE for what
does not happen, and a RECURRENCE-ID override for each moved occurrence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event
from sqlmodel import select

from therabee.db.engine import read_only
from therabee.db.models import Series
from therabee.scheduling.expand import rule_starts
from therabee.scheduling.timezones import zone
from therabee.services.access import series_filter
from therabee.services.people import user_for_feed_token
from therabee.services.calendar_rows import load, series_spec

_GONE = ("cancelled", "late_cancelled")
FEED_SPAN = timedelta(weeks=520)  # exceptions are listed for ten years of a series
FEED_END = datetime.max.replace(tzinfo=timezone.utc)


def _uid(series_id: str) -> str:
    return f"{series_id}@therabee"


def _series_event(row: Series, gone: list, summary: str) -> Event | None:
    tz = zone(row.timezone)
    spec = series_spec(row)
    event = Event()
    event.add("uid", _uid(row.id))
    event.add("summary", summary)
    event.add("dtstart", row.start.astimezone(tz))
    event.add("duration", timedelta(minutes=row.duration_minutes))
    event.add("dtstamp", row.created_at)
    if spec.rule is not None:
        rule = dict(part.split("=", 1) for part in spec.rule.body.split(";"))
        if spec.ends_before is not None:  # ended or split: the last start left is the UNTIL
            starts = rule_starts(spec, spec.start, spec.ends_before)
            if not starts:
                return None
            rule["UNTIL"] = starts[-1].strftime("%Y%m%dT%H%M%SZ")
        elif spec.rule.count is not None:
            rule["COUNT"] = str(spec.rule.count)
        elif spec.rule.until is not None:
            rule["UNTIL"] = spec.rule.until.strftime("%Y%m%dT%H%M%SZ")
        event.add("rrule", rule)
    elif spec.ends_before is not None and spec.ends_before <= spec.start:
        return None
    for instant in gone:
        event.add("exdate", instant.astimezone(tz))
    return event


def feed(token: str) -> bytes:
    """The calendar of the user owning `token` (404 for an unknown or rotated token)."""
    user = user_for_feed_token(token)
    calendar = Calendar()
    calendar.add("prodid", "-//Therabee//Therabee calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Therabee sessions")
    with read_only() as db:
        rows = list(db.exec(select(Series).where(series_filter(user)).order_by(Series.start)))
        for row in rows:
            gone, overrides = _changes(db, row)
            event = _series_event(row, gone, "Therapy session")
            if event is None:
                continue
            calendar.add_component(event)
            for original, start, end, status in overrides:
                override = Event()
                override.add("uid", _uid(row.id))
                override.add("summary", "Therapy session")
                override.add("recurrence-id", original.astimezone(zone(row.timezone)))
                override.add("dtstart", start)
                override.add("dtend", end)
                override.add("dtstamp", row.created_at)
                calendar.add_component(override)
    return calendar.to_ical()


def _changes(db, row: Series) -> tuple[list, list]:
    """EXDATEs (occurrences that will not happen) and overrides (moved ones)."""
    spec = series_spec(row)
    horizon_end = min(spec.ends_before or FEED_END, row.start + FEED_SPAN)
    happening = {o.original_start: o for _, o in load(db, row.start, horizon_end, rows=[row]).pairs(row.start, horizon_end)}
    gone, overrides = [], []
    for original in rule_starts(spec, row.start, horizon_end):
        occurrence = happening.get(original)
        if occurrence is None or occurrence.status in _GONE:
            gone.append(original)
        elif occurrence.start != original or occurrence.end != original + spec.duration:
            overrides.append((original, occurrence.start, occurrence.end, occurrence.status))
    return gone, overrides
