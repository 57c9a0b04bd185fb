"""RRULE validation: the supported subset of RFC 5545, parsed by python-dateutil.

Supported: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (several weekdays; n-th
weekday such as 2TU or -1FR for MONTHLY), BYMONTHDAY, COUNT, UNTIL, WKST.
Everything else is refused with a RuleError naming the part.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from dateutil.rrule import rrule, rrulestr

SUPPORTED_FREQS = ("DAILY", "WEEKLY", "MONTHLY")
SUPPORTED_PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST")
MAX_INTERVAL = 52
MAX_RULE_LENGTH = 500


class RuleError(ValueError):
    """A rule we cannot accept; `field` is the request field, `part` the rule part."""

    def __init__(self, message: str, part: str | None = None, field: str = "rrule"):
        super().__init__(message)
        self.field = field
        self.part = part
        self.message = message


@dataclass(frozen=True)
class Rule:
    """A validated rule. `body` is the RRULE without COUNT/UNTIL, which are kept apart
    so expansion can restart from a cursor and ending a series never rewrites text."""

    text: str
    body: str
    freq: str
    count: int | None
    until: datetime | None  # aware UTC; a date-only UNTIL is the end of that day in the zone
    until_is_date: bool

    @cached_property
    def _parsed(self) -> rrule:
        # Parsed once; `replace` re-derives what the text leaves implicit (such as the
        # weekday of a plain weekly rule) from the new dtstart.
        return rrulestr(self.body, dtstart=datetime(2000, 1, 3, 10, 0))

    def build(self, dtstart_local: datetime, count: int | None = None,
              until_local: datetime | None = None) -> rrule:
        """A dateutil rrule over naive local times, starting at `dtstart_local`."""
        return self._parsed.replace(dtstart=dtstart_local, count=count, until=until_local)


def _split(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in text.split(";"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        key = key.strip().upper()
        if not sep or not key or not value.strip():
            raise RuleError(f"'{chunk}' is not a NAME=VALUE part", part=chunk)
        if key in parts:
            raise RuleError(f"{key} appears twice", part=key)
        parts[key] = value.strip().upper()
    return parts


def _parse_until(value: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise RuleError(f"UNTIL={value} is not a date or a UTC date-time", part="UNTIL") from exc
    if len(value) == 8:  # a date: the whole day counts, in the series' zone
        end_of_day = datetime.combine(parsed.date(), datetime.max.time()).replace(microsecond=0)
        return end_of_day.replace(tzinfo=tz, fold=0).astimezone(timezone.utc), True
    if parsed.tzinfo is None:
        raise RuleError(f"UNTIL={value} must be in UTC (end with Z)", part="UNTIL")
    return parsed.astimezone(timezone.utc), False


def parse_rule(text: str | None, tz: ZoneInfo, max_count: int = 520) -> Rule | None:
    """Validate an RRULE (no DTSTART) against the supported subset; None means one-off."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise RuleError("must be a string or null")
    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    if not raw:
        raise RuleError("is empty; use null for a one-off session")
    if len(raw) > MAX_RULE_LENGTH:
        raise RuleError(f"is longer than {MAX_RULE_LENGTH} characters")
    if "\n" in raw or "DTSTART" in raw.upper():
        raise RuleError("must be a single RRULE without DTSTART", part="DTSTART")
    parts = _split(raw)
    for key in parts:
        if key not in SUPPORTED_PARTS:
            raise RuleError(f"{key} is not supported (supported: {', '.join(SUPPORTED_PARTS)})", part=key)
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("FREQ is required", part="FREQ")
    if freq not in SUPPORTED_FREQS:
        raise RuleError(f"FREQ={freq} is not supported (DAILY, WEEKLY or MONTHLY)", part="FREQ")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL cannot both be given", part="COUNT")
    if "INTERVAL" in parts:
        if not parts["INTERVAL"].isdigit() or not 1 <= int(parts["INTERVAL"]) <= MAX_INTERVAL:
            raise RuleError(f"INTERVAL must be a whole number from 1 to {MAX_INTERVAL}", part="INTERVAL")
    count = None
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or not 1 <= int(parts["COUNT"]) <= max_count:
            raise RuleError(f"COUNT must be a whole number from 1 to {max_count}", part="COUNT")
        count = int(parts["COUNT"])
    if "BYDAY" in parts and freq != "MONTHLY":
        if any(not day.isalpha() for day in parts["BYDAY"].split(",")):
            raise RuleError("an n-th weekday (such as 2TU) needs FREQ=MONTHLY", part="BYDAY")
    if "BYMONTHDAY" in parts and freq != "MONTHLY":
        raise RuleError("BYMONTHDAY needs FREQ=MONTHLY", part="BYMONTHDAY")
    if "BYMONTHDAY" in parts:
        for day in parts["BYMONTHDAY"].split(","):
            if not day.lstrip("-").isdigit() or not 1 <= abs(int(day)) <= 31:
                raise RuleError(f"BYMONTHDAY={day} must be 1..31 or -31..-1", part="BYMONTHDAY")
    if "BYDAY" in parts:
        for day in parts["BYDAY"].split(","):
            # dateutil accepts 6TU, which never occurs and makes expansion scan to year 9999
            if day[:-2].lstrip("+-").isdigit() and not 1 <= int(day[:-2].lstrip("+-")) <= 5:
                raise RuleError(f"BYDAY={day}: the n-th weekday must be 1..5 or -5..-1", part="BYDAY")
    if "BYDAY" in parts and freq == "DAILY":
        raise RuleError("BYDAY is not supported with FREQ=DAILY", part="BYDAY")
    until, until_is_date = (None, False)
    if "UNTIL" in parts:
        until, until_is_date = _parse_until(parts["UNTIL"], tz)
    body = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("COUNT", "UNTIL"))
    try:
        rrulestr(body, dtstart=datetime(2000, 1, 3, 10, 0))
    except (ValueError, KeyError, TypeError) as exc:
        part = _guess_part(str(exc), parts)
        raise RuleError(f"cannot be parsed: {exc}", part=part) from exc
    normalized = ";".join(f"{k}={v}" for k, v in parts.items())
    return Rule(text=normalized, body=body, freq=freq, count=count, until=until,
                until_is_date=until_is_date)


def _guess_part(message: str, parts: dict[str, str]) -> str | None:
    for key, value in parts.items():
        if value in message or key.lower() in message.lower():
            return key
    for key in ("BYDAY", "BYMONTHDAY", "WKST"):
        if key in parts:
            return key
    return None

