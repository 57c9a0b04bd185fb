"""A series' rule in plain words, for people: "Every Tuesday at 10:00 New York time, from
1 Dec, until you stop". Pure: takes the stored intent, returns text.

Times are told in the viewer's zone when one is given (weekdays shift with the day when
the zones disagree on it); the series' own wall-clock time follows in brackets, because
that is the time the rule keeps across DST (DESIGN.md rule 4).
"""

from __future__ import annotations

from datetime import datetime

from therabee.scheduling.timezones import zone

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone_label(zone_name: str) -> str:
    """"America/New_York" → "New York time"; "UTC" → "UTC"."""
    if zone_name in ("UTC", "Etc/UTC"):
        return "UTC"
    return zone_name.rsplit("/", 1)[-1].replace("_", " ") + " time"


def ordinal(n: int) -> str:
    if n == -1:
        return "last"
    if n < 0:
        return f"{ordinal(-n)} to last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _parts(rrule: str) -> dict[str, str]:
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = {}
    for chunk in text.split(";"):
        key, _, value = chunk.partition("=")
        if key.strip():
            parts[key.strip().upper()] = value.strip().upper()
    return parts


def _nth_weekday(code: str) -> tuple[int | None, int]:
    """"2TU" → (2, 1); "TU" → (None, 1)."""
    prefix, day = code[:-2], code[-2:]
    return (int(prefix) if prefix.lstrip("+-") else None), DAYS.index(day)


def _day(d: datetime, year: int | None = None) -> str:
    text = f"{d.day} {d:%b}"
    return text if year is None or d.year == year else f"{text} {d.year}"


def _how_often(parts: dict[str, str], local: datetime, shift: int) -> str:
    freq = parts.get("FREQ", "WEEKLY")
    interval = int(parts.get("INTERVAL", "1") or 1)
    byday = [c for c in parts.get("BYDAY", "").split(",") if c]
    if freq == "DAILY":
        return "Every day" if interval == 1 else f"Every {interval} days"
    if freq == "WEEKLY":
        weekdays = sorted({(_nth_weekday(c)[1] + shift) % 7 for c in byday}) or [local.weekday()]
        names = _and([DAY_NAMES[w] for w in weekdays])
        return f"Every {names}" if interval == 1 else f"Every {interval} weeks on {names}"
    every = "Monthly" if interval == 1 else f"Every {interval} months"
    if byday:
        n, weekday = _nth_weekday(byday[0])
        return f"{every} on the {ordinal(n or 1)} {DAY_NAMES[weekday]}"
    monthdays = [int(d) for d in parts.get("BYMONTHDAY", "").split(",") if d] or [local.day]
    return f"{every} on the {_and([ordinal(d) + ('' if d > 0 else ' day') for d in monthdays])}"


def _until(value: str, tz, year: int) -> str:
    if len(value) == 8:
        return _day(datetime.strptime(value, "%Y%m%d"), year)
    instant = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=zone("UTC"))
    return _day(instant.astimezone(tz), year)


def _ends(parts: dict[str, str], sessions_limit: int | None, tz, year: int) -> str:
    held = f"{sessions_limit} held session{'s' if sessions_limit != 1 else ''}" if sessions_limit else ""
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        text = f"for {count} session{'s' if count != 1 else ''}"
        return f"{text}, or until {held}" if held else text
    if "UNTIL" in parts:
        text = f"until {_until(parts['UNTIL'], tz, year)}"
        return f"{text} or {held}" if held else text
    return f"until {held}" if held else "until you stop"


def describe(rrule: str | None, start: datetime, zone_name: str, sessions_limit: int | None,
             viewer_zone: str | None = None) -> str:
    """The intent in words. `start` is the aware first instant, `zone_name` the series' zone
    (the one whose wall-clock time the rule keeps), `viewer_zone` whom it is told to."""
    series_tz = zone(zone_name)
    viewer_tz = zone(viewer_zone) if viewer_zone else series_tz
    local = start.astimezone(series_tz)
    seen = start.astimezone(viewer_tz)
    at = f"at {seen:%H:%M} {zone_label(viewer_zone or zone_name)}"
    if seen.utcoffset() != local.utcoffset():
        at += f" ({local:%H:%M} {zone_label(zone_name)})"
    if not rrule:
        return f"Once, on {seen:%a} {_day(seen)} {at}"
    parts = _parts(rrule)
    shift = (seen.date() - local.date()).days
    if shift and parts.get("FREQ") == "MONTHLY":
        # "the day after the 2nd Tuesday" helps nobody: tell it as the series' zone keeps it
        seen, shift = local, 0
        at = f"at {local:%H:%M} {zone_label(zone_name)}"
    how = _how_often(parts, seen, shift)
    return f"{how} {at}, from {_day(seen)}, {_ends(parts, sessions_limit, viewer_tz, seen.year)}"
