"""Availability that ends at midnight (24:00), on ordinary and DST days.

Every expected instant below is written out in UTC by hand from the zone's offsets, as
`zdump -v -c 2026,2027 <zone>` prints them:
- America/New_York: EST (-5) until Sun 8 Mar 2026 02:00 → EDT (-4); back to EST on
  Sun 1 Nov 2026 at 02:00 EDT (that day has 25 hours, 8 Mar has 23).
- America/Santiago: Sat 4 Apr 2026 24:00 (-3) → 23:00 (-4), so Saturday's 23:00–24:00
  happens twice; Sat 5 Sep 2026 24:00 (-4) → Sun 01:00 (-3), so Sunday's 00:00 does not
  exist and Saturday ends at 04:00 UTC.
- Europe/Berlin: CET (+1) in January.
"""

from datetime import datetime, time, timedelta, timezone

import pytest

from therabee.scheduling.conflicts import END_OF_DAY, Busy, WeeklyHours, free_slots, within_availability

UTC = timezone.utc
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
STEP = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def every(first: datetime, count: int, step: timedelta = STEP) -> list[datetime]:
    return [first + k * step for k in range(count)]


MON, SAT, SUN = 0, 5, 6
EVENING_TO_MIDNIGHT = [WeeklyHours(day, time(20), END_OF_DAY) for day in range(7)]
WHOLE_DAY = [WeeklyHours(day, time(0), END_OF_DAY) for day in range(7)]
SANTIAGO_LATE = [WeeklyHours(SAT, time(22), END_OF_DAY)]

# (what, zone, weekly hours, session start, session end, fits)
WITHIN = [
    ("NY winter Monday 23:00-24:00", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 13, 4), utc(2026, 1, 13, 5), True),
    ("NY 23:30 for an hour runs past midnight", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 13, 4, 30), utc(2026, 1, 13, 5, 30), False),
    ("NY 23:59-24:00, the last minute", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 13, 4, 59), utc(2026, 1, 13, 5), True),
    ("NY 19:30-20:30 starts before the block", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 13, 0, 30), utc(2026, 1, 13, 1, 30), False),
    ("NY summer 23:00-24:00 EDT", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 7, 14, 3), utc(2026, 7, 14, 4), True),
    ("NY spring-forward day (23 h): 23:00-24:00 EDT", "America/New_York", WHOLE_DAY,
     utc(2026, 3, 9, 3), utc(2026, 3, 9, 4), True),
    ("NY spring-forward day: 00:00-01:00 EST, the first hour", "America/New_York", WHOLE_DAY,
     utc(2026, 3, 8, 5), utc(2026, 3, 8, 6), True),
    ("NY fall-back day (25 h): 23:00-24:00 EST", "America/New_York", WHOLE_DAY,
     utc(2026, 11, 2, 4), utc(2026, 11, 2, 5), True),
    ("NY fall-back day: 01:00 EST, the repeated hour", "America/New_York", WHOLE_DAY,
     utc(2026, 11, 1, 6), utc(2026, 11, 1, 7), True),
    ("NY fall-back day: 23:30 EST for an hour", "America/New_York", WHOLE_DAY,
     utc(2026, 11, 2, 4, 30), utc(2026, 11, 2, 5, 30), False),
    ("Santiago, midnight skipped: 23:00-24:00 (-4) ends when Sunday begins", "America/Santiago",
     SANTIAGO_LATE, utc(2026, 9, 6, 3), utc(2026, 9, 6, 4), True),
    ("Santiago, midnight skipped: 23:30 for an hour", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 9, 6, 3, 30), utc(2026, 9, 6, 4, 30), False),
    ("Santiago, 23:00 twice: the first 23:00 (-3)", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 4, 5, 2), utc(2026, 4, 5, 3), True),
    ("Santiago, 23:00 twice: the second 23:00 (-4) up to midnight", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 4, 5, 3), utc(2026, 4, 5, 4), True),
    ("Santiago, 23:00 twice: second 23:30 for an hour", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 4, 5, 3, 30), utc(2026, 4, 5, 4, 30), False),
    ("Berlin Monday 23:00-24:00 CET", "Europe/Berlin", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 5, 22), utc(2026, 1, 5, 23), True),
    ("an end of 23:59 is not midnight", "Europe/Berlin", [WeeklyHours(MON, time(20), time(23, 59))],
     utc(2026, 1, 5, 22), utc(2026, 1, 5, 23), False),
    ("a block to midnight does not run on into the next day's block", "Europe/Berlin",
     [WeeklyHours(MON, time(20), END_OF_DAY), WeeklyHours(MON + 1, time(0), time(3))],
     utc(2026, 1, 5, 22), utc(2026, 1, 6, 0), False),
]


