"""The dates the date-sensitive tests (`pytest -m dated`) are run on, and how a test run hands
its pinned clock to the processes it starts.

`make test-dates` runs those tests once per line of `python -m therabee.testing.dates`, with
THERABEE_TEST_NOW set to it (a date: 10:00 UTC that day, settings.PINNED_TIME): the day before
and the day of each DST change this year in America/New_York and Europe/Berlin, 31 December,
29 February of the next leap year, and today.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from therabee.services import clock

DST_ZONES = ("America/New_York", "Europe/Berlin")


def dst_changes(zone: str, year: int) -> list[date]:
    """The local dates in `year` on which `zone`'s UTC offset changes."""
    tz = ZoneInfo(zone)
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]

    def offset(day: date) -> timedelta:
        return datetime.combine(day, time(0), tz).utcoffset()

    return [day for day in days if day.year == year and offset(day) != offset(day + timedelta(days=1))]


def next_leap_day(today: date) -> date:
    year = today.year
    while not (calendar.isleap(year) and date(year, 2, 29) >= today):
        year += 1
    return date(year, 2, 29)


def pinned_dates(today: date) -> list[date]:
    days = {today, date(today.year, 12, 31), next_leap_day(today)}
    for zone in DST_ZONES:
        for change in dst_changes(zone, today.year):
            days |= {change - timedelta(days=1), change}
    return sorted(days)


def child_env() -> dict[str, str]:
    """THERABEE_TEST_NOW and THERABEE_TEST_NOW_AT for a process this test run starts: the
    instant this process's pinned clock reads and the real instant it reads it at ({} when
    the clock is not pinned). The child's clock is then the same shifted clock as ours."""
    own = clock.process_clock()
    if own is clock.real:
        return {}
    at = clock.real()
    return {"THERABEE_TEST_NOW": own().isoformat(), "THERABEE_TEST_NOW_AT": at.isoformat()}


if __name__ == "__main__":
    print("\n".join(day.isoformat() for day in pinned_dates(clock.real().date())))
