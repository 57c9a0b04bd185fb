"""The one place services read the time; the benchmark and tests swap it for a simulated clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Use `fn` as the clock (None: the real one)."""
    global _now
    _now = fn or (lambda: datetime.now(timezone.utc))