@pytest.mark.parametrize("zone_name, weekly, start, end, fits",
                         [case[1:] for case in WITHIN], ids=[case[0] for case in WITHIN])
def test_within_availability_with_blocks_ending_at_midnight(zone_name, weekly, start, end, fits):
    assert within_availability(weekly, zone_name, start, end) is fits


# (what, zone, weekly hours, window from, window to, minutes, expected starts)
SLOTS = [
    ("NY winter evening: 60 min up to 23:00", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 12, 5), utc(2026, 1, 13, 5), 60, every(utc(2026, 1, 13, 1), 7)),
    ("NY winter evening: 30 min up to 23:30", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 1, 12, 5), utc(2026, 1, 13, 5), 30, every(utc(2026, 1, 13, 1), 8)),
    ("NY summer evening: 60 min up to 23:00 EDT", "America/New_York", EVENING_TO_MIDNIGHT,
     utc(2026, 7, 13, 4), utc(2026, 7, 14, 4), 60, every(utc(2026, 7, 14, 0), 7)),
    # 00:00 EST (05:00Z) to 24:00 EDT (04:00Z next day): 23 hours, last hour from 03:00Z;
    # local 02:00 and 02:30 do not exist and are offered once, as 03:00 and 03:30 EDT.
    ("NY spring-forward day, 60 min", "America/New_York", WHOLE_DAY,
     utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 60, every(utc(2026, 3, 8, 5), 45)),
    # 00:00 EDT (04:00Z) to 24:00 EST (05:00Z next day): 25 hours; the repeated 01:00 and
    # 01:30 are offered at their first instant only (EDT), so 06:00Z and 06:30Z are not.
    ("NY fall-back day, 60 min", "America/New_York", WHOLE_DAY,
     utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), 60,
     every(utc(2026, 11, 1, 4), 4) + every(utc(2026, 11, 1, 7), 43)),
    ("Santiago, midnight skipped: 22:00, 22:30, 23:00 (-4)", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 9, 5, 4), utc(2026, 9, 6, 4), 60, every(utc(2026, 9, 6, 2), 3)),
    ("Santiago, 23:00 twice: from 22:00 (-3), first instants only", "America/Santiago", SANTIAGO_LATE,
     utc(2026, 4, 4, 3), utc(2026, 4, 5, 4), 60, every(utc(2026, 4, 5, 1), 4)),
]


@pytest.mark.parametrize("zone_name, weekly, from_, to, minutes, expected",
                         [case[1:] for case in SLOTS], ids=[case[0] for case in SLOTS])
def test_free_slots_with_blocks_ending_at_midnight(zone_name, weekly, from_, to, minutes, expected):
    slots = free_slots(weekly, zone_name, [], from_, to, timedelta(minutes=minutes), STEP)
    assert [s.start for s in slots] == expected
    assert all(s.end - s.start == timedelta(minutes=minutes) for s in slots)


def test_every_slot_offered_fits_the_hours_it_came_from():
    for _, zone_name, weekly, from_, to, minutes, _ in SLOTS:
        for slot in free_slots(weekly, zone_name, [], from_, to, timedelta(minutes=minutes), STEP):
            assert within_availability(weekly, zone_name, slot.start, slot.end), (zone_name, slot)


def test_a_session_up_to_midnight_leaves_the_slot_before_it():
    busy = [Busy(utc(2026, 1, 13, 4), utc(2026, 1, 13, 5))]  # 23:00-24:00 New York, taken
    slots = free_slots(EVENING_TO_MIDNIGHT, "America/New_York", busy, utc(2026, 1, 12, 5), utc(2026, 1, 13, 5),
                       HOUR, STEP)
    assert [s.start for s in slots] == every(utc(2026, 1, 13, 1), 5)  # 20:00 ... 22:00 local


def test_overlapping_blocks_offer_each_start_once():
    weekly = [WeeklyHours(MON, time(9), time(12)), WeeklyHours(MON, time(11), time(13))]
    slots = free_slots(weekly, "Europe/Berlin", [], utc(2026, 1, 5), utc(2026, 1, 6), HOUR, STEP)
    assert [s.start for s in slots] == every(utc(2026, 1, 5, 8), 7)  # 09:00 ... 12:00 CET
