"""The one place the app reads the time; the benchmark and tests swap it for a simulated clock.

A test run may start every process's clock at another instant (THERABEE_TEST_NOW, accepted
only with THERABEE_TESTING=1: see settings.py). That clock runs forward from the instant at
the real pace, so timeouts and "in two minutes" still work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from therabee.settings import get_settings


def real() -> datetime:
    return datetime.now(timezone.utc)


def running_from(instant: datetime) -> Callable[[], datetime]:
    """A clock that reads `instant` now and then runs forward (monotonic elapsed time)."""
    started = time.monotonic()
    return lambda: instant + timedelta(seconds=time.monotonic() - started)


_process_clock: Callable[[], datetime] | None = None  # real or pinned, chosen at the first read
_now: Callable[[], datetime] | None = None  # set_clock's


def process_clock() -> Callable[[], datetime]:
    """This process's own clock: the real one, or the test run's pinned one (read once)."""
    global _process_clock
    if _process_clock is None:
        pinned = get_settings().test_now
        _process_clock = running_from(pinned) if pinned else real
    return _process_clock


def now() -> datetime:
    return (_now or process_clock())()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Use `fn` as the clock (None: the process's own clock again)."""
    global _now
    _now = fn
