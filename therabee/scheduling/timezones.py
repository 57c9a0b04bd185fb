"""Wall-clock policy (DESIGN.md rule 4).

A series keeps its local wall-clock time in its zone. Converting a local time to an
instant uses `fold=0`, which gives exactly the written policy:
- a local time that does not exist (spring forward) moves forward by the gap
  (02:30 on the New York spring-forward day becomes 03:30 EDT);
- an ambiguous local time (fall back) takes the first instant (01:30 EDT, not EST).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class UnknownZone(ValueError):
    """Not an IANA time zone name."""


@lru_cache(maxsize=None)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; raises UnknownZone for anything else."""
    if not isinstance(name, str) or name not in _known_zones():
        raise UnknownZone(f"{name!r} is not an IANA time zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(f"{name!r} is not an IANA time zone") from exc


def to_instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `tz` → aware UTC instant, by the policy above."""
    return local.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """An aware instant → naive wall-clock time in `tz`."""
    return instant.astimezone(tz).replace(tzinfo=None)


def utc(instant: datetime) -> datetime:
    """An aware datetime in UTC; naive input is refused (we never guess a zone)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: an offset or zone is required")
    return instant.astimezone(timezone.utc)
