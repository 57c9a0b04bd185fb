"""Free slots on DST nights (DESIGN.md rule 4), product and reference calendar alike.

Slots start at the block's start plus whole steps of wall-clock time. A local time that
does not exist (spring forward) becomes its instant moved forward by the gap, which is the
same instant as the local time one hour later, so it is offered once. An ambiguous local
time (fall back) takes its first instant, so the repeated hour's second half-hours are not
on the grid. The stateful API test (tests/integration/test_calendar_stateful.py) compares
the product with the reference calendar (reliability/reference_calendar.py) after random
steps near these nights; here both are held to the same instants, written out in UTC by
hand from the zones' offsets (`zdump -v -c 2027,2028 <zone>`):

- America/New_York: Sun 14 Mar 2027 02:00 EST (-5) → 03:00 EDT (-4), at 07:00Z;
  Sun 7 Nov 2027 02:00 EDT → 01:00 EST, at 06:00Z (01:00–02:00 happens twice).
- Europe/Berlin: Sun 28 Mar 2027 02:00 CET (+1) → 03:00 CEST (+2), at 01:00Z;
  Sun 31 Oct 2027 03:00 CEST → 02:00 CET, at 01:00Z (02:00–03:00 happens twice).
- Australia/Sydney: Sun 3 Oct 2027 02:00 AEST (+10) → 03:00 AEDT (+11), at 16:00Z (2 Oct);
  Sun 4 Apr 2027 03:00 AEDT → 02:00 AEST, at 16:00Z (3 Apr) (02:00–03:00 happens twice).

Each window is the DST day, local midnight to local midnight; sessions are 50 minutes, so
with hours 00:00–23:30 the last start is 22:30 local.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from reliability import reference_calendar as ref
from therabee.scheduling.calendar import Calendar, SeriesState
from therabee.scheduling.conflicts import END_OF_DAY, WeeklyHours
from therabee.scheduling.expand import SeriesSpec
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import zone

UTC = timezone.utc
STEP = timedelta(minutes=30)
SESSION = timedelta(minutes=50)
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:30"} for d in range(7)]
TO_MIDNIGHT = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def half_hours(first: datetime, last: datetime) -> list[datetime]:
    """`first`, `first` + 30 min, ... up to and including `last` (UTC arithmetic)."""
    return [first + k * STEP for k in range(int((last - first) / STEP) + 1)]


def _blocks(weekly: list[dict]) -> list[WeeklyHours]:
    return [WeeklyHours(b["weekday"], time.fromisoformat(b["start"]),
                        END_OF_DAY if b["end"] == "24:00" else time.fromisoformat(b["end"])) for b in weekly]


def product_slots(weekly: list[dict], zone_name: str, from_: datetime, to: datetime,
                  series: tuple[SeriesSpec, ...] = ()) -> list[datetime]:
    calendar = Calendar(tuple(SeriesState(spec, "t") for spec in series))
    return [s.start for s in calendar.free(_blocks(weekly), zone_name, from_, to, SESSION, STEP)]


def reference_slots(weekly: list[dict], zone_name: str, from_: datetime, to: datetime,
                    series: tuple[ref.Series, ...] = ()) -> list[datetime]:
    return ref.Calendar(list(series), {"t": []}).free_slots("t", weekly, zone_name, from_, to, SESSION)


SLOTS = [
    pytest.param("America/New_York", ALL_DAY, utc(2027, 3, 14, 5), utc(2027, 3, 15, 4),
                 half_hours(utc(2027, 3, 14, 5), utc(2027, 3, 14, 6, 30))  # 00:00–01:30 EST
                 + half_hours(utc(2027, 3, 14, 7), utc(2027, 3, 15, 2, 30)),  # 03:00–22:30 EDT
                 id="new-york-spring-forward"),
    pytest.param("America/New_York", TO_MIDNIGHT, utc(2027, 3, 14, 5), utc(2027, 3, 15, 4),
                 half_hours(utc(2027, 3, 14, 5), utc(2027, 3, 14, 6, 30))  # 00:00–01:30 EST
                 + half_hours(utc(2027, 3, 14, 7), utc(2027, 3, 15, 3)),  # 03:00–23:00 EDT
                 id="new-york-spring-forward-to-midnight"),
    pytest.param("America/New_York", ALL_DAY, utc(2027, 11, 7, 4), utc(2027, 11, 8, 5),
                 half_hours(utc(2027, 11, 7, 4), utc(2027, 11, 7, 5, 30))  # 00:00–01:30 EDT
                 + half_hours(utc(2027, 11, 7, 7), utc(2027, 11, 8, 3, 30)),  # 02:00–22:30 EST
                 id="new-york-fall-back"),
    pytest.param("Europe/Berlin", ALL_DAY, utc(2027, 3, 27, 23), utc(2027, 3, 28, 22),
                 half_hours(utc(2027, 3, 27, 23), utc(2027, 3, 28, 0, 30))  # 00:00–01:30 CET
                 + half_hours(utc(2027, 3, 28, 1), utc(2027, 3, 28, 20, 30)),  # 03:00–22:30 CEST
                 id="berlin-spring-forward"),
    pytest.param("Europe/Berlin", ALL_DAY, utc(2027, 10, 30, 22), utc(2027, 10, 31, 23),
                 half_hours(utc(2027, 10, 30, 22), utc(2027, 10, 31, 0, 30))  # 00:00–02:30 CEST
                 + half_hours(utc(2027, 10, 31, 2), utc(2027, 10, 31, 21, 30)),  # 03:00–22:30 CET
                 id="berlin-fall-back"),
    pytest.param("Australia/Sydney", ALL_DAY, utc(2027, 10, 2, 14), utc(2027, 10, 3, 13),
                 half_hours(utc(2027, 10, 2, 14), utc(2027, 10, 2, 15, 30))  # 00:00–01:30 AEST
                 + half_hours(utc(2027, 10, 2, 16), utc(2027, 10, 3, 11, 30)),  # 03:00–22:30 AEDT
                 id="sydney-spring-forward"),
    pytest.param("Australia/Sydney", ALL_DAY, utc(2027, 4, 3, 13), utc(2027, 4, 4, 14),
                 half_hours(utc(2027, 4, 3, 13), utc(2027, 4, 3, 15, 30))  # 00:00–02:30 AEDT
                 + half_hours(utc(2027, 4, 3, 17), utc(2027, 4, 4, 12, 30)),  # 03:00–22:30 AEST
                 id="sydney-fall-back"),
]


@pytest.mark.parametrize("slots", [product_slots, reference_slots], ids=["product", "reference"])
@pytest.mark.parametrize("zone_name, weekly, from_, to, expected", SLOTS)
def test_slots_on_a_dst_night_offer_each_instant_once_by_the_gap_and_fold_policy(slots, zone_name, weekly,
                                                                                from_, to, expected):
    assert slots(weekly, zone_name, from_, to) == expected


def test_the_hand_written_dst_days_have_the_hours_they_should():
    """The windows above are local days of 23 and 25 hours, and 50 minutes before the block's
    end is 22:30 local (23:00 for a block to midnight): the tables are not off by an hour."""
    days = {param.id: param.values for param in SLOTS}
    for name, hours in (("new-york-spring-forward", 23), ("new-york-fall-back", 25), ("berlin-spring-forward", 23),
                        ("berlin-fall-back", 25), ("sydney-spring-forward", 23), ("sydney-fall-back", 25)):
        zone_name, _, from_, to, expected = days[name]
        assert to - from_ == timedelta(hours=hours), name
        assert (expected[-1].astimezone(zone(zone_name)).time(), len(expected)) == (
            time(22, 30), 44 if hours == 23 else 46), name


@pytest.mark.parametrize("slots, series", [
    (product_slots, SeriesSpec("s", utc(2027, 3, 13, 7, 30), "America/New_York", SESSION,
                               parse_rule("FREQ=DAILY;COUNT=3", zone("America/New_York")))),
    (reference_slots, ref.Series("s", "t", "c", utc(2027, 3, 13, 7, 30), "America/New_York", SESSION,
                                 "FREQ=DAILY;COUNT=3")),
], ids=["product", "reference"])
def test_a_0230_session_on_the_spring_forward_night_is_busy_at_0330_edt(slots, series):
    """A daily series from Sat 13 Mar 02:30 EST (07:30Z): on the 14th 02:30 does not exist, so
    that session is 03:30–04:20 EDT (07:30Z–08:20Z). It takes the slots starting 03:00, 03:30
    and 04:00 EDT (07:00Z, 07:30Z, 08:00Z); 01:30 EST (06:30Z–07:20Z) still fits before it."""
    expected = (half_hours(utc(2027, 3, 14, 5), utc(2027, 3, 14, 6, 30))
                + half_hours(utc(2027, 3, 14, 8, 30), utc(2027, 3, 15, 2, 30)))
    assert slots(ALL_DAY, "America/New_York", utc(2027, 3, 14, 5), utc(2027, 3, 15, 4), (series,)) == expected
