"""The one place the app reads the time; the benchmark and tests swap it for a simulated clock.

A test run may set every process's clock to another instant (THERABEE_TEST_NOW, accepted
only with THERABEE_TESTING=1: see settings.py). That clock is the real one shifted, so it
runs at the real pace (timeouts and "in two minutes" still work) and the processes of one
run agree on the time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from therabee.settings import Settings, get_settings


def real() -> datetime:
    return datetime.now(timezone.utc)


def shifted(offset: timedelta) -> Callable[[], datetime]:
    """The real clock moved by `offset`: it runs at the real pace, and every process given
    the same offset reads the same instant at the same moment."""
    return lambda: real() + offset


def pinned(settings: Settings) -> Callable[[], datetime]:
    """The clock of a pinned test run: THERABEE_TEST_NOW was the time at the real instant
    THERABEE_TEST_NOW_AT (a child process gets both from its parent, so their clocks agree
    however late the child first reads its own); without _AT, at this first read."""
    return shifted(settings.test_now - (settings.test_now_at or real()))


_process_clock: Callable[[], datetime] | None = None  # real or pinned, chosen at the first read
_now: Callable[[], datetime] | None = None  # set_clock's


def process_clock() -> Callable[[], datetime]:
    """This process's own clock: the real one, or the test run's pinned one (read once)."""
    global _process_clock
    if _process_clock is None:
        settings = get_settings()
        _process_clock = pinned(settings) if settings.test_now else real
    return _process_clock


def now() -> datetime:
    return (_now or process_clock())()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Use `fn` as the clock (None: the process's own clock again)."""
    global _now
    _now = fn
