"""`last_start`: the rule's last original start, from a hand-computed table.

Every expected instant is written out in UTC by hand from America/New_York's offsets
(`zdump -v -c 2026,2027 America/New_York`): EST (-5) until Sun 8 Mar 2026 02:00, then EDT
(-4), so 02:30 on 8 Mar does not exist and becomes 03:30 EDT (DESIGN.md rule 4). Weekdays
from the 2026 calendar: 1 Jan is a Thursday, 2 Mar a Monday, 30 Jan and 27 Mar Fridays.
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from therabee.scheduling import expand as expand_module
from therabee.scheduling.expand import Cursor, SeriesSpec, last_start
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import zone

ZONE = "America/New_York"
UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def spec(first: datetime, rrule: str | None, cursor: Cursor | None = None,
         ends_before: datetime | None = None, sessions_limit: int | None = None) -> SeriesSpec:
    return SeriesSpec("s", first, ZONE, timedelta(minutes=50), parse_rule(rrule, zone(ZONE)),
                      sessions_limit=sessions_limit, ends_before=ends_before, cursor=cursor)


MON_2_MAR_10 = utc(2026, 3, 2, 15)  # 10:00 EST
THU_1_JAN_10 = utc(2026, 1, 1, 15)  # 10:00 EST

# (what, series, its last original start)
TABLE = [
    ("a one-off: its start", spec(utc(2026, 3, 10, 14), None), utc(2026, 3, 10, 14)),
    ("weekly COUNT=4 across spring forward: Mon 23 Mar 10:00 EDT",
     spec(MON_2_MAR_10, "FREQ=WEEKLY;COUNT=4"), utc(2026, 3, 23, 14)),
    ("the same from a cursor at the third (index 2)",
     spec(MON_2_MAR_10, "FREQ=WEEKLY;COUNT=4", Cursor(utc(2026, 3, 16, 14), 2)), utc(2026, 3, 23, 14)),
    ("every other week, COUNT=3: 5 Jan, 19 Jan, 2 Feb",
     spec(utc(2026, 1, 5, 15), "FREQ=WEEKLY;INTERVAL=2;COUNT=3"), utc(2026, 2, 2, 15)),
    ("Mon and Thu 18:00, COUNT=5: 5, 8, 12, 15, 19 Jan",
     spec(utc(2026, 1, 5, 23), "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=5"), utc(2026, 1, 19, 23)),
    ("last Friday monthly, COUNT=3: 30 Jan, 27 Feb, 27 Mar (EDT)",
     spec(utc(2026, 1, 30, 15), "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"), utc(2026, 3, 27, 14)),
    ("daily UNTIL exactly the 5 Jan start: included",
     spec(THU_1_JAN_10, "FREQ=DAILY;UNTIL=20260105T150000Z"), utc(2026, 1, 5, 15)),
    ("daily UNTIL one second before the 5 Jan start: 4 Jan",
     spec(THU_1_JAN_10, "FREQ=DAILY;UNTIL=20260105T145959Z"), utc(2026, 1, 4, 15)),
    ("daily UNTIL a date: that whole day in the zone",
     spec(THU_1_JAN_10, "FREQ=DAILY;UNTIL=20260105"), utc(2026, 1, 5, 15)),
    ("daily 02:30 COUNT=3: the third is 8 Mar, 02:30 missing → 03:30 EDT",
     spec(utc(2026, 3, 6, 7, 30), "FREQ=DAILY;COUNT=3"), utc(2026, 3, 8, 7, 30)),
    ("daily 02:30 COUNT=4 from a cursor on the spring-forward day: 10 Mar 02:30 EDT",
     spec(utc(2026, 3, 7, 7, 30), "FREQ=DAILY;COUNT=4", Cursor(utc(2026, 3, 8, 7, 30), 1)),
     utc(2026, 3, 10, 6, 30)),
    ("open-ended weekly ended before its fourth: the third",
     spec(MON_2_MAR_10, "FREQ=WEEKLY", ends_before=utc(2026, 3, 23, 14)), utc(2026, 3, 16, 14)),
    ("the same with the cursor at the end: counted from the first",
     spec(MON_2_MAR_10, "FREQ=WEEKLY", Cursor(utc(2026, 3, 23, 14), 3), utc(2026, 3, 23, 14)),
     utc(2026, 3, 16, 14)),
    ("COUNT=10 ended before its third: the second",
     spec(MON_2_MAR_10, "FREQ=WEEKLY;COUNT=10", ends_before=utc(2026, 3, 16, 14)), utc(2026, 3, 9, 14)),
    ("UNTIL before ends_before: the UNTIL's last, Mon 30 Mar",
     spec(MON_2_MAR_10, "FREQ=WEEKLY;UNTIL=20260401T000000Z", ends_before=utc(2026, 4, 20, 14)),
     utc(2026, 3, 30, 14)),
    ("open-ended weekly: none", spec(MON_2_MAR_10, "FREQ=WEEKLY"), None),
    ("open-ended with a sessions_limit: the limit is not applied here",
     spec(MON_2_MAR_10, "FREQ=WEEKLY", sessions_limit=3), None),
    ("a one-off ended at its own start: nothing is left",
     spec(utc(2026, 3, 10, 14), None, ends_before=utc(2026, 3, 10, 14)), None),
]


@pytest.mark.parametrize("what, series, expected", TABLE, ids=[row[0] for row in TABLE])
def test_last_start_matches_the_hand_computed_table(what, series, expected):
    assert last_start(series) == expected


def test_last_start_counts_from_the_cursor(monkeypatch):
    """A 520-week series whose cursor is at its 516th occurrence walks five steps, not 520."""
    calls = []
    real = expand_module.to_instant
    monkeypatch.setattr(expand_module, "to_instant", lambda local, tz: calls.append(local) or real(local, tz))
    first = utc(2024, 1, 8, 15)  # Mon 8 Jan 2024 10:00 EST
    series = spec(first, "FREQ=WEEKLY;COUNT=520")
    # 515 weeks on is Mon 21 Nov 2033, after DST ended on 6 Nov: 10:00 EST again, 15:00 UTC;
    # the 520th is four weeks later, Mon 19 Dec 2033.
    cursor_start = utc(2033, 11, 21, 15)
    assert last_start(replace(series, cursor=Cursor(cursor_start, 515))) == utc(2033, 12, 19, 15)
    assert len(calls) <= 6
