"""How long Zoom asks us to wait: `Retry-After` parsing (the jobs do the waiting:
services/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

# A bare number this large is a Unix time, not a number of seconds to wait.
_EPOCH_SECONDS = 1_000_000_000
_EPOCH_MILLIS = 1_000_000_000_000


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header, or None when absent or unreadable.

    Zoom sends seconds for per-second limits and a timestamp (the reset time) for
    daily ones. Accepted: `2`, `1.5`, a Unix time in seconds or milliseconds, an
    ISO 8601 instant (`2026-12-02T00:00:00Z`) and an HTTP-date. `now` is Unix
    seconds; a reset time already past means "no wait".
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number != number or number < 0:  # NaN or negative: unreadable
            return None
        if number >= _EPOCH_MILLIS:
            return max(0.0, number / 1000 - now)
        if number >= _EPOCH_SECONDS:
            return max(0.0, number - now)
        return number
    moment = _parse_instant(text)
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - now)


def _parse_instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:  # both forms mean UTC when no offset is given
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
